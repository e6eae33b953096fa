from django.core.management.base import BaseCommand

from dashboard.rollups import rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard's rollups from the tickets, comments, event log and X items."

    def handle(self, *args, **options):
        self.stdout.write(f"{rebuild()} rollup cells")
