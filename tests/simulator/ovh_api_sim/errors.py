"""The API's error answers, shared by the backend (rules) and the HTTP layer."""
from __future__ import annotations


class ApiError(Exception):
    """An answer other than 200: `status`, and the JSON body OVH would send."""

    def __init__(self, status, message, cls=None, error_code=None, http_code=None):
        super().__init__(message)
        self.status = status
        self.body = {"message": message}
        if cls:
            self.body["class"] = cls
        if error_code:
            self.body["errorCode"] = error_code
        if http_code:
            self.body["httpCode"] = http_code


def bad_request(message):
    return ApiError(400, message, cls="Client::BadRequest")


def not_found(message):
    return ApiError(404, message, cls="Client::NotFound")
