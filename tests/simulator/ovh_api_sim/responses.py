"""How answers look on the wire: OVH's JSON, and the HTML pages of the gateway in front of it."""
from __future__ import annotations

import json

from flask import Response

GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>nginx</center></body></html>\n"
)
# HAProxy's default 408 page, the "408 Request Time-out" users saw past fair use (external-dns#1546).
TIMEOUT_HTML = ("<html><body><h1>408 Request Time-out</h1>\n"
                "Your browser didn't send a complete request in time.\n</body></html>\n")


def json_response(data, status=200, headers=None):
    return Response(json.dumps(data, separators=(",", ":")), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def html_response(page, status):
    return Response(page, status, content_type="text/html")
