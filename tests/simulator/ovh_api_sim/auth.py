"""Who is calling: OVH's application-key signature, OAuth2 client credentials, access rules."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from fnmatch import fnmatchcase

from .errors import ApiError

API = "/1.0"
TIMESTAMP_WINDOW = 300  # seconds of accepted skew on X-Ovh-Timestamp (a guess)


def signature(secret, consumer_key, method, url, body, timestamp):
    """OVH's `$1$` signature over the exact bytes: sha1(AS+CK+METHOD+URL+BODY+TS joined by '+')."""
    head = f"{secret}+{consumer_key}+{method}+{url}+".encode()
    return "$1$" + hashlib.sha1(head + body + f"+{timestamp}".encode()).hexdigest()  # noqa: S324 - OVH's scheme


def _signature_error():
    return ApiError(400, "Invalid signature", cls="Client::BadRequest", error_code="INVALID_SIGNATURE",
                    http_code="400 Bad Request")


class Auth:
    """Checks /1.0 requests against the backend's credentials; issues and checks OAuth2 tokens."""

    def __init__(self, backend, token_seconds=3600):
        self.backend = backend
        self.token_seconds = token_seconds
        self.lock = threading.Lock()
        self.tokens = {}  # access token -> (expiry, client id)

    @staticmethod
    def _bearer(headers):
        auth = headers.get("Authorization", "")
        return auth[7:].strip() if auth.startswith("Bearer ") else None

    def caller(self, headers):
        """The key fair use counts against: the consumer key, or the OAuth2 client (None if neither)."""
        token = self._bearer(headers)
        if token is not None:
            with self.lock:
                entry = self.tokens.get(token)
            return f"oauth2:{entry[1]}" if entry else None
        return headers.get("X-Ovh-Consumer") or None

    def check(self, request):
        """Raise the ApiError OVH would answer when the request is not authenticated or not granted."""
        headers = request.headers
        token = self._bearer(headers)
        if token is not None:
            with self.lock:
                entry = self.tokens.get(token)
            if entry is None or entry[0] < time.time():
                raise ApiError(401, "Invalid or expired token", cls="Client::Unauthorized")
            return
        application_key = headers.get("X-Ovh-Application")
        if not application_key:
            raise ApiError(401, "You must login first", cls="Client::Unauthorized")
        secret = self.backend.application_secret(application_key)
        if secret is None:
            raise ApiError(403, "This application key is invalid", cls="Client::Forbidden", error_code="INVALID_KEY",
                           http_code="403 Forbidden")
        consumer_key = headers.get("X-Ovh-Consumer")
        if not consumer_key:
            raise ApiError(401, "You must login first", cls="Client::Unauthorized")
        consumer = self.backend.consumer(consumer_key)
        if consumer is None or consumer.get("application_key") not in (None, application_key):
            raise ApiError(403, "This credential does not exist", cls="Client::Forbidden",
                           error_code="INVALID_CREDENTIAL", http_code="403 Forbidden")
        timestamp, sent = headers.get("X-Ovh-Timestamp", ""), headers.get("X-Ovh-Signature", "")
        if not timestamp.isdigit() or not sent:
            raise _signature_error()
        if abs(int(timestamp) - time.time()) > TIMESTAMP_WINDOW:
            raise ApiError(400, "Query out of time: X-Ovh-Timestamp is too far from /auth/time",
                           cls="Client::BadRequest", error_code="QUERY_TIME_OUT", http_code="400 Bad Request")
        url = f"{request.scheme}://{request.host}{request.environ.get('REQUEST_URI') or request.full_path}"
        expected = signature(secret, consumer_key, request.method, url, request.get_data(cache=True), timestamp)
        if not secrets.compare_digest(expected, sent):
            raise _signature_error()
        path = request.path[len(API):]
        if not any(rule.get("method", "").upper() in (request.method, "*") and fnmatchcase(path, rule.get("path", ""))
                   for rule in consumer.get("rules", [])):
            raise ApiError(403, "This call has not been granted", cls="Client::Forbidden",
                           error_code="NOT_GRANTED_CALL", http_code="403 Forbidden")

    def issue_token(self, request):
        """POST /auth/oauth2/token (client credentials): (status, JSON body)."""
        auth = request.authorization
        client_id = auth.username if auth else request.form.get("client_id")
        client_secret = auth.password if auth else request.form.get("client_secret")
        if request.form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        expected = self.backend.oauth2_secret(client_id or "")
        if expected is None or not secrets.compare_digest(expected, client_secret or ""):
            return 401, {"error": "invalid_client", "error_description": "bad client id or secret"}
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = (time.time() + self.token_seconds, client_id)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_seconds,
                     "scope": request.form.get("scope", "all")}
