"""Time the dashboard's data (`/dashboard/data.json`) at production scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python -m bench dashboard [--reseed] [--dense]

Uses the `pages` benchmark's seeded helpdesk (100,000 tickets, 1,000,000 comments, two years
of history; seeded if missing), rebuilds the dashboard's rollups from it (timed: what
`manage.py rebuild_dashboard` costs; `--keep-rollups` keeps a previous run's), counts the
backlog as beat does (timed), then requests the JSON of each range as an admin, an
agent and a restricted agent and prints p50/p95/max and queries. Target: p95 <= 300 ms.
`--dense` then fills every rollup cell of the last 30 days (every hour, group, channel,
agent and histogram bucket: the most a month can hold whatever the ticket count) and times
again: the rollups' size is bounded by time × groups × channels, never by tickets.
"""

from __future__ import annotations

import argparse
import time

from bench import BENCH_DATABASE, use_bench_database

TARGET_MS = 300


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--dense", action="store_true", help="also time a month with every rollup cell filled")
    parser.add_argument("--keep-rollups", action="store_true",
                        help="time the rollups a previous run rebuilt (at 1M tickets a rebuild takes many minutes)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--database", default=BENCH_DATABASE)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    use_bench_database(args.database)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.pages import Scenario, print_report, run, vacuum_analyze
    from bench.seed import Scale, is_seeded, seed
    from dashboard.backlog import take_snapshot
    from dashboard.models import Rollup
    from dashboard.rollups import rebuild

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    scale = Scale(tickets=args.tickets, comments=args.comments)
    if args.reseed or not is_seeded(scale):
        print(f"Seeding {scale.tickets:,} tickets and {scale.comments:,} comments into {args.database}...", flush=True)
        seed(scale)
        vacuum_analyze()
    if args.keep_rollups and Rollup.objects.exists():
        print(f"Rollups kept from a previous run: {Rollup.objects.count():,} cells", flush=True)
    else:
        started = time.perf_counter()
        cells = rebuild()
        print(f"Rollups rebuilt from the tickets in {time.perf_counter() - started:.1f} s: {cells:,} cells", flush=True)
        vacuum_analyze()

    started = time.perf_counter()
    take_snapshot()
    print(f"Backlog counted in {time.perf_counter() - started:.2f} s (beat does it every DASHBOARD_BACKLOG_SECONDS)",
          flush=True)

    def scenarios(label: str) -> list[Scenario]:
        out = []
        for user in ("admin", "agent", "restricted"):
            for name in ("today", "7d", "30d"):
                out.append(Scenario(f"{label} data.json {name} as {user}", user, f"/dashboard/data.json?range={name}",
                                    TARGET_MS))
        return out

    results = run_as_admin_too(run, scenarios("seeded"), args)
    if args.dense:
        started = time.perf_counter()
        added = fill_month()
        vacuum_analyze()
        print(f"Filled {added:,} cells for a dense month in {time.perf_counter() - started:.1f} s "
              f"({Rollup.objects.count():,} cells in all)", flush=True)
        results += run_as_admin_too(run, scenarios("dense month"), args)
        rebuild()  # back to the seeded helpdesk's own cells
    print_report(results, runs=args.runs, warmup=args.warmup)
    return 0 if all(r.ok for r in results) else 1


def run_as_admin_too(run, scenarios, args):
    """bench.pages.run logs in as the seeded agent and restricted agent; for the admin's
    scenarios the seeded agent's name is pointed at an admin for the duration."""
    import bench.seed as seed_module
    from bench.pages import Scenario
    from tickets.models import User

    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": User.Role.ADMIN})
    as_admin = [Scenario(s.label, "agent", s.url, s.target_ms) for s in scenarios if s.user == "admin"]
    saved, seed_module.BENCH_AGENT = seed_module.BENCH_AGENT, admin.username
    try:
        results = run(as_admin, runs=args.runs, warmup=args.warmup)
    finally:
        seed_module.BENCH_AGENT = saved
    return results + run([s for s in scenarios if s.user != "admin"], runs=args.runs, warmup=args.warmup)


def fill_month() -> int:
    """Every cell a month can hold: 720 hours × groups × channels of `created`, and per day ×
    groups: every channel's histogram buckets, every account/mode's, every agent's counts."""
    from datetime import UTC, datetime, timedelta

    from dashboard.rollups import BOUNDS, CREATED, FIRST_REPLY, INTAKE_LAG, REPLIES, RESOLUTION, SOLVES, add
    from tickets.models import Channel, Group, User

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    groups = list(Group.objects.values_list("pk", flat=True)) + [0]
    agents = list(User.objects.values_list("pk", flat=True))
    channels = [c for c, _ in Channel.choices]
    accounts = [f"@brand{i}/{mode}" for i in range(3) for mode in ("polling", "webhook")]
    cells = []
    for hour in range(30 * 24):
        start = now - timedelta(hours=hour)
        cells += [(CREATED, start, g, c, -1) for g in groups for c in channels]
    for day in range(30):
        start = (now - timedelta(days=day)).replace(hour=0)
        for g in groups:
            for metric in (FIRST_REPLY, RESOLUTION):
                cells += [(metric, start, g, c, b) for c in channels for b in range(len(BOUNDS[metric]) + 1)]
            cells += [(INTAKE_LAG, start, g, a, b) for a in accounts for b in range(len(BOUNDS[INTAKE_LAG]) + 1)]
            cells += [(m, start, g, str(u), -1) for m in (REPLIES, SOLVES) for u in agents]
    for i in range(0, len(cells), 5000):
        add(cells[i:i + 5000])
    return len(cells)
