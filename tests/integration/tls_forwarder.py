"""A TLS-terminating TCP forwarder for tests: HTTPS on a loopback port, piped to the simulator's plain HTTP.

The simulator serves plain HTTP only; this puts a real TLS server (certificate from a test CA made by
`trustme`) in front of it, so the collection's HTTPS path (certificate check, CA bundle) runs for real.
The bytes are piped unchanged (the Host header keeps the forwarder's address).
"""
from __future__ import annotations

import selectors
import socket
import socketserver
import ssl
import threading


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            client = self.server.tls.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):  # the client refused our certificate: what some tests expect
            return
        with client, socket.create_connection(("127.0.0.1", self.server.target_port)) as upstream:
            peers = {client: upstream, upstream: client}
            with selectors.DefaultSelector() as selector:
                for sock in peers:
                    selector.register(sock, selectors.EVENT_READ)
                while True:
                    for key, dummy_events in selector.select(timeout=30):
                        try:
                            data = key.fileobj.recv(65536)
                        except OSError:
                            return
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TlsForwarder:
    """with TlsForwarder(target_port, ca) as forwarder: https://127.0.0.1:{forwarder.port} reaches the target."""

    def __init__(self, target_port, ca):
        self.server = _Server(("127.0.0.1", 0), _Pipe)
        self.server.target_port = target_port
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.server.tls = context
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
