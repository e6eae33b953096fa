"""The running sandbox: configuration plus every piece of mutable state.

One ``Sandbox`` per server process. ``reset()`` brings it back to how it started,
which is what tests call between cases.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .billing import Billing
from .clock import Clock
from .faults import Faults
from .ratelimits import RateLimiter
from .shapes import MODES, Mode
from .store import Store

ALL_SCOPES = (
    "tweet.read", "tweet.write", "users.read", "like.read", "like.write", "dm.read", "dm.write",
    "offline.access", "follows.read", "mute.read", "block.read", "bookmark.read", "list.read",
    "space.read", "tweet.moderate.write",
)


@dataclass
class SandboxConfig:
    vocabulary: str = "both"  # tweet | post: one vocabulary strictly | both, as live X
    problem_host: str = ""  # e.g. "https://api.x.com": every problem type under it ("": the mode's spec)
    rate_limits: str = "x"
    access_token_ttl: float = 7200.0  # X: 2 hours
    code_ttl: float = 30.0  # X: authorization codes live 30 s
    state_file: str | None = None
    scenario_file: str | None = None
    play: bool = False
    # Where the sandbox is reached (its media pictures are served under it), for media made
    # without a request to take it from: a scenario loaded at start.
    public_url: str = "http://127.0.0.1:8001"


def mode_named(name: str) -> Mode:
    if name not in MODES:
        raise ValueError(f"vocabulary must be one of {sorted(MODES)}")
    return MODES[name]


class Sandbox:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = Clock()
        self.store = Store(self.clock)
        self.limiter = RateLimiter(self.clock, self.config.rate_limits)
        self.faults = Faults()
        self.billing = Billing(self.clock)  # what X would bill for the calls answered
        self.mode: Mode = mode_named(self.config.vocabulary)
        self.problem_host = self.config.problem_host
        self.access_token_ttl = self.config.access_token_ttl
        # (endpoint, user) -> last body, for the repeated_page fault
        self.last_bodies: dict[tuple[str, str], bytes] = {}
        self.dirty = False

    def set_vocabulary(self, name: str) -> None:
        self.mode = mode_named(name)

    def set_problem_host(self, host: str) -> None:
        if host and not host.startswith(("https://", "http://")):
            raise ValueError("problem_host must be an http(s) URL like https://api.x.com, or empty")
        self.problem_host = host.rstrip("/")

    def problem_type(self, kind: str) -> str:
        """The `type` URI of problem `kind` ("resource-not-found") as this sandbox sends it."""
        return self.mode.problem_type(kind, self.problem_host)

    def reset(self) -> None:
        """Empty state, real time, no faults, fresh rate-limit windows, startup settings."""
        self.clock.reset()
        self.store.clear()
        self.limiter.set_profile(self.config.rate_limits)
        self.faults.clear()
        self.billing.clear()
        self.mode = mode_named(self.config.vocabulary)
        self.problem_host = self.config.problem_host
        self.access_token_ttl = self.config.access_token_ttl
        self.last_bodies.clear()
        self.dirty = True

    def describe_config(self) -> dict:
        return {
            "vocabulary": self.mode.name,
            "problem_host": self.problem_host,
            "rate_limits": self.limiter.profile,
            "access_token_ttl": self.access_token_ttl,
            "brand_user_id": self.store.brand_user_id,
        }

    # ---- persistence ----------------------------------------------------------
    def load_state_file(self) -> None:
        path = self.config.state_file
        if path and Path(path).exists():
            data = json.loads(Path(path).read_text("utf-8"))
            self.store.load(data.get("store", {}))
            clock = data.get("clock") or {}
            if clock.get("frozen"):
                self.clock.set(clock["unix"], frozen=True)
            elif "offset" in clock:
                self.clock.offset = float(clock["offset"])

    def save_state_file(self) -> None:
        path = self.config.state_file
        if not path:
            return
        data = {"store": self.store.dump(),
                "clock": {**self.clock.describe(), "offset": self.clock.offset}}
        # Write-then-rename so a crash never leaves half a state file behind.
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".xsandbox-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, target)
        self.dirty = False
