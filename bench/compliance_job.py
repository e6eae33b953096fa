"""The batch compliance job over a million stored post ids, against the X sandbox.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python -m bench compliance_job [--ids 1000000]

Seeds a dedicated database (`helpdesk_bench_compliance`, kept between runs) with `--ids`
mention items of one account (INSERT ... SELECT generate_series), plus a few posts that
also exist in the sandbox, some of them deleted there. Starts the sandbox as its own
process, then runs the job as beat would: `start_jobs` (ids streamed from PostgreSQL with a
server-side cursor, spooled to a temporary file, uploaded to the job's URL) and
`check_jobs` (result streamed, deletions redacted). Prints the time of each step, this
process's peak Python allocations (tracemalloc) and peak RSS, the upload's size and the
requests made to X's API.

Targets: the ids never sit in memory together (**peak Python allocations < 50 MB** for a
million ids, whose list alone would take ~80 MB as Python strings), the deleted posts are
redacted, and the job stays within X's limits: one job per type at a time (X allows five)
and three API requests per job (create, status, and the result read from storage), against
X's 150 per 15 minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from bench import use_bench_database

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "helpdesk_bench_compliance"
PEAK_TARGET_MB = 50
APP_TOKEN = "xsandbox-app-bearer-token"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench compliance_job", description=__doc__.split("\n\n")[0])
    p.add_argument("--ids", type=int, default=1_000_000, help="stored post ids (default 1,000,000)")
    p.add_argument("--deleted", type=int, default=5, help="posts deleted on X among them (default 5)")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(n: int) -> None:
    from django.db import connection

    from bench.seed import defaults_for_other_columns
    from twitter_channel.models import IncomingItem, XAccount

    account, _ = XAccount.objects.get_or_create(user_id="900000000000000001", defaults={"username": "BenchBrand"})
    have = IncomingItem.objects.filter(account=account, x_id__startswith="1").count()
    if have >= n:
        return
    print(f"seeding {n - have:,} items…", flush=True)
    started = time.monotonic()
    # Each column's value for the generated row g. Columns added later take their field's
    # default (as bench/seed.py's COPY does), so a new column does not break this seeder.
    generated = {
        "account_id": "%s", "kind": "'mention'", "x_id": "(1000000000000000000 + g)::text", "raw": "'{}'::jsonb",
        "author_x_id": "'42'", "author_handle": "'someone'", "author_name": "'Someone'", "author_avatar_url": "''",
        "author_verified": "false", "text": "'hello'", "urls": "'[]'::jsonb", "conversation_key": "''",
        "in_reply_to_id": "''", "is_retweet": "false", "is_quote": "false", "mentioned_usernames": "'[]'::jsonb",
        "is_group": "false", "state": "'ignored'", "state_reason": "'bench'", "rule": "''", "attempts": "0",
        "quoted_id": "''", "event_type": "''", "fetched_at": "now()",
    }
    extra_columns, extra_values = defaults_for_other_columns(IncomingItem, [*generated, "id"])  # id: the sequence
    columns = [*generated, *extra_columns]
    values = [*generated.values(), *["%s"] * len(extra_columns)]
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO twitter_channel_incomingitem ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM generate_series(%s, %s) AS g",
            [account.pk, *extra_values, have, n - 1],
        )
        cur.execute("VACUUM ANALYZE twitter_channel_incomingitem")
    print(f"seeded in {time.monotonic() - started:.1f} s", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    use_bench_database(DATABASE)
    port = free_port()
    os.environ["X_API_BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ["X_APP_BEARER_TOKEN"] = APP_TOKEN
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.ids)

    sandbox = subprocess.Popen([sys.executable, "-m", "xsandbox", "--port", str(port), "--vocabulary", "tweet"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return run(args, port)
    finally:
        sandbox.terminate()
        sandbox.wait(10)


def run(args, port: int) -> int:
    from twitter_channel.accounts.connection import app_client
    from twitter_channel.compliance import jobs
    from twitter_channel.models import ComplianceJobRun, IncomingItem, XAccount
    from xsandbox.testing import SandboxClient

    sb = SandboxClient(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 20
    while True:
        try:
            sb.reset()
            break
        except Exception:  # noqa: BLE001 - not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    sb.create_user("alice")
    account = XAccount.objects.get(username="BenchBrand")
    IncomingItem.objects.exclude(x_id__startswith="1").delete()
    ComplianceJobRun.objects.all().delete()
    deleted = []
    for i in range(args.deleted * 2):
        post = sb.post_tweet("alice", f"bench post {i}")
        IncomingItem.objects.create(account=account, kind="mention", x_id=post["id"], text=f"bench post {i}",
                                    raw={"id": post["id"]}, state="ignored")
        if i % 2:
            sb.delete_tweet(post["id"])
            deleted.append(post["id"])
    held = IncomingItem.objects.filter(redacted_at__isnull=True).count()
    print(f"{held:,} post ids held; {len(deleted)} deleted on X", flush=True)

    client = app_client()
    calls = []
    client._client.session.hooks["response"].append(lambda r, *a, **k: calls.append(r.request.path_url))
    tracemalloc.start()
    started = time.monotonic()
    runs = jobs.start_jobs(client)
    upload_s = time.monotonic() - started
    started = time.monotonic()
    applied = jobs.check_jobs(client)
    apply_s = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    tweets = next(r for r in runs if r.type == "tweets")
    tweets.refresh_from_db()
    redacted = IncomingItem.objects.filter(x_id__in=deleted, redacted_at__isnull=False).count()
    size_mb = tweets.ids_uploaded * (len(deleted[0]) + 1) / 1e6 if deleted else 0
    print(f"start_jobs (create + upload {tweets.ids_uploaded:,} ids, ~{size_mb:.0f} MB): {upload_s:.1f} s")
    print(f"check_jobs (status + result + redaction): {apply_s:.2f} s, {applied} changes applied")
    print(f"peak Python allocations: {peak / 1e6:.1f} MB (target < {PEAK_TARGET_MB} MB); peak RSS {rss_mb:.0f} MB")
    print(f"X API requests: {len(calls)} ({', '.join(sorted(set(calls)))}); X allows 150 per 15 min per endpoint")
    ok = tweets.ids_uploaded == held and redacted == len(deleted) and peak / 1e6 < PEAK_TARGET_MB
    print("OK" if ok else "MISSED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
