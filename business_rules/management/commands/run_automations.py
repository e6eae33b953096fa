"""Run one pass of the automations by hand (beat runs them every few minutes)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from business_rules.automations.run import run_automations


class Command(BaseCommand):
    help = "Run one pass of the active automations now and say what fired."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="tickets per automation (default AUTOMATION_BATCH_SIZE)")

    def handle(self, *args, limit=None, **options):
        started = time.monotonic()
        report = run_automations(limit=limit)
        for title, count in report.fired.items():
            self.stdout.write(f"{count:6d}  {title}")
        self.stdout.write(f"{report.total} firing(s) in {time.monotonic() - started:.2f} s")
