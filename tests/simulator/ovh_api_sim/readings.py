"""Readings of API behaviours the public record does not settle (docs/simulator.md, "Readings").

Each field is one switch, off (the friendly reading) by default. The same name is a field of the
`POST /_sim/reset` body, and its CLI flag is `--` + the name with dashes. `--api-profile pessimistic`
turns on every unfriendly reading at once.
"""
from __future__ import annotations

import dataclasses

ROUTE_FAMILIES = ("sendConnector", "domain", "task", "account")
FILTER_SYNTAXES = ("lenient", "manager")


@dataclasses.dataclass
class Readings:
    # 1. A new connector is listed (and readable) only once its addSendConnector task has ended.
    connector_listed_after_task: bool = False
    # 2. Seconds during which an account PUT or changeDefaultSBR is invisible (old values, taskPendingId 0).
    late_writes: float = 0.0
    # 2. changeDefaultSBR queues no task: the domain changes (after late_writes) with taskPendingId 0.
    sbr_without_task: bool = False
    # 3. `manager`: X-Pagination-Filter only as OVH's manager writes it (`&` joins, eq ne in isnil like lt gt,
    #    percent-encoded values); `lenient` also takes `,` joins and nq, nlike, ge, le.
    filter_syntax: str = "lenient"
    # 4. Paged answers carry X-Pagination-Elements but not X-Pagination-Size.
    no_pagination_size_echo: bool = False
    # 4. Route families whose list ignores X-Pagination-Mode (plain ids), e.g. ["sendConnector", "task"].
    unpaged_routes: list = dataclasses.field(default_factory=list)
    # 4. X-Ovh-Batch is ignored: `a,b` is one (unknown) key.
    no_batch: bool = False
    # 4. X-Pagination-Mode: CachedObjectList-Cursor is served (X-Pagination-Cursor / -Cursor-Next).
    cursor_paging: bool = False
    # 5. An account write while its task is pending is accepted (last write wins) instead of 409.
    writes_while_pending: bool = False
    # 6. Read-only fields in a PUT body are ignored instead of refused with 400.
    accept_read_only_fields: bool = False
    # 7. Seconds after which a task that ended in `error` is retried by OVH and ends `done` (0: never).
    task_error_retry: float = 0.0
    # 8. Offers hosted and provider accept connector creation (the guide: admins may disable it later).
    connectors_on_any_offer: bool = False

    def update(self, values):
        """Apply a dict of readings; unknown names or bad values raise ValueError."""
        known = {field.name for field in dataclasses.fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown reading {name!r}; known: {', '.join(sorted(known))}")
            default = getattr(Readings(), name)
            if isinstance(default, bool):
                value = bool(value)
            elif isinstance(default, float):
                value = float(value)
                if value < 0:
                    raise ValueError(f"{name} must be >= 0")
            elif isinstance(default, list):
                value = [v for v in (value.split(",") if isinstance(value, str) else value) if v]
                bad = sorted(set(value) - set(ROUTE_FAMILIES))
                if bad:
                    raise ValueError(f"{name}: unknown route families {bad}; known: {', '.join(ROUTE_FAMILIES)}")
            elif name == "filter_syntax" and value not in FILTER_SYNTAXES:
                raise ValueError(f"filter_syntax must be one of {', '.join(FILTER_SYNTAXES)}")
            setattr(self, name, value)
        return self

    def to_dict(self):
        return dataclasses.asdict(self)


PROFILES = {
    "friendly": {},
    # Every unfriendly reading. Paged mode stays on the account list (the manager uses it there).
    "pessimistic": {
        "connector_listed_after_task": True, "late_writes": 0.5, "sbr_without_task": True,
        "filter_syntax": "manager", "no_pagination_size_echo": True,
        "unpaged_routes": ["sendConnector", "domain", "task"], "no_batch": True,
        "writes_while_pending": True, "accept_read_only_fields": True, "task_error_retry": 0.5,
        "connectors_on_any_offer": True,
    },
}


def readings_for(profile="friendly", **overrides):
    """The readings of a profile, with some switches set on top."""
    if profile not in PROFILES:
        raise ValueError(f"unknown api profile {profile!r}; known: {', '.join(PROFILES)}")
    return Readings().update(PROFILES[profile]).update(overrides)
