"""Benchmarks: scripts that time the helpdesk at production scale and print figures.

Speed targets live here, never in timed tests (a loaded CI machine would make them flaky).
`python -m bench` runs every module's `main()`; `python -m bench pages` runs one.

This module stays free of Django imports: `use_bench_database()` must run before
`django.setup()`, because settings read DATABASE_URL once, at import.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE = "helpdesk_bench"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "postgis")


class NeedsPostgres(SystemExit):
    """Benchmarks on SQLite would measure the wrong database; stop with a message that says so."""


def use_bench_database(name: str = BENCH_DATABASE) -> str:
    """Point Django at a dedicated PostgreSQL database on DATABASE_URL's server, created if missing.

    A dedicated database keeps a million seeded rows out of the development database and
    lets them survive between runs (seeding takes minutes, a bench run seconds).
    Returns the database URL now in DATABASE_URL.
    """
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise NeedsPostgres(
            "bench: DATABASE_URL must point to PostgreSQL (SQLite figures say nothing about production), e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python -m bench\n"
            f"  (got {url or 'nothing: the settings would fall back to SQLite'})"
        )
    bench_url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    _create_database_if_missing(parts, name)
    os.environ["DATABASE_URL"] = bench_url
    # The bench's own process is a development tool (DEBUG on unless told otherwise); the
    # processes it times are started with production's settings by each benchmark.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings_dev")
    return bench_url


def _create_database_if_missing(parts, name: str) -> None:
    import psycopg
    from psycopg import sql

    # Connect to the server's maintenance database: the bench database may not exist yet.
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
