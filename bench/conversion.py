"""Conversion alone: stored X items turned into tickets, timed and counted, without polling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python -m bench conversion
    options: --items 10000 --authors 200 --processes 1 [--profile]

Stores `--items` mentions (from `--authors` people, a tenth of them replies in threads of
earlier ones) straight into `IncomingItem` on a dedicated database
(`helpdesk_bench_conversion`, emptied first), as a burst's polls would have, then converts
them with `--processes` converter processes at once (each runs `convert_pending` until
nothing is left, as Celery's conversion tasks do; production settings, DEBUG off).
Reports tickets per second, SQL statements per item, and checks that nothing was doubled:
one comment per item, one ticket per thread. Target: >= 700 tickets/s (10,000 in <= 15 s).
`--profile` runs one process under pyinstrument and prints where the time goes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import use_bench_database  # noqa: E402

DATABASE = "helpdesk_bench_conversion"
TARGET_PER_S = 700.0


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench conversion", description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=10_000, help="mentions stored, then converted (default 10,000)")
    p.add_argument("--authors", type=int, default=200, help="distinct people writing them (default 200)")
    p.add_argument("--processes", type=int, default=1, help="converter processes at once (default 1)")
    p.add_argument("--profile", action="store_true", help="profile one converter with pyinstrument")
    p.add_argument("--convert-only", action="store_true", help=argparse.SUPPRESS)  # a converter child
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_bench_database(DATABASE)
    if args.convert_only:
        return convert_child()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", verbosity=0, interactive=False)
    seed(args.items, args.authors)
    return run(args)


def seed(items: int, authors: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from twitter_channel.models import IncomingItem, XAccount

    account = XAccount.objects.create(user_id="1580000000000000001", username="AcmeSupport")
    now = timezone.now()
    rows = []
    for i in range(items):
        x_id = str(1_900_000_000_000_000_000 + i)
        author = i % authors
        # Every tenth item answers the item 50 before it: a thread reply that joins that ticket.
        parent = str(1_900_000_000_000_000_000 + i - 50) if i % 10 == 9 and i >= 50 else ""
        rows.append(IncomingItem(
            account=account, kind=IncomingItem.Kind.MENTION, x_id=x_id,
            raw={"id": x_id, "text": f"@AcmeSupport burst {i}", "author_id": str(10_000 + author)},
            author_x_id=str(10_000 + author), author_handle=f"customer{author}", author_name=f"Customer {author}",
            author_followers=author, text=f"@AcmeSupport burst {i}", x_created_at=now - timedelta(seconds=5),
            conversation_key=parent or x_id, in_reply_to_id=parent, fetched_at=now,
        ))
    IncomingItem.objects.bulk_create(rows, batch_size=1000)


def child_env() -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DEBUG": "false",
            "SECRET_KEY": "conversion-bench-secret-key-" + "0" * 40,
            "SECRET_ENCRYPTION_KEYS": "YmVuY2gteC1pbnRha2UtZW5jcnlwdGlvbi1rZXkhISE=",
            "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_BROKER_URL": "memory://"}


def convert_child() -> int:
    """One converter: convert_pending until nothing is left; prints its counts."""
    import django

    django.setup()
    from django.db import connection

    from twitter_channel import conversion

    profile = os.environ.get("BENCH_PROFILE") == "1"
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    started = time.process_time()
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        stats = conversion.convert_pending()
    cpu = time.process_time() - started
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
    print(f"{stats.converted} {stats.quarantined} {stats.deferred} {len(queries)} {cpu:.2f}", flush=True)
    return 0


def run(args) -> int:
    from django.db.models import Count

    from tickets.models import Comment, Ticket
    from twitter_channel.models import IncomingItem

    env = child_env()
    if args.profile:
        env["BENCH_PROFILE"] = "1"
    cmd = [sys.executable, "-m", "bench", "conversion", "--convert-only"]
    print(f"conversion bench: {args.items:,} stored mentions from {args.authors} authors, "
          f"{args.processes} converter process(es), load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    started = time.monotonic()
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(1 if args.profile else args.processes)]
    outputs = [proc.communicate()[0] for proc in procs]
    elapsed = time.monotonic() - started
    converted = queries = 0
    for out in outputs:
        fields = out.split()[-5:]
        converted += int(fields[0])
        queries += int(fields[3])
        print(f"  converter: {fields[0]} converted, {fields[1]} quarantined, {fields[2]} deferred, "
              f"{fields[3]} SQL statements, {fields[4]} s CPU")
    left = IncomingItem.objects.filter(state="new").count()
    tickets = Ticket.objects.count()
    doubled = (Comment.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count())
    expected_tickets = IncomingItem.objects.filter(in_reply_to_id="").count()
    rate = args.items / elapsed
    print(f"converted {args.items - left:,} of {args.items:,} in {elapsed:.1f} s: {rate:.0f} tickets/s "
          f"(target >= {TARGET_PER_S:.0f}/s: {'met' if rate >= TARGET_PER_S else 'MISSED'}); "
          f"{queries / max(1, converted):.1f} SQL statements per item")
    print(f"tickets {tickets:,} (expected {expected_tickets:,}), comments doubled: {doubled}, items left new: {left}; "
          f"load average now {os.getloadavg()[0]:.1f}")
    ok = left == 0 and doubled == 0 and tickets == expected_tickets
    return 0 if ok and rate >= TARGET_PER_S else 1


if __name__ == "__main__":
    sys.exit(main())
