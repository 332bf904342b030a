"""Statistics and the redacted request log of /1.0 requests, since start or the last reset."""
from __future__ import annotations

import threading
from collections import Counter

REQUEST_LOG_LIMIT = 100000
SECRET_FIELDS = ("password", "client_secret", "access_token")


def redact(value):
    if isinstance(value, dict):
        return {k: ("********" if k in SECRET_FIELDS and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        with self.lock:
            self.by_method, self.by_route, self.by_fault, self.by_throttle = Counter(), Counter(), Counter(), Counter()
            self.total = self.writes = 0
            self.log = []

    def record(self, entry):
        with self.lock:
            self.total += 1
            self.by_method[entry["method"]] += 1
            self.by_route[f"{entry['method']} {entry['route']}"] += 1
            if entry["method"] in ("POST", "PUT", "DELETE"):
                self.writes += 1
            if entry["fault"]:
                self.by_fault[entry["fault"]] += 1
            if entry.get("throttled"):
                self.by_throttle[entry["throttled"]] += 1
            if len(self.log) < REQUEST_LOG_LIMIT:
                self.log.append(entry)

    def stats(self):
        with self.lock:
            return {"total": self.total, "by_method": dict(self.by_method), "by_route": dict(self.by_route),
                    "writes": self.writes, "faults": dict(self.by_fault), "throttled": dict(self.by_throttle)}

    def requests(self):
        with self.lock:
            return list(self.log)
