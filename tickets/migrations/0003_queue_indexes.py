"""Indexes for the queue page, chosen by measurement (bench/pages.py, 100k tickets / 1M comments).

- (updated_at, id) and (priority, updated_at, id): the queue's default and priority sorts
  end with id as a tie-breaker; with it in the index the page is an index scan that stops
  at LIMIT, instead of a sort of every open ticket (priority sort: 455 ms -> under 30 ms).
  The single-column updated_at index goes: it is redundant, and the planner preferred it.
- Trigram GIN indexes for search's `icontains` (UPPER(col::text) LIKE '%q%'): without them
  every search reads all million comments. The expressions are written exactly as Django
  compiles icontains on PostgreSQL, or the planner would not match them. PostgreSQL only:
  SQLite (development) skips them and scans. Built CONCURRENTLY so that deploying this on a
  live database does not block new comments for the minutes the comment index takes; hence
  `atomic = False`, and IF [NOT] EXISTS so a re-run after an interruption is safe.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "ticket_subject_trgm": ("tickets_ticket", "subject"),
    "comment_body_trgm": ("tickets_comment", "body"),
    "requester_name_trgm": ("tickets_requester", "name"),
    "identity_value_trgm": ("tickets_identity", "value"),
    "identity_handle_trgm": ("tickets_identity", "handle"),
}


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
        ("tickets", "0002_email_messages"),
    ]

    operations = [
        # Replaced by ticket_updated_id_idx; left alone, the planner keeps choosing it and
        # joins ~1,000 rows per queue page before an incremental sort keeps 50.
        migrations.AlterField(
            model_name="ticket",
            name="updated_at",
            field=models.DateTimeField(auto_now=True),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["updated_at", "id"], name="ticket_updated_id_idx"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["priority", "updated_at", "id"], name="ticket_priority_updated_idx"),
        ),
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        RunSQLOnPostgres("CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop),
        *(
            RunSQLOnPostgres(
                f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)',
                reverse_sql=f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
            )
            for name, (table, column) in TRIGRAM_INDEXES.items()
        ),
    ]
