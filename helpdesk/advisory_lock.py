"""One holder at a time across processes: a PostgreSQL session-level advisory lock.

For periodic work two beats (or a slow run overlapping the next) must not do twice. The lock
lasts across the holder's many transactions and is released if its worker dies. SQLite
(development) has no such lock and no concurrent workers to speak of: it always grants it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock(key: int) -> Iterator[bool]:
    """Whether this process holds the lock `key` (a fixed number per kind of work) now."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
