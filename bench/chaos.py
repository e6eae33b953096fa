"""Proof under chaos: during a burst of mentions and agent replies, kill -9 the worker, restart
Redis, restart PostgreSQL; afterwards every mention is exactly one ticket and every reply
exactly one post, and the time the helpdesk took to recover is printed.

    python -m bench chaos [--mentions 150] [--replies 30] [--seconds 20]

Every part is a real process: a PostgreSQL cluster of its own (initdb + pg_ctl on a spare
port, in a temporary folder: the machine's PostgreSQL is shared and never touched), a
redis-server of its own (nothing kept on disk, so its restart loses every queued task), the
X sandbox, gunicorn, a Celery worker and two Celery beats (a second beat must double
nothing). Mentions are posted on the sandbox at a steady rate for `--seconds`; an agent
answers tickets through the web server as they arrive, retrying a request that failed
(only after checking the reply was not saved). Meanwhile, by default at 25 %, 50 % and 75 %
of the burst: the worker is killed with SIGKILL (and started again 2 s later), Redis is
stopped and started empty, PostgreSQL is stopped in immediate mode (a crash) and started.

Recovery time: from the last disruption (PostgreSQL back) until every mention has its one
ticket and every reply its one post. Exit code 1 when anything was lost or doubled.
`--no-postgres` skips the throwaway cluster and its restart (DATABASE_URL's server is used).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from glob import glob
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE = "helpdesk_chaos"
PASSWORD = "chaos-agent-pass-1234"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench chaos", description=__doc__.split("\n\n")[0])
    p.add_argument("--mentions", type=int, default=150, help="mentions in the burst (default 150)")
    p.add_argument("--replies", type=int, default=30, help="agent replies during the burst (default 30)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the burst (default 20)")
    p.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default 2)")
    p.add_argument("--recovery-timeout", type=float, default=300.0)
    p.add_argument("--no-postgres", dest="postgres", action="store_false",
                   help="no throwaway PostgreSQL cluster and no PostgreSQL restart")
    return p.parse_args(argv)


class PostgresCluster:
    """A throwaway PostgreSQL cluster on a spare port. As root, it runs as the postgres user
    (initdb refuses root)."""

    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        self.data = self.dir / "data"
        self.bin = Path(sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]).parent
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)

    def init(self) -> PostgresCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self.start()

    def start(self) -> PostgresCluster:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        return self

    def crash(self) -> None:
        """Stop as a crash would: no checkpoint, every connection cut."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"


def resilient(fn, *, attempts: int = 600):
    """Run a database read in the bench's own process, riding out the PostgreSQL restart."""
    from django.db import InterfaceError, OperationalError, connection

    for _ in range(attempts):
        try:
            return fn()
        except (OperationalError, InterfaceError):
            connection.close()
            time.sleep(0.2)
    raise SystemExit("chaos: the database did not come back")


class Agent(threading.Thread):
    """Answers tickets through the web server as they arrive, `total` replies in all, and
    retries a reply whose request failed once it is sure the reply was not saved."""

    def __init__(self, web_url: str, total: int, pace: float, stop: threading.Event):
        super().__init__(daemon=True)
        self.web_url, self.total, self.pace, self.stop = web_url, total, pace, stop
        self.bodies: list[str] = []
        self.failed_requests = 0

    def run(self) -> None:
        import requests

        from tickets.models import Comment, Ticket

        session = None
        answered: set[int] = set()
        while len(self.bodies) < self.total and not self.stop.is_set():
            ticket, body = None, ""
            try:
                session = session or login(self.web_url)
                ticket = resilient(lambda: Ticket.objects.exclude(pk__in=answered).order_by("pk").first())
                if ticket is None:
                    time.sleep(0.2)
                    continue
                body = f"Reply {len(self.bodies) + 1}: we are looking at ticket {ticket.pk}"
                page = session.get(f"{self.web_url}/tickets/{ticket.pk}/", timeout=30)
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
                response = session.post(f"{self.web_url}/tickets/{ticket.pk}/reply/", timeout=30,
                                        data={"body": body, "kind": "public", "csrfmiddlewaretoken": token},
                                        headers={"Referer": page.url})
                saved = "Reply queued" in response.text
            except (requests.RequestException, AttributeError):
                saved = False
            if not saved:
                self.failed_requests += 1
                # Saved after all (the commit landed, the answer did not)? Then it is done.
                saved = bool(body) and resilient(lambda b=body: Comment.objects.filter(body=b).exists())
            if saved:
                answered.add(ticket.pk)
                self.bodies.append(body)
                time.sleep(self.pace)
            else:
                time.sleep(1.0)


def login(web_url: str):
    import requests

    session = requests.Session()
    page = session.get(f"{web_url}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{web_url}/login/", timeout=30, allow_redirects=False,
                            data={"username": "chaos-agent", "password": PASSWORD, "csrfmiddlewaretoken": token})
    if response.status_code != 302:
        raise requests.RequestException("login failed")
    return session


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from twitter_channel.tests.e2e_harness import RedisServer, free_port

    cluster = None
    if args.postgres:
        cluster = PostgresCluster(free_port()).init()
        os.environ["DATABASE_URL"] = cluster.url
    from bench import use_bench_database

    try:
        db_url = use_bench_database(DATABASE)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings_dev")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        broker = RedisServer().start()
        try:
            return run(args, db_url, broker, cluster)
        finally:
            broker.stop()
    finally:
        if cluster is not None:
            cluster.destroy()


def run(args, db_url: str, broker, cluster) -> int:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from tickets.models import Comment, User
    from twitter_channel.accounts.connection import ensure_cursors
    from twitter_channel.models import IncomingItem, StreamCursor, XAccount
    from twitter_channel.tests.e2e_harness import CeleryProcesses, WebProcess, wait_for
    from xsandbox.testing import running_sandbox

    with running_sandbox(rate_limits="unlimited") as sb:
        brand = sb.create_user("AcmeSupport", name="Acme Support", brand=True)
        account = XAccount.objects.create(user_id=brand["id"], username="AcmeSupport",
                                          access_token=sb.mint_token(brand["id"])["access_token"])
        ensure_cursors(account)
        authors = [sb.create_user(f"customer{i}")["id"] for i in range(args.mentions)]
        User.objects.create(username="chaos-agent", role=User.Role.AGENT,
                            password=PBKDF2PasswordHasher().encode(PASSWORD, "chaossaltchaossalt"))
        procs = CeleryProcesses(
            db_url=db_url, broker_db=0, x_base_url=sb.base_url, concurrency=args.concurrency,
            broker_server=broker.url,
            extra_env={
                "LOG_LEVEL": "ERROR",
                "X_POLL_DISPATCH_SECONDS": "0.5", "X_POLL_MIN_INTERVAL_SECONDS": "1",
                "X_POLL_BACKOFF_BASE_SECONDS": "1", "X_POLL_BACKOFF_MAX_SECONDS": "3", "X_POLL_CLAIM_SECONDS": "5",
                "X_SWEEP_GRACE_SECONDS": "3", "X_SWEEP_INTERVAL_SECONDS": "2",
                "OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_SWEEP_GRACE_SECONDS": "3",
                "X_SEND_STALE_SECONDS": "10", "X_SEND_BACKOFF_SECONDS": "1",
                "HEARTBEAT_SECONDS": "1",
            },
        ).start()
        second_beat = procs._spawn("beat2", ["beat", "--loglevel", "ERROR", "--schedule",
                                             str(Path(procs.tmp) / "beat2-schedule")])
        web = WebProcess(procs.env).start()
        try:
            wait_for(lambda: StreamCursor.objects.filter(account=account, last_success_at__isnull=False).count() == 3,
                     60, what="the first polls")
            print(f"chaos: {args.mentions} mentions and {args.replies} replies over {args.seconds:.0f} s; worker "
                  f"x{args.concurrency}, two beats, PostgreSQL {'of its own' if cluster else 'NOT restarted'}",
                  flush=True)
            return burst_with_chaos(args, sb, brand, authors, procs, broker, cluster, web, Comment, IncomingItem,
                                    wait_for)
        finally:
            web.stop()
            if second_beat.poll() is None:
                second_beat.terminate()
                second_beat.wait(15)
            procs.stop()


def burst_with_chaos(args, sb, brand, authors, procs, broker, cluster, web, Comment, IncomingItem, wait_for) -> int:
    from django.db.models import Count

    stop = threading.Event()
    mention_ids: list[str] = []

    def post_mentions():
        started = time.monotonic()
        for i, author in enumerate(authors):
            due = started + i * args.seconds / len(authors)
            time.sleep(max(0.0, due - time.monotonic()))
            mention_ids.append(sb.post_tweet(author, f"@AcmeSupport problem number {i}")["id"])

    poster = threading.Thread(target=post_mentions, daemon=True)
    agent = Agent(web.url, args.replies, pace=args.seconds / max(args.replies, 1) / 2, stop=stop)
    started = time.monotonic()
    poster.start()
    agent.start()

    def at(share: float) -> None:
        time.sleep(max(0.0, started + share * args.seconds - time.monotonic()))

    events = []
    at(0.25)
    procs.kill_worker()
    events.append(("worker killed (SIGKILL)", time.monotonic() - started))
    time.sleep(2)
    procs.start_worker()
    at(0.5)
    broker.stop()
    time.sleep(1)
    broker.start()
    events.append(("Redis restarted empty", time.monotonic() - started))
    if cluster is not None:
        at(0.75)
        cluster.crash()
        time.sleep(2)
        cluster.start()
        events.append(("PostgreSQL crashed and restarted", time.monotonic() - started))
    last_disruption = time.monotonic()
    poster.join(args.seconds * 3)
    agent.join(args.recovery_timeout)
    stop.set()
    if len(agent.bodies) < args.replies:
        print(f"chaos: the agent got only {len(agent.bodies)} of {args.replies} replies in", file=sys.stderr)
        return 1

    def posts_by_text() -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in sb.timeline()["items"]:
            if t.get("kind") == "tweet" and t.get("author_id") == brand["id"]:
                counts[t["text"]] = counts.get(t["text"], 0) + 1
        return counts

    def settled() -> bool:
        mentions_done = resilient(lambda: Comment.objects.filter(
            external_source="tweet", external_id__in=mention_ids).count()) == len(mention_ids)
        sent = resilient(lambda: Comment.objects.filter(body__in=agent.bodies, delivery="sent").count())
        return mentions_done and sent == len(agent.bodies)

    try:
        wait_for(settled, args.recovery_timeout, interval=0.25, what="every mention ticketed and every reply sent")
    except AssertionError as exc:
        print(f"chaos: NOT recovered: {exc}\n{procs.logs()}", file=sys.stderr)
        return 1
    recovery = time.monotonic() - last_disruption
    time.sleep(5)  # sweepers and two beats keep running: nothing may double meanwhile

    problems = []
    per_mention = dict(resilient(lambda: list(Comment.objects.filter(
        external_source="tweet", external_id__in=mention_ids).values_list("external_id").annotate(n=Count("pk")))))
    items = resilient(lambda: IncomingItem.objects.filter(kind="mention", x_id__in=mention_ids).count())
    doubled = [x for x, n in per_mention.items() if n != 1]
    if len(per_mention) != len(mention_ids) or doubled or items != len(mention_ids):
        problems.append(f"mentions: {len(mention_ids)} posted, {len(per_mention)} with a comment, "
                        f"{len(doubled)} doubled, {items} items stored")
    posts = posts_by_text()
    replies_posted = [posts.get(b, 0) for b in agent.bodies]
    comments = resilient(lambda: Comment.objects.filter(body__in=agent.bodies).count())
    if any(n != 1 for n in replies_posted) or comments != len(agent.bodies):
        problems.append(f"replies: {len(agent.bodies)} made, {comments} comments, posts per reply "
                        f"{sorted(set(replies_posted))}")
    for name, t in events:
        print(f"  {t:5.1f} s  {name}")
    print(f"chaos: {len(mention_ids)} mentions -> {len(per_mention)} tickets, none doubled; "
          f"{len(agent.bodies)} replies -> {sum(replies_posted)} posts on X "
          f"({agent.failed_requests} agent requests failed during the outages and were retried)")
    print(f"chaos: recovered {recovery:.1f} s after the last disruption "
          f"({time.monotonic() - started:.1f} s after the burst began)")
    if problems:
        print("chaos: LOST OR DOUBLED: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
