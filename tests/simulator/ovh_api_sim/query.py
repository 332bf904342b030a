"""The gateway's list query engine: X-Pagination-Filter, sort, pages and cursors, with no HTTP.

`list_answer` turns a list of objects and the request headers into the answer's data and headers.
"""
from __future__ import annotations

import base64
import re
from urllib.parse import unquote

from .errors import bad_request

DEFAULT_PAGE_SIZE = 1000  # the OVH manager's notes mention a default limit of 1000
MAX_PAGE_SIZE = 50000  # the manager asks for 5000 by default and 50000 in places
PAGES_MODE = "CachedObjectList-Pages"
CURSOR_MODE = "CachedObjectList-Cursor"
# The manager's operators (ovh/manager packages/manager/core/api/src/iceberg.ts), then older ones.
MANAGER_OPERATORS = ("eq", "ne", "in", "isnil", "like", "lt", "gt")
LEGACY_OPERATORS = ("nq", "nlike", "ge", "le")
# In the lenient syntax a `,` also joins items, when what follows it reads as `field:op=`.
_LEGACY_JOIN = re.compile(r",(?=[A-Za-z0-9_.]+:(?:%s)=)" % "|".join(MANAGER_OPERATORS + LEGACY_OPERATORS))
_ITEM = re.compile(r"^([A-Za-z0-9_.]+):([a-z]+)=(.*)$", re.DOTALL)


def like_matcher(pattern):
    """OVH's `like`: `%` matches any run of characters; case-insensitive (a guess)."""
    regex = ".*".join(re.escape(part) for part in str(pattern).split("%"))
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL).match


def parse_filters(header, syntax="lenient"):
    """X-Pagination-Filter -> [(field, op, value)].

    `manager`: items joined by `&`, operators eq ne in isnil like lt gt, values percent-decoded (the
    manager encodes them). `lenient` (the default): also `,` joins and the operators nq nlike ge le,
    values taken as written.
    """
    operators = MANAGER_OPERATORS if syntax == "manager" else MANAGER_OPERATORS + LEGACY_OPERATORS
    items = [item for part in header.split("&") if part
             for item in ([part] if syntax == "manager" else _LEGACY_JOIN.split(part)) if item]
    filters = []
    for item in items:
        match = _ITEM.match(item)
        if not match or match.group(2) not in operators:
            raise bad_request(f"Invalid X-Pagination-Filter item {item!r}; expected field:op=value joined by '&', "
                              f"op one of {', '.join(operators)}")
        field, op, value = match.groups()
        if op == "in":
            value = [unquote(v) if syntax == "manager" else v for v in value.split(",")]
        elif syntax == "manager":
            value = unquote(value)
        filters.append((field, op, value))
    return filters


def _field(obj, path):
    """A field by name, or a dotted path into nested objects (`route.path`)."""
    for name in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(name)
    return obj


def _coerce(text, sample):
    """A filter value as the type of the field it is compared with."""
    if isinstance(sample, bool):
        return text.lower() in ("true", "1")
    if isinstance(sample, int):
        try:
            return int(text)
        except ValueError:
            raise bad_request(f"X-Pagination-Filter value {text!r} is not a number") from None
    return text


def filter_test(field, op, value):
    """A predicate over objects for one parsed filter item."""
    if op in ("like", "nlike"):
        match = like_matcher(value)
        return lambda obj: (_field(obj, field) is not None and match(str(_field(obj, field))) is not None) == (
            op == "like")
    if op == "isnil":
        wanted = str(value).lower() in ("1", "true")
        return lambda obj: (_field(obj, field) is None) == wanted

    def test(obj):
        actual = _field(obj, field)
        if value == "null" and op in ("eq", "ne", "nq"):
            return (actual is None) == (op == "eq")
        if actual is None:
            return False
        if op == "in":
            return actual in {_coerce(v, actual) for v in value}
        expected = _coerce(value, actual)
        return {"eq": actual == expected, "ne": actual != expected, "nq": actual != expected,
                "gt": actual > expected, "lt": actual < expected, "ge": actual >= expected,
                "le": actual <= expected}[op]
    return test


def _filtered_and_sorted(objects, headers, syntax):
    for field, op, value in parse_filters(headers.get("X-Pagination-Filter", ""), syntax):
        test = filter_test(field, op, value)
        objects = [obj for obj in objects if test(obj)]
    sort = headers.get("X-Pagination-Sort")
    if sort:
        descending = headers.get("X-Pagination-Sort-Order", "ASC").upper() == "DESC"
        objects = sorted(objects, key=lambda o: (_field(o, sort) is None, _field(o, sort)), reverse=descending)
    return objects


def _page_size(headers):
    try:
        size = int(headers.get("X-Pagination-Size", DEFAULT_PAGE_SIZE))
    except ValueError:
        raise bad_request("X-Pagination-Size must be an integer") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"X-Pagination-Size must be within 1..{MAX_PAGE_SIZE}")
    return size


def _cursor(offset):
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor):
    try:
        kind, dummy, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "offset" or int(offset) < 0:
            raise ValueError(cursor)
        return int(offset)
    except ValueError:
        raise bad_request("invalid cursor") from None  # the manager checks for this message


def list_answer(objects, key, headers, readings, *, paged=True, object_lists=True):
    """(data, response headers) of a list route: ids, or full objects in a paged or cursor mode.

    `paged` is False when the paged mode is off for this route (`unpaged_routes`); `object_lists` is False
    when both modes are off (`--no-object-lists`). The cursor mode is served only with `cursor_paging`.
    """
    mode = headers.get("X-Pagination-Mode", "")
    cursor_mode = mode == CURSOR_MODE and readings.cursor_paging and object_lists
    if not (mode == PAGES_MODE and paged and object_lists or cursor_mode):
        return [obj[key] for obj in objects], {}
    objects = _filtered_and_sorted(objects, headers, readings.filter_syntax)
    size = _page_size(headers)
    if cursor_mode:
        start = _offset(headers["X-Pagination-Cursor"]) if headers.get("X-Pagination-Cursor") else 0
        answer_headers = {"X-Pagination-Size": str(size)}
        if start + size < len(objects):
            answer_headers["X-Pagination-Cursor-Next"] = _cursor(start + size)
        return objects[start:start + size], answer_headers
    try:
        number = int(headers.get("X-Pagination-Number", 1))
    except ValueError:
        raise bad_request("X-Pagination-Number must be an integer") from None
    if number < 1:
        raise bad_request("X-Pagination-Number must be >= 1")
    answer_headers = {"X-Pagination-Elements": str(len(objects)), "X-Pagination-Number": str(number)}
    if not readings.no_pagination_size_echo:
        answer_headers["X-Pagination-Size"] = str(size)
    return objects[(number - 1) * size: number * size], answer_headers
