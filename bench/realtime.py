"""Real-time intake against the X sandbox: post-to-ticket latency and sustained webhook load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk python -m bench realtime [--seconds 60] [--rate 300]
        [--database NAME] [--no-latency] [--batch-window-ms 0]

Starts, as separate processes, the sandbox (`python -m xsandbox`), the helpdesk web server as
in production (gunicorn, `--web-workers` processes x `--web-threads` threads, DEBUG off) and a
Celery worker (Redis broker, db 9, DEBUG off), all on a dedicated database
(`--database`, default `helpdesk_bench_realtime`, emptied first). Switches a brand account to
webhook mode through the real adapter (the sandbox checks the webhook's CRC), then:

1. latency: posts mentions, likes by the brand and DMs one at a time (every 150 ms) and
   measures, per kind, from the moment the sandbox accepted the post to the item's
   `converted_at` (the ticket written); first in webhook mode, then in stream mode with
   `manage.py x_stream` running as its own process. Target: p95 <= 2 s.
2. load: posts mentions at `--rate` per second for `--seconds` (`--posters` threads, each
   post sent at its due time, as many X users posting at once), delivered by the sandbox as
   signed webhook POSTs, batched as X batches events that come while earlier POSTs are out
   (`xsandbox/activity.py`); checks that the posts kept to the rate (the last one answered
   within 5 % of the phase's length), that every event was answered 200 and turned into
   exactly one ticket, and prints the rate delivered, lost and doubled posts, the webhook's
   answer times per POST (target p99 <= 50 ms) and events per POST, post-to-ticket times
   under that load (target p95 <= 2 s), how long the queue took to drain after the last post,
   and the CPU seconds each process spent per event (web, worker, sandbox, the bench's own
   posters, and the bench database's PostgreSQL backends and its Redis), from /proc.
   `--server-times` also times each webhook POST inside the web server (gunicorn's access
   log), which tells the server's own time apart from the network's and the sandbox's.
   Target: 300 events/s for a minute with nothing lost or doubled.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import use_bench_database
from twitter_channel.tests.e2e_harness import WORK_QUEUES, redis_server

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "helpdesk_bench_realtime"
BROKER_DB = 9
LATENCY_TARGET_S = 2.0
ACK_P99_TARGET_MS = 50.0
STALL_SECONDS = 30.0  # the load phase stops waiting for tickets after this long without one more
RATE_SLACK = 0.05  # the load phase may overrun its length by this share before the rate counts as missed
# The web and worker processes run as in production (DEBUG off), so production's mandatory
# secrets get bench values (production refuses the public development ones); the sandbox is
# given the same consumer secret and app token before the bench starts.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-realtime-secret-key-not-for-production-0123456789",
    "SECRET_ENCRYPTION_KEYS": "YmVuY2gtcmVhbHRpbWUtZW5jcnlwdGlvbi1rZXkhISE=",
    "X_WEBHOOK_CONSUMER_SECRET": "bench-realtime-consumer-secret",
    "X_APP_BEARER_TOKEN": "bench-realtime-app-bearer-token",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; in production TLS ends at the proxy
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench realtime", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="load phase length (default 60)")
    p.add_argument("--rate", type=float, default=300.0, help="events per second in the load phase (default 300)")
    p.add_argument("--database", default=DATABASE, help=f"bench database, emptied first (default {DATABASE})")
    p.add_argument("--no-latency", dest="latency", action="store_false",
                   help="skip the one-at-a-time latency phase (webhook and stream), run only the load")
    p.add_argument("--deliveries-per-webhook", type=int, default=None,
                   help="POSTs the sandbox has out to the webhook at once (default the sandbox's, 4)")
    p.add_argument("--batch-max-events", type=int, default=None,
                   help="events one POST carries at most (default the sandbox's, 100)")
    p.add_argument("--batch-window-ms", type=float, default=None,
                   help="how long a POST waits for company (default the sandbox's, 0: batches only form "
                        "while POSTs are out)")
    p.add_argument("--samples", type=int, default=30, help="latency samples per kind (default 30)")
    p.add_argument("--concurrency", type=int, default=4, help="Celery worker processes (default 4)")
    p.add_argument("--worker-nice", type=int, default=0,
                   help="niceness of the Celery worker (default 0, as in production; 19 lets the intake's "
                        "webhook have the CPU first on a box shared with other work)")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    p.add_argument("--web-threads", type=int, default=8, help="gunicorn threads per worker (default 8)")
    p.add_argument("--posters", type=int, default=32,
                   help="threads posting in the load phase (default 32): a post's answer time must not pace the rate")
    p.add_argument("--drain-timeout", type=float, default=600.0)
    p.add_argument("--server-times", action="store_true",
                   help="also time each webhook POST inside the web server (gunicorn's access log), to tell "
                        "the server's own time from the network and the sandbox's in the answer times")
    p.add_argument("--no-stream", dest="stream", action="store_false",
                   help="skip the latency phase in stream mode (manage.py x_stream)")
    return p.parse_args(argv)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def wait_http(url: str, timeout: float = 30.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"bench: {url} did not come up")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_bench_database(args.database)
    sandbox_port, web_port = free_port(), free_port()
    sandbox_url, web_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    broker = f"{redis_server()}/{BROKER_DB}"  # REDIS_URL's server, a database of the bench's own
    # REDIS_URL too, as production sets it: the web, the worker and the stream consumer share
    # one cache (the queued-processing mark, rate limits). Without it the consumer refused to
    # start (its system checks want a shared cache) and the stream phase measured nothing.
    os.environ.update({
        "X_API_BASE_URL": sandbox_url, "X_WEBHOOK_URL": f"{web_url}/x/webhook/", "CELERY_BROKER_URL": broker,
        "REDIS_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "false", "SITE_URL": web_url, **PRODUCTION_ENV,
    })
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    import redis

    redis.Redis.from_url(broker).flushdb()

    py = sys.executable
    access_log = Path(tempfile.mkdtemp(prefix="bench-realtime-")) / "access.log" if args.server_times else None
    # %(D)s: the request's time in the worker, in microseconds, from its first byte read to its last written.
    logging_args = ["--access-logfile", str(access_log), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s"] \
        if access_log else []
    procs = [
        subprocess.Popen([py, "-m", "xsandbox", "--port", str(sandbox_port), "--rate-limits", "unlimited"],
                         cwd=ROOT, stdout=subprocess.DEVNULL),
        # As in production: gunicorn's threaded workers, not runserver (one process, DEBUG on).
        subprocess.Popen([str(Path(py).parent / "gunicorn"), "helpdesk.wsgi:application", "--bind",
                          f"127.0.0.1:{web_port}", "--workers", str(args.web_workers), "--worker-class", "gthread",
                          "--threads", str(args.web_threads), "--log-level", "warning", *logging_args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([py, "-m", "celery", "-A", "helpdesk", "worker", "--loglevel", "WARNING", "--concurrency",
                          str(args.concurrency), "-Q", ",".join(WORK_QUEUES), "--without-gossip", "--without-mingle"],
                         cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=lambda: os.nice(args.worker_nice)),
    ]
    try:
        wait_http(sandbox_url + "/sandbox/api/config")
        wait_http(web_url + "/x/webhook/?crc_token=bench-ready-check")
        time.sleep(3)  # the worker connects to the broker
        from bench.cpu import CpuMeter

        meter = CpuMeter({"sandbox": procs[0].pid, "web": procs[1].pid, "worker": procs[2].pid},
                         by_name={"postgres": ("postgres", f" {args.database} "),
                                  "redis": ("redis-server", broker.rsplit("/", 1)[0].rsplit(":", 1)[-1])})
        return run(args, sandbox_url, meter, access_log)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if access_log is not None:
            shutil.rmtree(access_log.parent, ignore_errors=True)


def run(args, sandbox_url: str, meter, access_log: Path | None = None) -> int:
    from twitter_channel.accounts.connection import ensure_cursors
    from twitter_channel.models import ActivityEvent, IncomingItem, XAccount
    from twitter_channel.realtime import subscriptions
    from xsandbox.testing import SandboxClient

    sb = SandboxClient(sandbox_url)
    batching = {"deliveries_per_webhook": args.deliveries_per_webhook, "batch_max_events": args.batch_max_events,
                "batch_window_ms": args.batch_window_ms}
    sb.http.post(f"{sandbox_url}/sandbox/api/activity/config", json={
        "consumer_secret": PRODUCTION_ENV["X_WEBHOOK_CONSUMER_SECRET"],
        "app_bearer_token": PRODUCTION_ENV["X_APP_BEARER_TOKEN"],
        **{name: value for name, value in batching.items() if value is not None}}).raise_for_status()
    brand = sb.create_user("AcmeSupport", name="Acme Support", brand=True)
    customers = [sb.create_user(f"customer{i}") for i in range(50)]
    token = sb.mint_token(brand["id"])["access_token"]
    account = XAccount.objects.create(user_id=brand["id"], username="AcmeSupport", access_token=token)
    ensure_cursors(account)
    subscriptions.switch_intake_mode(account, XAccount.IntakeMode.WEBHOOK)
    print(f"bench realtime: account in webhook mode, {len(sb.activity_state()['subscriptions'])} subscriptions")

    # --- 1. latency per kind, by webhook and by stream ----------------------------------------
    ok = measure_latency(sb, account, customers, args.samples, "webhook") if args.latency else True
    if args.stream and args.latency:
        subscriptions.switch_intake_mode(account, XAccount.IntakeMode.STREAM)
        output = tempfile.TemporaryFile("w+")  # not a pipe: a full pipe would stall the consumer
        consumer = subprocess.Popen([sys.executable, "manage.py", "x_stream"], cwd=ROOT,
                                    stdout=output, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while sb.activity_state()["open_streams"] < 1 and time.monotonic() < deadline:
                if consumer.poll() is not None:
                    output.seek(0)
                    raise SystemExit(f"bench: manage.py x_stream exited ({consumer.returncode}):\n"
                                     f"{output.read()[-2000:]}")
                time.sleep(0.2)
            ok &= measure_latency(sb, account, customers, args.samples, "stream")
        finally:
            consumer.terminate()
            consumer.wait(timeout=10)
        subscriptions.switch_intake_mode(account, XAccount.IntakeMode.WEBHOOK)

    # --- 2. sustained load through the webhook ---------------------------------------------------
    before_events = ActivityEvent.objects.count()
    before_deliveries = len(sb.activity_state()["deliveries"])
    logged_before = _webhook_posts_logged(access_log)
    total = int(args.rate * args.seconds)
    ids: list[str] = []
    posted_at: dict[str, float] = {}
    errors: list[str] = []
    start = time.monotonic()
    lock = threading.Lock()

    late: list[float] = []

    # The posting threads speak to the sandbox's control API with urllib3, not the SandboxClient's
    # requests session: at hundreds of posts a second the bench's own CPU is the machine's too.
    import json

    import urllib3

    http = urllib3.PoolManager(maxsize=args.posters)

    def post_one(n: int, due: float) -> None:
        with lock:
            late.append(time.monotonic() - due)  # how long the post waited for a free poster
        try:
            r = http.request("POST", f"{sandbox_url}/sandbox/api/tweets", timeout=30, retries=False, body=json.dumps(
                {"author": customers[n % len(customers)]["username"], "text": f"@AcmeSupport load {n}"}),
                headers={"content-type": "application/json"})
            if r.status != 201 and r.status != 200:
                raise RuntimeError(f"sandbox answered {r.status}: {r.data[:200]!r}")
            t = json.loads(r.data)
            with lock:
                ids.append(t["id"])
                posted_at[t["id"]] = time.time()
        except Exception as exc:  # noqa: BLE001 — counted and reported
            with lock:
                errors.append(repr(exc))

    from concurrent.futures import ThreadPoolExecutor

    cpu_start = meter.snapshot()

    with ThreadPoolExecutor(max_workers=args.posters) as pool:
        for n in range(total):
            due = start + n / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post_one, n, due)
    posting = time.monotonic() - start
    cpu_posting = meter.since(cpu_start)
    kept_rate = posting <= args.seconds * (1 + RATE_SLACK)
    print(f"  load: posted {len(ids)} mentions in {posting:.1f} s ({len(ids) / posting:.1f}/s), "
          f"{len(errors)} posting errors; posts sent late p95 {pct(late, 0.95) * 1000:.0f} ms "
          f"max {max(late) * 1000:.0f} ms ({args.posters} posters){'' if kept_rate else '; RATE NOT KEPT'}")

    deadline = time.monotonic() + args.drain_timeout
    progress = (-1, time.monotonic())
    while time.monotonic() < deadline:
        done = IncomingItem.objects.filter(account=account, x_id__in=ids, converted_at__isnull=False).count()
        if done == len(ids):
            break
        if done != progress[0]:
            progress = (done, time.monotonic())
        elif time.monotonic() - progress[1] > STALL_SECONDS and not sb.activity_state()["deliveries_in_flight"]:
            break  # nothing more is coming: what is missing was lost (the report counts it)
        time.sleep(0.5)
    drained = time.monotonic() - start - posting
    cpu_all = meter.since(cpu_start)
    deliveries = sb.activity_state()["deliveries"][before_deliveries:]
    report = load_report(args, account, ids, posted_at, deliveries, ActivityEvent.objects.count() - before_events)
    if access_log is not None:
        inside = _webhook_posts_logged(access_log)[len(logged_before):] or [float("nan")]
        print(f"  load: the same POSTs timed inside the web server p50 {pct(inside, 0.5):.1f} ms "
              f"p95 {pct(inside, 0.95):.1f} ms p99 {pct(inside, 0.99):.1f} ms max {max(inside):.1f} ms "
              f"({len(inside)} logged)")
    ok &= kept_rate and report["ok"] and not errors
    print(f"  load: queue drained {drained:.1f} s after the last post")
    events = max(1, report["events"])
    print("  load: CPU ms per event while posting / until drained: " + ", ".join(
        f"{label} {cpu_posting[label] / events * 1000:.2f}/{cpu_all[label] / events * 1000:.2f} ms"
        for label in cpu_all))
    print(f"  load: CPU busy while posting {sum(cpu_posting.values()) / posting * 100:.0f}% of one core "
          f"({os.cpu_count()} cores); load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"bench realtime: {'OK' if ok else 'TARGET MISSED'} (ran {args.seconds:.0f} s at {args.rate:.0f}/s)")
    return 0 if ok else 1


def load_report(args, account, ids: list[str], posted_at: dict[str, float], deliveries: list[dict],
                events: int) -> dict:
    """Print what the load phase delivered and how fast; return whether it met the targets."""
    from tickets.models import Comment
    from twitter_channel.models import IncomingItem

    answered = [d for d in deliveries if d["status"] == 200]
    posts: dict[int, dict] = {}  # the sandbox lists one row per event; a POST is its delivery_id
    for d in deliveries:
        posts.setdefault(d.get("delivery_id", id(d)), d)
    ms = [d["ms"] for d in posts.values() if d.get("ms") is not None] or [float("nan")]
    sizes = [d.get("events_in_delivery", 1) for d in posts.values()] or [0]
    first_post = min(posted_at.values(), default=0.0)
    last_ack = max((d["at"] for d in answered), default=first_post)
    delivered_rate = len(answered) / (last_ack - first_post) if last_ack > first_post else 0.0
    tickets = IncomingItem.objects.filter(account=account, x_id__in=ids, ticket__isnull=False).count()
    comments = Comment.objects.filter(external_id__in=ids).count()
    doubled = comments - Comment.objects.filter(external_id__in=ids).values("external_id").distinct().count()
    lost = len(ids) - tickets
    ack_p99 = pct(ms, 0.99)
    print(f"  load: {len(answered)} of {len(deliveries)} events answered 200, delivered {delivered_rate:.1f}/s "
          f"(first post to last answer); {len(posts)} POSTs, events per POST mean {sum(sizes) / len(sizes):.2f} "
          f"max {max(sizes)}")
    print(f"  load: webhook answer per POST p50 {pct(ms, 0.5):.1f} ms p95 {pct(ms, 0.95):.1f} ms "
          f"p99 {ack_p99:.1f} ms max {max(ms):.1f} ms (target p99 <= {ACK_P99_TARGET_MS:.0f} ms)")
    print(f"  load: {events} events stored, {tickets} tickets for {len(ids)} posts; lost {lost}, doubled {doubled}")
    converted = _wait_converted(IncomingItem, account, "mention", ids, timeout=0)
    under_load = [converted[x_id] - at for x_id, at in posted_at.items() if x_id in converted] or [float("inf")]
    p95 = pct(under_load, 0.95)
    print(f"  load: post -> ticket under load p50 {pct(under_load, 0.5):.3f} s p95 {p95:.3f} s "
          f"p99 {pct(under_load, 0.99):.3f} s max {max(under_load):.3f} s (target p95 <= {LATENCY_TARGET_S} s)")
    ok = (lost == 0 and doubled == 0 and len(answered) == len(ids) and ack_p99 <= ACK_P99_TARGET_MS
          and p95 <= LATENCY_TARGET_S)
    return {"ok": ok, "events": events}


def _webhook_posts_logged(access_log: Path | None) -> list[float]:
    """The web server's own time (ms) for each webhook POST so far, in the order they ended."""
    if access_log is None or not access_log.exists():
        return []
    times = []
    for line in access_log.read_text().splitlines():
        method, path, _status, micros = line.split()
        if method == "POST" and path == "/x/webhook/":
            times.append(int(micros) / 1000)
    return times


def measure_latency(sb, account, customers, samples: int, mode: str) -> bool:
    """Post mentions, likes by the brand and DMs one at a time and time each from the moment the
    sandbox accepted it to its ticket (`converted_at`)."""
    from twitter_channel.models import IncomingItem

    posted: dict[str, list[tuple[str, float]]] = {"mention": [], "like": [], "dm": []}
    for i in range(samples):
        who = customers[i % len(customers)]["username"]
        t = sb.post_tweet(who, f"@AcmeSupport {mode} latency sample {i}")
        posted["mention"].append((t["id"], time.time()))
        time.sleep(0.05)
        plain = sb.post_tweet(who, f"a post worth a like ({mode}) {i}")
        sb.like("AcmeSupport", plain["id"])
        posted["like"].append((plain["id"], time.time()))
        time.sleep(0.05)
        dm = sb.send_dm(who, f"DM {mode} latency sample {i}", recipient="AcmeSupport")
        posted["dm"].append((dm["id"], time.time()))
        time.sleep(0.05)
    ok = True
    for kind, rows in posted.items():
        ids = [x_id for x_id, _ in rows]
        converted = _wait_converted(IncomingItem, account, kind, ids, timeout=60)
        latencies = [converted[x_id] - t0 for x_id, t0 in rows if x_id in converted]
        missing = len(ids) - len(latencies)
        p95 = pct(latencies, 0.95) if latencies else float("inf")
        p50 = pct(latencies, 0.5) if latencies else float("inf")
        ok &= p95 <= LATENCY_TARGET_S and not missing
        print(f"  latency {mode:7s} {kind:8s} n={len(latencies):3d}  p50 {p50:6.3f} s  "
              f"p95 {p95:6.3f} s  max {max(latencies, default=float('inf')):6.3f} s  missing {missing}  "
              f"(target p95 <= {LATENCY_TARGET_S} s)")
    return ok


def _wait_converted(IncomingItem, account, kind, ids, timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    while True:
        for x_id, at in IncomingItem.objects.filter(account=account, kind=kind, x_id__in=ids,
                                                    converted_at__isnull=False).values_list("x_id", "converted_at"):
            found[x_id] = at.astimezone(UTC).timestamp() if isinstance(at, datetime) else at
        if len(found) >= len(ids) or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
