"""Batch GETs: `X-Ovh-Batch: ,` on a single-object route reads several keys in one request."""
from __future__ import annotations

from .errors import ApiError


def batch_answer(getter, key, separator):
    """One `{key, value, error}` entry per key, in key order (the shape third-party clients read)."""
    entries = []
    for item in key.split(separator):
        try:
            entries.append({"key": item, "value": getter(item), "error": None})
        except ApiError as error:
            entries.append({"key": item, "value": None, "error": error.body["message"]})
    return entries
