"""Search vectors for the tickets and comments that existed before 0015's triggers."""

from django.conf import settings
from django.db import migrations


def fill(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from tickets.search_vectors import rewrite_vectors

    with schema_editor.connection.cursor() as cursor:
        rewrite_vectors(cursor, settings.SEARCH_LANGUAGE)


class Migration(migrations.Migration):
    # One transaction per batch of rows, not one for every comment of the helpdesk.
    atomic = False

    dependencies = [("tickets", "0017_search_vector")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
