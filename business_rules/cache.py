"""Per-process caches of compiled rules, invalidated through `RulesVersion`.

Every save or delete of a rule row bumps its family's version in the database (see
`signals.py`). A process keeps the compiled rules together with the version it compiled
them at and recompiles when the stored version moves. Reading the version is one small
query; `max_age` lets a hot path (one call per polled tweet) skip even that for a moment,
while a change made in this very process is seen at once because the bump also clears
the local copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from .models import RulesVersion

T = TypeVar("T")

_caches: list[VersionedCache] = []


def clear_local(name: str) -> None:
    """Drop this process's compiled copy of a rule family (others notice the version)."""
    for cache in _caches:
        if cache.name == name:
            cache.clear()


class VersionedCache(Generic[T]):
    def __init__(self, name: str, build: Callable[[], T], max_age: float = 0.0):
        self.name = name
        self.build = build
        self.max_age = max_age
        self._lock = threading.Lock()
        self._value: T | None = None
        self._version: int | None = None
        self._checked_at = 0.0
        _caches.append(self)

    def get(self, version: int | None = None) -> T:
        """The compiled rules; pass `version` when it was read along with other data
        (one round trip fewer), else it is read here."""
        now = time.monotonic()
        if version is None and self._value is not None and self.max_age and now - self._checked_at < self.max_age:
            return self._value
        if version is None:
            version = RulesVersion.current(self.name)
        with self._lock:
            if self._value is None or version != self._version:
                # Built after reading the version: at worst newer rules are cached under
                # the older number and rebuilt once more, never the reverse.
                self._value = self.build()
                self._version = version
            self._checked_at = now
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None
            self._version = None
