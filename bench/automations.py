"""Time one automation pass and the SLA queue over the `pages` seed (100,000 tickets).

    python -m bench automations [--database NAME] [--reseed] [--runs 20]

Uses the `pages` seed (seeding it if missing), then sets up 5 SLA policies (one on
business hours) and 20 active automations of the kinds teams write (reminders, escalations,
closing, SLA warnings), and:

1. recomputes every unsolved ticket's clocks, as saving a policy does (timed, for context);
2. samples the cost of acting on a ticket: a pass limited to 25 tickets per automation
   over the backlog a 2-year-old helpdesk shows 20 new automations (firings per second);
3. records the rest of that backlog as handled (a helpdesk where automations have been
   running all along), then times passes 5, 5 and 60 minutes later, with the process's
   peak memory: each finds the tickets that newly match and acts on them;
4. times the queue sorted by next breach and the "breaching within the hour" view
   (Django test client, as `pages` does).

Targets: a pass <= 10 s and <= 300 MB (peak RSS of this process, Django included); the
queue pages' p95 <= 150 ms. The exit code is 1 if one is missed. Automation rows and
firings are rebuilt at each run; the tickets the passes changed stay changed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import BENCH_DATABASE, use_bench_database  # noqa: E402

PASS_TARGET_S = 10.0
MEMORY_TARGET_MB = 300.0

AUTOMATIONS = [
    # (title, all conditions, actions)
    ("Remind pending 48 h", [("status", "is", "pending"), ("hours_since_status_changed", "greater_than", "48")],
     [("add_internal_note", "", "", "Reminder sent to {{requester.name}}")]),
    ("Close solved 96 h", [("status", "is", "solved"), ("hours_since_status_changed", "greater_than", "96")],
     [("set_status", "closed")]),
    ("New X unanswered 30 min", [("status", "is", "new"), ("channel", "is", "x"),
                                 ("hours_since_created", "greater_than", "0.5")],
     [("set_priority", "3"), ("add_tags", "unanswered")]),
    ("New DM unanswered 1 h", [("status", "is", "new"), ("channel", "is", "x_dm"),
                               ("hours_since_created", "greater_than", "1")], [("set_priority", "3")]),
    ("Email new 4 h", [("status", "is", "new"), ("channel", "is", "email"),
                       ("hours_since_created", "greater_than", "4")], [("add_tags", "slow")]),
    ("SLA about to breach", [("status", "less_than", "solved"), ("sla_hours_until_breach", "less_than", "1")],
     [("add_tags", "sla-warning")]),
    ("SLA breached 2 h", [("sla_hours_since_breach", "greater_than", "2")], [("set_priority", "4")]),
    ("Open idle 72 h", [("status", "is", "open"), ("hours_since_updated", "greater_than", "72")],
     [("add_tags", "idle")]),
    ("On-hold 7 days", [("status", "is", "on_hold"), ("hours_since_status_changed", "greater_than", "168")],
     [("add_tags", "long-hold")]),
    ("Requester waiting 24 h", [("status", "is", "open"), ("hours_since_requester_reply", "greater_than", "24")],
     [("add_tags", "waiting")]),
    ("Assignee silent 48 h", [("status", "is", "open"), ("hours_since_assignee_reply", "greater_than", "48")],
     [("add_tags", "nudge")]),
    ("Urgent open 2 h", [("priority", "is", "4"), ("status", "is", "open"),
                         ("hours_since_status_changed", "greater_than", "2")], [("add_tags", "urgent-open")]),
    ("VIP tag idle 12 h", [("tags", "contains_any", "tag-001 tag-002"), ("hours_since_updated", "greater_than", "12")],
     [("add_tags", "vip-idle")]),
    ("Unassigned new 2 h", [("assignee", "is", ""), ("status", "is", "new"),
                            ("hours_since_created", "greater_than", "2")], [("add_tags", "unassigned-2h")]),
    ("Pending 10 days → solve", [("status", "is", "pending"), ("hours_since_status_changed", "greater_than", "240")],
     [("set_status", "solved")]),
    ("Big accounts waiting", [("requester_followers", "at_least", "10000"), ("status", "is", "open"),
                              ("hours_since_requester_reply", "greater_than", "1")], [("set_priority", "4")]),
    ("Likes idle 24 h", [("channel", "is", "x_like"), ("status", "less_than", "solved"),
                         ("hours_since_created", "greater_than", "24")], [("set_status", "solved")]),
    ("Recent requester reply", [("status", "is", "open"), ("hours_since_requester_reply", "less_than", "1")],
     [("add_tags", "hot")]),
    ("High priority idle 8 h", [("priority", "is", "3"), ("status", "is", "open"),
                                ("hours_since_updated", "greater_than", "8")], [("add_tags", "high-idle")]),
    ("Breached and unassigned", [("sla_breached", "is", "true"), ("assignee", "is", ""),
                                 ("hours_since_created", "greater_than", "1")], [("add_tags", "breached-unassigned")]),
]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench automations", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=BENCH_DATABASE, help=f"database name (default {BENCH_DATABASE})")
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded data first")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per queue page (default 20)")
    return parser.parse_args(argv)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_bench_database(args.database)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.pages import vacuum_analyze
    from bench.seed import FULL, is_seeded, seed

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    if args.reseed or not is_seeded(FULL):
        print("Seeding the pages data (100,000 tickets)...", flush=True)
        seed(FULL)
        vacuum_analyze()
    create_rules()

    from business_rules.automations.run import run_automations
    from business_rules.sla.refresh import recompute_open_tickets
    from tickets.models import Ticket

    open_count = Ticket.objects.exclude(status=Ticket.Status.CLOSED).count()
    print(f"{Ticket.objects.count():,} tickets, {open_count:,} not closed; 5 SLA policies, 20 active automations")
    started = time.perf_counter()
    moved = recompute_open_tickets()
    print(f"SLA clocks recomputed for every unsolved ticket in {time.perf_counter() - started:.1f} s "
          f"({moved:,} next-breach times set); peak {peak_mb():.0f} MB")
    vacuum_analyze()

    from django.utils import timezone

    now = timezone.now()
    # The backlog of a helpdesk that switches 20 automations on at once, sampled: 25
    # tickets per automation, for the cost of acting on a ticket.
    started = time.perf_counter()
    sample = run_automations(now=now, limit=25)
    seconds = time.perf_counter() - started
    print(f"catch-up sample: {sample.total:,} firings in {seconds:.1f} s "
          f"({sample.total / seconds:.0f} firings/s, at most 25 per automation)")
    started = time.perf_counter()
    handled = mark_backlog_handled(now)
    print(f"rest of the backlog marked as handled ({handled:,} firing rows, {time.perf_counter() - started:.1f} s): "
          "a helpdesk where the automations have been running all along")
    vacuum_analyze()

    ok = True
    for minutes in (5, 5, 60):
        # Each pass a few minutes later than the last: what beat does every 5 minutes,
        # and a pass after an hour without one.
        now += timedelta(minutes=minutes)
        started = time.perf_counter()
        report = run_automations(now=now)
        seconds = time.perf_counter() - started
        memory = peak_mb()
        ok &= seconds <= PASS_TARGET_S and memory <= MEMORY_TARGET_MB
        print(f"automation pass {minutes} min after the last: {seconds:.2f} s, {report.total:,} firings, "
              f"peak {memory:.0f} MB (targets {PASS_TARGET_S:.0f} s, {MEMORY_TARGET_MB:.0f} MB)")
        busiest = [(title, count) for title, count in sorted(report.fired.items(), key=lambda kv: -kv[1])[:4] if count]
        if busiest:
            print("   busiest: " + ", ".join(f"{title} {count}" for title, count in busiest))

    ok &= time_queue(args.runs)
    return 0 if ok else 1


def mark_backlog_handled(now) -> int:
    """Record a firing for every ticket each automation matches now, without acting."""
    from business_rules.automations.run import candidates, compiled_automations
    from business_rules.models import AutomationFiring

    total = 0
    for automation in compiled_automations.get():
        rows = candidates(automation, now, 10**7)
        AutomationFiring.objects.bulk_create(
            (AutomationFiring(automation_id=automation.id, ticket_id=pk, anchor=anchor) for pk, anchor in rows),
            batch_size=5000,
            ignore_conflicts=True,
        )
        total += len(rows)
    return total


def create_rules() -> None:
    from django.db import transaction

    from business_rules.conditions import AUTOMATION, SLA, clean_condition
    from business_rules.models import Automation, AutomationFiring, Schedule, SlaPolicy
    from business_rules.sla.models import ScheduleInterval
    from tickets.models import Ticket

    with transaction.atomic():
        AutomationFiring.objects.all().delete()
        Automation.objects.all().delete()
        SlaPolicy.objects.all().delete()
        Schedule.objects.all().delete()
        office = Schedule.objects.create(name="Office", time_zone="Europe/Paris")
        ScheduleInterval.objects.bulk_create(
            ScheduleInterval(schedule=office, weekday=d, opens="09:00", closes="18:00") for d in range(5)
        )
        policies = [
            ("X mentions", [("channel", "is", "x")], None, dict(first_reply=60, next_reply=60, resolution=1440)),
            ("X DMs", [("channel", "is", "x_dm")], None, dict(first_reply=120, next_reply=120, resolution=2880)),
            ("Email, business hours", [("channel", "is", "email")], office,
             dict(first_reply=480, next_reply=480, requester_wait=960, resolution=2880)),
            ("VIP", [("tags", "contains_any", "tag-001")], None, dict(first_reply=30, periodic_update=240)),
            ("Everything else", [], None, dict(first_reply=1440, resolution=10080)),
        ]
        for position, (title, conditions, schedule, targets) in enumerate(policies, start=1):
            policy = SlaPolicy.objects.create(title=title, position=position, schedule=schedule)
            for i, (field, operator, value) in enumerate(conditions):
                policy.conditions.create(field=field, operator=operator, value=clean_condition(field, operator, value, SLA),
                                         position=i)
            for priority in Ticket.Priority.values:
                factor = {1: 2, 2: 1, 3: 0.5, 4: 0.25}[priority]
                policy.targets.create(priority=priority, **{m: int(v * factor) for m, v in targets.items()})
        for position, (title, conditions, actions) in enumerate(AUTOMATIONS, start=1):
            automation = Automation.objects.create(title=title, position=position)
            for i, (field, operator, value) in enumerate(conditions):
                automation.conditions.create(
                    field=field, operator=operator, value=clean_condition(field, operator, value, AUTOMATION), position=i
                )
            for i, (action, value, *text) in enumerate(actions):
                subject, body = (text + ["", ""])[:2]
                automation.actions.create(action=action, value=value, subject=subject, body=body, position=i)


def time_queue(runs: int) -> bool:
    from urllib.parse import urlencode

    from django.urls import reverse

    from bench.pages import QUEUE_TARGET_MS, Scenario, print_report, run

    def queue(slug, **params):
        return reverse("tickets:queue_view", args=[slug]) + ("?" + urlencode(params) if params else "")

    scenarios = [
        Scenario("queue: open, next breach first", "agent", queue("open", sort="breach"), QUEUE_TARGET_MS),
        Scenario("queue: all, next breach first", "agent", queue("all", sort="breach"), QUEUE_TARGET_MS),
        Scenario("queue: breaching within the hour", "agent", queue("breaching"), QUEUE_TARGET_MS),
        Scenario("queue: breaching within the hour (restricted)", "restricted", queue("breaching"), QUEUE_TARGET_MS),
        Scenario("queue: all open (default view)", "agent", queue("open"), QUEUE_TARGET_MS),
    ]
    results = run(scenarios, runs=runs, warmup=3)
    print_report(results, runs=runs, warmup=3)
    return all(r.ok for r in results)


if __name__ == "__main__":
    sys.exit(main())
