"""Real Celery worker and beat processes for end-to-end tests and the intake benchmark.

They run as subprocesses with their configuration in the environment, exactly as in
production: PostgreSQL (the database the caller names), Redis as broker (a db number of
its own, flushed first), X_API_BASE_URL pointing at a sandbox started by the caller.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
# The queues of helpdesk.settings.WORK_QUEUES, most urgent first (not imported: the harness
# also runs before Django is set up). A test checks the two agree.
WORK_QUEUES = ("send", "mail", "intake", "default", "convert")
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url(settings_dict: dict) -> str:
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    user = settings_dict.get("USER") or "postgres"
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


def redis_server() -> str:
    """The Redis server of REDIS_URL without its database number (default the local one), so
    a second checkout can run its end-to-end tests against a Redis of its own."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


class CeleryProcesses:
    """Start/stop/kill a worker and a beat. Each runs in its own process group, so `kill()`
    takes the prefork children down with the parent, as a crashed machine would."""

    def __init__(self, *, db_url: str, broker_db: int, x_base_url: str, concurrency: int = 2,
                 extra_env: dict[str, str] | None = None, broker_server: str | None = None,
                 workers: list[tuple[str, int]] | None = None):
        """`workers`: (queues, concurrency) of each worker process, as production starts one per
        queue (or two per queue, as on two hosts); default one worker consuming every queue."""
        self.broker_url = f"{broker_server or redis_server()}/{broker_db}"
        self.tmp = tempfile.mkdtemp(prefix="x-e2e-")
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "CELERY_BROKER_URL": self.broker_url,
            "REDIS_URL": self.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "X_API_BASE_URL": x_base_url,
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.layout = workers or [(",".join(WORK_QUEUES), concurrency)]
        self.workers: list[subprocess.Popen] = []
        self.beat: subprocess.Popen | None = None

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(Path(self.tmp) / f"{name}.log", "ab")  # noqa: SIM115 — kept open for the process' life
        return subprocess.Popen([CELERY, "-A", "helpdesk", *args], cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> CeleryProcesses:
        redis.Redis.from_url(self.broker_url).flushdb()
        self.start_worker()
        self.beat = self._spawn("beat", ["beat", "--loglevel", "WARNING", "--schedule",
                                         str(Path(self.tmp) / "beat-schedule")])
        return self

    @property
    def worker(self) -> subprocess.Popen | None:
        """The first worker (the only one by default)."""
        return self.workers[0] if self.workers else None

    def start_worker(self) -> None:
        self.workers = [
            self._spawn(f"worker-{n}", ["worker", "--loglevel", "WARNING", "--pool", "prefork", "-Q", queues,
                                        "--hostname", f"worker{n}@%h", "--concurrency", str(concurrency),
                                        "--without-gossip", "--without-mingle", "--without-heartbeat"])
            for n, (queues, concurrency) in enumerate(self.layout)
        ]

    def kill_worker(self) -> None:
        """kill -9 every worker and its pool processes, mid-whatever."""
        for worker in self.workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)

    def stop(self) -> None:
        procs = [self.beat, *self.workers]
        for proc in procs:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            if proc is not None:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in Path(self.tmp).glob("*.log"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server of the test's own on a spare port, to stop and start again
    (keeping nothing on disk, as in production here: a restart loses every queued task)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def answers() -> bool:
            try:
                return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, 10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class WebProcess:
    """The helpdesk's web server as in production (gunicorn, threaded workers) in a subprocess,
    on a free port, for X to deliver webhooks to over real HTTP."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.workers, self.threads = env, workers, threads
        self.proc: subprocess.Popen | None = None
        self.log = Path(tempfile.mkdtemp(prefix="x-e2e-web-")) / "web.log"

    def start(self, ready_path: str = "/health/") -> WebProcess:
        log = open(self.log, "ab")  # noqa: SIM115 — kept open for the process' life
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "helpdesk.wsgi:application", "--bind",
             f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--worker-class", "gthread", "--threads",
             str(self.threads), "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def answers() -> bool:
            try:
                urllib.request.urlopen(self.url + ready_path, timeout=1)  # noqa: S310 — our own loopback server
            except urllib.error.HTTPError:
                return True  # it answers, whatever it thinks of its health
            except OSError:
                return False
            return True

        wait_for(answers, 30, what="the web server", describe=lambda: self.log.read_text(errors="replace")[-3000:])
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def wait_for(check: Callable[[], object], timeout: float, interval: float = 0.1, what: str = "condition",
             describe: Callable[[], str] | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f"\n{describe()}" if describe else ""))
        time.sleep(interval)
