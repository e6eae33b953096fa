"""Live workspace: 50 agents' queue pages connected over WebSockets; how long from a ticket's
commit until it is on every screen, and what each connection costs the server in memory.

The helpdesk runs as in production (DEBUG off) under uvicorn, in its own process; the bench
process opens the sockets (as logged-in agents, some of them restricted), subscribes each to
a queue page, then opens tickets one by one through `open_ticket_with_comment`, the intake's
own path, and times each from its commit to the moment the last socket received its row.
Target: p95 <= 1 s. Memory: the server's resident size before and after the sockets connect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import use_bench_database
from bench.realtime import free_port, pct, wait_http

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "helpdesk_bench_live"
TARGET_S = 1.0
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-live-secret-key-not-for-production-0123456789abcdef",
    "SECRET_ENCRYPTION_KEYS": "YmVuY2gtbGl2ZS1lbmNyeXB0aW9uLWtleS0xMjM0NTY=",
    "X_WEBHOOK_CONSUMER_SECRET": "bench-live-consumer-secret",
    "X_APP_BEARER_TOKEN": "bench-live-app-bearer-token",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; in production TLS ends at the proxy
    "LOG_LEVEL": "WARNING",
}


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m bench live", description=__doc__.split("\n\n")[0])
    p.add_argument("--agents", type=int, default=50, help="connected agents (default 50)")
    p.add_argument("--restricted", type=int, default=10, help="of which restricted agents (default 10)")
    p.add_argument("--samples", type=int, default=40, help="tickets timed (default 40)")
    p.add_argument("--tickets", type=int, default=5000, help="tickets already in the helpdesk (default 5000)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between timed tickets (default 0.5)")
    p.add_argument("--no-redis", dest="redis", action="store_false",
                   help="run the server without REDIS_URL (in-memory channel layer, as make run does)")
    return p.parse_args(argv)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A SIGTERM (timeout, Ctrl-C in make) must still stop the server below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    use_bench_database(DATABASE)
    os.environ.update(PRODUCTION_ENV)
    if not args.redis:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    cookies, support_group = seed(args)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "uvicorn"), "helpdesk.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning", "--no-access-log",
         "--timeout-graceful-shutdown", "5"],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )
    try:
        wait_http(url + "/health/")
        time.sleep(1)
        return run(args, port, server.pid, cookies, support_group)
    finally:
        server.terminate()
        server.wait(timeout=10)


def seed(args):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from tickets.models import Group, Requester, Ticket, User

    support = Group.objects.create(name="Support")
    other = Group.objects.create(name="Billing")
    requester = Requester.objects.create(name="Bench customer")
    Ticket.objects.bulk_create(
        Ticket(subject=f"Old ticket {n}", requester=requester, group=support if n % 2 else other, status="open")
        for n in range(args.tickets)
    )
    cookies = []
    for n in range(args.agents):
        restricted = n < args.restricted
        user = User.objects.create_user(f"bench-agent-{n}", role=User.Role.RESTRICTED if restricted else User.Role.AGENT)
        if restricted:
            user.allowed_groups.add(support)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        cookies.append(f"sessionid={session.session_key}")
    return cookies, support


def run(args, port: int, server_pid: int, cookies: list[str], support_group) -> int:
    from django.db import transaction

    from tickets.comments import open_ticket_with_comment
    from tickets.models import Requester

    arrivals: dict[int, list[float]] = {}
    ready = threading.Event()
    stop = threading.Event()
    errors: list[str] = []
    memory = {"before": rss_kib(server_pid)}

    async def agent(cookie: str, connected: list) -> None:
        import websockets

        async with websockets.connect(
            f"ws://127.0.0.1:{port}/live/ws/", origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": cookie}, max_size=2**22,
        ) as ws:
            await ws.send(json.dumps({"type": "subscribe", "page": "queue", "path": "/views/open/", "query": "",
                                      "shown": []}))
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "ping":  # answered as live.js does, or the server closes us
                    await ws.send(json.dumps({"type": "pong"}))
                if message["type"] == "queue":
                    break
            connected.append(1)
            while not stop.is_set():
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                if message["type"] == "queue":
                    now = time.monotonic()
                    for ticket_id in message["rows"]:
                        arrivals.setdefault(int(ticket_id), []).append(now)

    async def all_agents() -> None:
        connected: list = []
        tasks = [asyncio.create_task(agent(cookie, connected)) for cookie in cookies]
        while len(connected) < len(cookies):
            done = [t for t in tasks if t.done() and t.exception()]
            if done:
                errors.append(repr(done[0].exception()))
                ready.set()
                return
            await asyncio.sleep(0.05)
        ready.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    thread = threading.Thread(target=lambda: asyncio.run(all_agents()), daemon=True)
    thread.start()
    ready.wait(120)
    if errors:
        stop.set()
        raise SystemExit(f"bench live: a socket failed: {errors[0]}")
    time.sleep(2)
    memory["after"] = rss_kib(server_pid)
    per_connection = (memory["after"] - memory["before"]) / len(cookies)
    print(f"bench live: {len(cookies)} agents connected ({args.restricted} restricted), "
          f"{args.tickets} tickets; server RSS {memory['before'] / 1024:.1f} -> {memory['after'] / 1024:.1f} MiB, "
          f"{per_connection:.0f} KiB per connection")

    requester = Requester.objects.create(name="Live bench customer")
    everyone, first, missed = [], [], 0
    for n in range(args.samples):
        # Restricted agents see the Support group: every timed ticket must reach all screens.
        with transaction.atomic():
            ticket = open_ticket_with_comment(requester=requester, subject=f"Live {n}", body="hello",
                                              group=support_group).ticket
        committed = time.monotonic()
        deadline = committed + 10
        while len(arrivals.get(ticket.pk, [])) < len(cookies) and time.monotonic() < deadline:
            time.sleep(0.01)
        got = arrivals.get(ticket.pk, [])
        if len(got) < len(cookies):
            missed += 1
            print(f"  ticket {ticket.pk}: on {len(got)} of {len(cookies)} screens after 10 s")
        else:
            everyone.append(max(got) - committed)
            first.append(min(got) - committed)
        time.sleep(args.interval)
    stop.set()
    thread.join(5)
    if not everyone:
        print("bench live: no ticket reached every screen")
        return 1
    p95 = pct(everyone, 0.95)
    print(f"  commit -> first screen   p50 {pct(first, 0.5) * 1000:6.0f} ms  p95 {pct(first, 0.95) * 1000:6.0f} ms")
    print(f"  commit -> every screen   p50 {pct(everyone, 0.5) * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms  "
          f"max {max(everyone) * 1000:6.0f} ms  (target p95 <= {TARGET_S * 1000:.0f} ms)")
    print(f"  tickets that missed a screen within 10 s: {missed} of {args.samples}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0 if p95 <= TARGET_S and not missed else 1
