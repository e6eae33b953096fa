"""Fault injection: make the next N requests to an endpoint misbehave like X sometimes does.

Kinds:
  status_500 / status_503  X's problem body with that status (rate-limit headers still sent)
  slow                     answer normally after ``delay_seconds`` (default 2)
  timeout                  hold the request ``delay_seconds`` (default 30) then 504: clients should time out first
  malformed_json           200 with a JSON body cut in half
  truncated_page           a short page (half the items) that still carries a next_token, as X's
                           pages sometimes do; walking next_token still loses nothing
  repeated_page            the previous response of that endpoint and user is sent again verbatim
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

KINDS = ("status_500", "status_503", "slow", "timeout", "malformed_json", "truncated_page", "repeated_page")
DEFAULT_DELAYS = {"slow": 2.0, "timeout": 30.0}


@dataclass
class Fault:
    endpoint: str  # an endpoint key like "GET /2/users/:id/mentions", or "*" for all
    kind: str
    count: int | None = 1  # requests left; None = until cleared
    delay_seconds: float | None = None

    @property
    def delay(self) -> float:
        if self.delay_seconds is not None:
            return float(self.delay_seconds)
        return DEFAULT_DELAYS.get(self.kind, 0.0)


class Faults:
    def __init__(self) -> None:
        self.active: list[Fault] = []

    def add(self, endpoint: str, kind: str, count: int | None = 1, delay_seconds: float | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if count is not None and count <= 0:
            count = None
        fault = Fault(endpoint, kind, count, delay_seconds)
        self.active.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The fault for this request, if any, consuming one of its uses."""
        for fault in self.active:
            if fault.endpoint in (endpoint, "*"):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.active.remove(fault)
                return fault
        return None

    def clear(self, endpoint: str | None = None) -> None:
        self.active = [f for f in self.active if endpoint is not None and f.endpoint != endpoint]

    def describe(self) -> list[dict]:
        return [asdict(f) for f in self.active]
