"""Load test for the X sandbox: starts it, seeds it, fires a bounded number of requests, prints req/s.

    .venv/bin/python bench/sandbox_load.py [--requests 5000] [--threads 4] [--path mentions|me|mixed]

The sandbox runs in its own process (``python -m xsandbox --rate-limits unlimited``) on a free
127.0.0.1 port; the client uses keep-alive ``http.client`` connections, one per thread, so the
client's own overhead stays small next to the server's. The bar is >= 500 req/s on 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(conn: http.client.HTTPConnection, method: str, path: str, body: dict | None = None,
         token: str | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("sandbox exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            call(conn, "GET", "/sandbox/api/config")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("sandbox did not start")


def seed(port: int) -> tuple[str, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    _, body = call(conn, "POST", "/sandbox/api/users", {"username": "BenchBrand", "brand": True})
    brand = json.loads(body)["id"]
    call(conn, "POST", "/sandbox/api/users", {"username": "customer"})
    for i in range(200):
        call(conn, "POST", "/sandbox/api/tweets", {"author": "customer", "text": f"@BenchBrand help #{i}"})
    for i in range(50):
        call(conn, "POST", "/sandbox/api/dms", {"sender": "customer", "recipient": brand, "text": f"dm {i}"})
    _, body = call(conn, "POST", "/sandbox/api/tokens", {"user": brand})
    token = json.loads(body)["access_token"]
    _, body = call(conn, "GET", "/sandbox/api/tweets")
    tweet_id = json.loads(body)["tweets"][0]["id"]
    return brand, token, tweet_id


def worker(port: int, paths: list[str], token: str, count: int, latencies: list[float], errors: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(count):
        path = paths[i % len(paths)]
        start = time.perf_counter()
        status, _ = call(conn, "GET", path, token=token)
        latencies.append(time.perf_counter() - start)
        if status != 200:
            errors.append(status)
    conn.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--path", choices=["mentions", "me", "mixed"], default="mixed")
    args = p.parse_args()

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "xsandbox", "--port", str(port), "--rate-limits", "unlimited"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_until_up(port, proc)
        brand, token, tweet_id = seed(port)
        mentions = f"/2/users/{brand}/mentions?max_results=10&tweet.fields=created_at,author_id,conversation_id"
        paths = {"mentions": [mentions], "me": ["/2/users/me"],
                 "mixed": [mentions, "/2/users/me", f"/2/tweets/{tweet_id}?expansions=author_id",
                           "/2/dm_events?max_results=20", f"/2/users/{brand}/mentions?since_id={tweet_id}"]}[args.path]
        per_thread = args.requests // args.threads
        latencies: list[float] = []
        errors: list[int] = []
        threads = [threading.Thread(target=worker, args=(port, paths, token, per_thread, latencies, errors))
                   for _ in range(args.threads)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        total = per_thread * args.threads
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        print(f"requests: {total}  threads: {args.threads}  mix: {args.path}  errors: {len(errors)}")
        print(f"throughput: {total / elapsed:.0f} req/s  ({elapsed:.2f} s)")
        print(f"latency: p50 {q[49] * 1000:.1f} ms  p95 {q[94] * 1000:.1f} ms  max {latencies[-1] * 1000:.1f} ms")
        if errors:
            raise SystemExit(f"{len(errors)} non-200 answers, e.g. {errors[:5]}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
