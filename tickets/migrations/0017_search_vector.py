"""Full-text search: a `search_vector` column on tickets (subject) and comments (body), kept by
triggers in the language of `settings.SEARCH_LANGUAGE` (`tickets/search_vectors.py`), with
GIN indexes. PostgreSQL only: on SQLite the columns exist and stay NULL (search scans).

The GIN indexes are built CONCURRENTLY, as in 0003, so deploying on a live database does not
block new comments; hence `atomic = False`. Existing rows get their vectors in
0018_fill_search_vectors.
"""

import django.contrib.postgres.search
from django.conf import settings
from django.db import migrations

GIN_INDEXES = {
    "ticket_search_vector_gin": "tickets_ticket",
    "comment_search_vector_gin": "tickets_comment",
}


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from tickets.search_vectors import install_triggers

    with schema_editor.connection.cursor() as cursor:
        install_triggers(cursor, settings.SEARCH_LANGUAGE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from tickets.search_vectors import drop_triggers

    with schema_editor.connection.cursor() as cursor:
        drop_triggers(cursor)


class RunSQLOnPostgres(migrations.RunSQL):
    """RunSQL that does nothing on other databases (development's SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("tickets", "0016_mark_erased_requesters"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="ticket",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(install_triggers, drop_triggers),
        *(
            RunSQLOnPostgres(
                f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin (search_vector)',
                reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
            )
            for name, table in GIN_INDEXES.items()
        ),
    ]
