"""After changing SEARCH_LANGUAGE: recreate the search triggers in the new language and
recompute every ticket's and comment's vector (minutes at millions of comments)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tickets.search_vectors import install_triggers, rewrite_vectors


class Command(BaseCommand):
    help = "Rebuild full-text search vectors in settings.SEARCH_LANGUAGE (run after changing it)."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("full-text search vectors exist on PostgreSQL only; SQLite searches by scanning")
        language = settings.SEARCH_LANGUAGE
        with connection.cursor() as cursor:
            install_triggers(cursor, language)
            rewrite_vectors(cursor, language, log=self.stdout.write)
        self.stdout.write(f"Search vectors rebuilt in {language!r}.")
