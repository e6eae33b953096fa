"""The full-text search vectors of tickets (subject) and comments (body), kept by PostgreSQL.

A BEFORE INSERT/UPDATE trigger (PostgreSQL's own `tsvector_update_trigger`) fills each
row's `search_vector` from its text, whoever writes the row: the ORM, a queryset
`update()` (redaction, erasure), bulk inserts and COPY alike, so a redacted comment's
vector is rebuilt from its tombstone in the same statement. A GIN index on the column
serves `@@` lookups (`tickets.search`).

Why a trigger and not a GeneratedField: the project also runs on SQLite (`make run`),
where a generated `to_tsvector` column cannot exist; the column is plain there and stays
NULL. Why not an expression index: the common-word search re-checks thousands of rows'
vectors, and a stored vector is read, not recomputed.

The language (`settings.SEARCH_LANGUAGE`) is written into the triggers: changing it needs
`manage.py rebuild_search_vectors`, which recreates them and rewrites every vector.
"""

from __future__ import annotations

# table -> (trigger name, text column)
SEARCHED = {
    "tickets_ticket": ("ticket_search_vector_update", "subject"),
    "tickets_comment": ("comment_search_vector_update", "body"),
}


def qualified_config(cursor, language: str) -> str:
    """The configuration's schema-qualified name, which the trigger function requires (so
    its meaning does not depend on search_path); raises if PostgreSQL does not know it."""
    cursor.execute(
        "SELECT n.nspname || '.' || c.cfgname FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace"
        " WHERE c.oid = %s::regconfig",
        [language],
    )
    return cursor.fetchone()[0]


def install_triggers(cursor, language: str) -> None:
    config = qualified_config(cursor, language)
    for table, (trigger, column) in SEARCHED.items():
        cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"')
        # UPDATE OF <text>: a status change or a counter update does not re-parse the text.
        cursor.execute(
            f'CREATE TRIGGER "{trigger}" BEFORE INSERT OR UPDATE OF "{column}" ON "{table}" FOR EACH ROW '
            f"EXECUTE FUNCTION tsvector_update_trigger(search_vector, '{config}', \"{column}\")"
        )


def drop_triggers(cursor) -> None:
    for table, (trigger, _column) in SEARCHED.items():
        cursor.execute(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"')


def rewrite_vectors(cursor, language: str, *, batch: int = 50_000, log=None) -> None:
    """Recompute every row's vector in id ranges: one short transaction per batch in
    autocommit, so a million rows never hold one long lock on the comments."""
    for table, (_trigger, column) in SEARCHED.items():
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        last = cursor.fetchone()[0]
        for start in range(0, last + 1, batch):
            cursor.execute(
                f'UPDATE "{table}" SET search_vector = to_tsvector(%s::regconfig, COALESCE("{column}", \'\'))'
                " WHERE id >= %s AND id < %s",
                [language, start, start + batch],
            )
            if log:
                log(f"{table}: ids below {min(start + batch, last + 1):,} of {last:,}")
