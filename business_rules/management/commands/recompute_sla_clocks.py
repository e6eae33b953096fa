"""Recompute every unsolved ticket's SLA clocks (saving a policy does this in the worker)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from business_rules.sla.refresh import recompute_open_tickets


class Command(BaseCommand):
    help = "Recompute the SLA clocks of every unsolved ticket under the current policies."

    def handle(self, *args, **options):
        moved = recompute_open_tickets()
        self.stdout.write(f"{moved} ticket(s) got a new next breach time")
