"""Conversion alone: stored X items turned into tickets, timed and counted, without polling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python -m bench conversion
    options: --items 10000 --authors 200 --reply-share 0.1 --processes 1 [--celery-workers N] [--profile]
             [--database helpdesk_bench_conversion]

Stores `--items` mentions (from `--authors` people, `--reply-share` of them replies in
threads of earlier ones) straight into `IncomingItem` on a dedicated database
(`helpdesk_bench_conversion`, emptied first), as a burst's polls would have, then converts
them with `--processes` converter processes at once (each runs `convert_pending` until
nothing is left, as Celery's conversion tasks do; production settings, DEBUG off), or with
`--celery-workers` Celery worker nodes consuming the `convert` queue (concurrency 1 each,
Redis broker, as if on as many hosts), each sent one `convert_items` task.
Reports tickets per second, SQL statements and CPU per item, and checks that nothing was
doubled: one comment per item, one ticket per thread, no item left. Target: >= 700
tickets/s (10,000 in <= 15 s). `--profile` runs one process under pyinstrument.
"""

from __future__ import annotations

import argparse
import os
import resource
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
BROKER_DB = 13


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench conversion", description=__doc__.split("\n\n")[0])
    p.add_argument("--items", type=int, default=10_000, help="mentions stored, then converted (default 10,000)")
    p.add_argument("--authors", type=int, default=200, help="distinct people writing them (default 200)")
    p.add_argument("--reply-share", type=float, default=0.1, help="share of thread replies (default 0.1)")
    p.add_argument("--processes", type=int, default=1, help="converter processes at once (default 1)")
    p.add_argument("--celery-workers", type=int, default=0,
                   help="convert with this many Celery worker nodes on the convert queue instead")
    p.add_argument("--profile", action="store_true", help="profile one converter with pyinstrument")
    p.add_argument("--database", default=DATABASE,
                   help=f"PostgreSQL database the bench empties and uses (default {DATABASE}); "
                        "give each checkout running it at the same time its own")
    p.add_argument("--convert-only", action="store_true", help=argparse.SUPPRESS)  # a converter child
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_bench_database(args.database)
    if args.convert_only:
        return convert_child()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", verbosity=0, interactive=False)
    seed(args.items, args.authors, args.reply_share)
    return run(args)


def seed(items: int, authors: int, reply_share: float) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from twitter_channel.models import IncomingItem, XAccount

    account = XAccount.objects.create(user_id="1580000000000000001", username="AcmeSupport")
    now = timezone.now()
    rows = []
    conversation_of: dict[int, str] = {}
    for i in range(items):
        x_id = str(1_900_000_000_000_000_000 + i)
        author = i % authors
        # A reply answers the item 50 before it: it joins that item's ticket.
        is_reply = reply_share and i >= 50 and int((i + 1) * reply_share) > int(i * reply_share)
        parent = str(1_900_000_000_000_000_000 + i - 50) if is_reply else ""
        # X's conversation id is the thread's root, for replies to replies too.
        conversation_of[i] = conversation_of[i - 50] if is_reply else x_id
        rows.append(IncomingItem(
            account=account, kind=IncomingItem.Kind.MENTION, x_id=x_id,
            raw={"id": x_id, "text": f"@AcmeSupport burst {i}", "author_id": str(10_000 + author)},
            author_x_id=str(10_000 + author), author_handle=f"customer{author}", author_name=f"Customer {author}",
            author_followers=author, text=f"@AcmeSupport burst {i}", x_created_at=now - timedelta(seconds=5),
            conversation_key=conversation_of[i], in_reply_to_id=parent, fetched_at=now,
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

    from twitter_channel.intake import conversion

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
        # Items another converter held (a thread it was converting) come back deferred; a
        # Celery task queues itself again for them, so this converter passes again until a
        # pass finds nothing deferred (what it deferred is done by then, here or there).
        stats = conversion.ConversionStats()
        deadline = time.monotonic() + 300
        while True:
            one_pass = conversion.convert_pending()
            stats += one_pass
            if not one_pass.deferred or time.monotonic() > deadline:
                break
            if not (one_pass.converted or one_pass.quarantined):
                time.sleep(0.05)
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

    how = (f"{args.celery_workers} Celery worker node(s) on the convert queue" if args.celery_workers
           else f"{args.processes} converter process(es)")
    print(f"conversion bench: {args.items:,} stored mentions from {args.authors} authors "
          f"({args.reply_share:.0%} replies), {how}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    cpu_before = children_cpu()
    if args.celery_workers:
        (converted, elapsed), queries = by_celery_workers(args.celery_workers), None
    else:
        started = time.monotonic()
        converted, queries = by_processes(args)
        elapsed = time.monotonic() - started
    cpu = children_cpu() - cpu_before
    left = IncomingItem.objects.filter(state="new").count()
    tickets = Ticket.objects.count()
    doubled = Comment.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    expected_tickets = IncomingItem.objects.filter(in_reply_to_id="").count()
    rate = args.items / elapsed
    per_item = f"; {queries / max(1, converted):.2f} SQL statements per item" if queries is not None else ""
    print(f"converted {args.items - left:,} of {args.items:,} in {elapsed:.1f} s: {rate:.0f} tickets/s "
          f"(target >= {TARGET_PER_S:.0f}/s: {'met' if rate >= TARGET_PER_S else 'MISSED'}){per_item}; "
          f"converters' CPU {cpu:.1f} s{' (start-up included)' if args.celery_workers else ''} ({cpu / args.items * 1000:.2f} ms per item; PostgreSQL's not included)")
    print(f"tickets {tickets:,} (expected {expected_tickets:,}), comments doubled: {doubled}, items left new: {left}; "
          f"load average now {os.getloadavg()[0]:.1f}")
    ok = left == 0 and doubled == 0 and tickets == expected_tickets
    if not ok:
        print("conversion bench: WORK DOUBLED OR LOST")
    return 0 if ok and rate >= TARGET_PER_S else 1


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def by_processes(args) -> tuple[int, int]:
    env = child_env()
    if args.profile:
        env["BENCH_PROFILE"] = "1"
    cmd = [sys.executable, "-m", "bench", "conversion", "--convert-only", "--database", args.database]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(1 if args.profile else args.processes)]
    outputs = [proc.communicate()[0] for proc in procs]
    converted = queries = 0
    for out in outputs:
        fields = out.split()[-5:]
        converted += int(fields[0])
        queries += int(fields[3])
        print(f"  converter: {fields[0]} converted, {fields[1]} quarantined, {fields[2]} deferred, "
              f"{fields[3]} SQL statements, {fields[4]} s CPU")
    return converted, queries


def by_celery_workers(nodes: int) -> tuple[int, float]:
    """Worker nodes as on separate hosts: each its own process tree, one pool process each,
    all consuming `convert` from one Redis; one `convert_items` task per node, which hands
    over to fresh tasks as its time budget runs out (tasks.convert_items)."""
    import redis

    from twitter_channel.models import IncomingItem
    from twitter_channel.tests.e2e_harness import CeleryProcesses, redis_server, wait_for

    broker = f"{redis_server()}/{BROKER_DB}"
    redis.Redis.from_url(broker).flushdb()
    env = {k: v for k, v in child_env().items() if k != "CELERY_BROKER_URL"}
    procs = CeleryProcesses(db_url=os.environ["DATABASE_URL"], broker_db=BROKER_DB,
                            x_base_url="http://127.0.0.1:9", extra_env=env, workers=[("convert", 1)] * nodes)
    procs.env["CELERY_BROKER_URL"] = procs.env["REDIS_URL"] = broker
    procs.start_worker()
    try:
        from celery import Celery

        app = Celery(broker=broker)
        time.sleep(5)  # the nodes start and connect to the broker (not timed)
        started = time.monotonic()
        for _ in range(nodes):
            app.send_task("twitter_channel.tasks.convert_items", args=(None,), queue="convert")
        wait_for(lambda: not IncomingItem.objects.filter(state="new").exists(), 900, interval=0.2,
                 what="the items converted")
        elapsed = time.monotonic() - started
    finally:
        procs.stop()
    return IncomingItem.objects.exclude(state="new").count(), elapsed


if __name__ == "__main__":
    sys.exit(main())
