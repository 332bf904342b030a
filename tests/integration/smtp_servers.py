"""Real SMTP servers on loopback for the smart-host and mail-route tests (aiosmtpd, trustme).

Every server here is aiosmtpd's own SMTP implementation; the test only chooses its handler and TLS
setup. Certificates come from a throw-away test CA (trustme), including an expired one.
"""
from __future__ import annotations

import base64
import datetime
import email.utils
import smtplib
import socket
import ssl
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = "relay-user@example.test"
PASSWORD = "right-Pa55word"
SIZE_LIMIT = 10 * 1024 * 1024


def free_port():
    # aiosmtpd's Controller cannot take port 0 (it connects to itself to check it is up).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayCA:
    """A test CA, its PEM file for ca_path, and server contexts for chosen names and dates."""

    def __init__(self, tmp_path):
        self.ca = trustme.CA()
        self.ca_file = tmp_path / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self, *names, not_after=None):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*(names or ("localhost",)), not_after=not_after).configure_cert(context)
        return context

    def expired_context(self, name="localhost"):
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3)
        return self.server_context(name, not_after=past)


def check_password(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


def credentials_unavailable(server, session, envelope, mechanism, auth_data):
    """An authenticator whose user database is down: 454, a temporary failure (RFC 4954)."""
    return AuthResult(success=False, handled=False, message="454 4.7.0 Temporary authentication failure")


@dataclass
class Mailbox:
    """A sink handler: keeps every message it receives, and every MAIL FROM it was sent."""

    messages: list = field(default_factory=list)
    mail_from: list = field(default_factory=list)
    stamp: bool = False  # write a Received header on delivery, as the recipient's server does

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_from.append(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if self.stamp:
            data = received_header(server, session, envelope).encode() + data
        self.messages.append(data)
        return "250 2.0.0 Ok: queued"


class RecordingSMTP(SMTP):
    """aiosmtpd's server, keeping every byte the client sent (after TLS, the decrypted text) in `received`."""

    received = None

    def data_received(self, data):
        self.received.extend(data)
        super().data_received(data)


class RecordingController(Controller):
    """A Controller whose sessions all write what the peer received into `.received` (one bytearray)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = bytearray()

    def factory(self):
        server = RecordingSMTP(self.handler, **self.SMTP_kwargs)
        server.received = self.received
        return server


def password_forms(user=USER, password=PASSWORD):
    """The password as it crosses the wire: raw, base64 (AUTH LOGIN) and base64 of PLAIN's NUL-separated triple."""
    return [password.encode(), base64.b64encode(password.encode()),
            base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())]


def auth_commands(received):
    """The AUTH commands among the lines a server received."""
    return [line for line in bytes(received).split(b"\r\n") if line.upper().startswith(b"AUTH")]


def received_no_password(server):
    """Whether a RecordingController's server never saw an AUTH command nor the password in any form."""
    received = bytes(server.received)
    return auth_commands(received) == [] and not any(form in received for form in password_forms())


@contextmanager
def banner_server(banner):
    """A TCP listener on loopback that writes `banner` to each client and reads until it hangs up (an SSH server's
    first move), standing for a non-SMTP service; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, dummy = listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(5)
                connection.sendall(banner)
                try:
                    while connection.recv(4096):
                        pass
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


class BusyAtEhlo:
    """A handler that answers EHLO with 421, through aiosmtpd's documented handle_EHLO hook."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        return ["421 4.7.0 Too many connections from your address, try again later"]


class BusySMTP(SMTP):
    """aiosmtpd's server, greeting with 421 and hanging up, as an overloaded MTA does."""

    _greeted = False

    async def push(self, status):
        if not self._greeted:
            self._greeted = True
            await super().push("421 4.3.2 Service not available, closing transmission channel")
            self.transport.close()
            return
        await super().push(status)


class BusyController(Controller):
    def factory(self):
        return BusySMTP(self.handler, **self.SMTP_kwargs)


@contextmanager
def smtp_server(handler=None, *, hostname="smtp.example.test", tls_context=None, implicit_tls_context=None,
                auth=False, controller_class=RecordingController, data_size_limit=SIZE_LIMIT, **smtp_options):
    """Run one aiosmtpd server on 127.0.0.1 and yield its Controller (its port is `.port`).

    `tls_context` offers STARTTLS; `implicit_tls_context` makes the port speak TLS at once; `auth`
    turns on AUTH LOGIN/PLAIN with USER/PASSWORD (advertised only after STARTTLS when TLS is on), or
    with the authenticator it is given. The default controller keeps what the peer received in `.received`.
    """
    kwargs = dict(hostname="127.0.0.1", port=free_port(), server_hostname=hostname, data_size_limit=data_size_limit)
    if tls_context is not None:
        kwargs["tls_context"] = tls_context
    if implicit_tls_context is not None:
        kwargs["ssl_context"] = implicit_tls_context
    if auth:
        kwargs.update(authenticator=auth if callable(auth) else check_password, auth_required=False,
                      auth_require_tls=tls_context is not None or implicit_tls_context is not None)
    controller = controller_class(handler or Mailbox(), **kwargs, **smtp_options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def closed_port():
    """A loopback port with nothing listening on it."""
    return free_port()


def received_header(server, session, envelope):
    """The Received header a Postfix-like MTA writes, built from aiosmtpd's session for this message.

    aiosmtpd's handlers add no Received header (the Proxy handler adds only X-Peer), so the relay
    handler writes one from the facts aiosmtpd negotiated on the wire: the client's EHLO name and
    address, whether the session runs TLS (and which version and cipher), whether it authenticated,
    and the envelope recipient, in Postfix's layout and with RFC 3848 protocol names.
    """
    ip = session.peer[0]
    protocol = "ESMTP" if session.extended_smtp else "SMTP"
    tls_comment = ""
    if session.ssl:
        ssl_object = session.ssl.get("ssl_object")
        cipher = ssl_object.cipher() if ssl_object else None
        protocol += "S"
        if cipher:
            tls_comment = "\n\t(using %s with cipher %s (%d/%d bits))" % (ssl_object.version(), cipher[0], cipher[2], cipher[2])
    if session.authenticated:
        protocol += "A"
    recipient = "\n\tfor <%s>" % envelope.rcpt_tos[0] if len(envelope.rcpt_tos) == 1 else ""
    return "Received: from %s (unknown [%s])%s\n\tby %s (aiosmtpd) with %s id %s%s;\n\t%s\n" % (
        session.host_name, ip, tls_comment, server.hostname, protocol, uuid.uuid4().hex[:12].upper(), recipient,
        email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc).astimezone()))


@dataclass
class Relay:
    """A relay handler: prepends its Received header and forwards over SMTP (STARTTLS when offered)."""

    next_host: str
    next_port: int
    helo_name: str
    ca_file: str | None = None
    forwarded: int = 0

    async def handle_DATA(self, server, session, envelope):
        header = received_header(server, session, envelope).encode()
        data = header + (envelope.original_content or envelope.content)
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        with smtplib.SMTP(self.next_host, self.next_port, local_hostname=self.helo_name, timeout=10) as client:
            client.ehlo()
            if context is not None and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            client.sendmail(envelope.mail_from, envelope.rcpt_tos, data)
        self.forwarded += 1
        return "250 2.0.0 Ok: forwarded"


@dataclass
class IpAuthorisedMailbox(Mailbox):
    """A relay that authorises senders by address and offers no SMTP AUTH.

    aiosmtpd always offers AUTH after STARTTLS, so this handler's documented handle_EHLO hook drops
    that line from the reply, which is what a server without SMTP AUTH answers.
    """

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]
