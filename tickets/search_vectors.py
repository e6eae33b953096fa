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

from django.db import connections, router
from django.db.models import Model
from django.db.models.sql import InsertQuery

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


def insert_new_rows(objs: list[Model]) -> None:
    """`bulk_create` for many new tickets or many new comments (one model at a time), with
    their ids set, without the search vector, which the trigger fills anyway.

    Why not `bulk_create`: Django sends every value of a multi-row INSERT as a placeholder of
    its own unless all columns are plain types, and `search_vector` is not; without it, the
    rows go as one array per column (UNNEST), which takes half the time for an intake burst
    of 200 tickets (the client parses far fewer placeholders). SQLite has no vector column."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    if connections[alias].vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.name != "search_vector"]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    rows = query.get_compiler(using=alias).execute_sql(returning_fields=[model._meta.pk])
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
