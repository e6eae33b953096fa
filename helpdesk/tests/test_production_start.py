"""The documented production start (`bin/start-production`, `make production`) works: with
DEBUG off and secrets of its own it checks the deployment, migrates a fresh database, collects
the static files and serves the login page, the admin and a static file over real HTTP.

Before it existed, nothing ran collectstatic, and with DEBUG off every HTML page was a 500
(the manifest static storage cannot name a file it never collected)."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.conf import settings

pytestmark = pytest.mark.e2e

ROOT = Path(settings.BASE_DIR)


@pytest.fixture(scope="module")
def fresh_database():
    """A database of its own, empty, for the start's migrate; dropped afterwards."""
    default = settings.DATABASES["default"]
    if not default["ENGINE"].endswith("postgresql"):
        pytest.skip("the production start is tested against PostgreSQL (DATABASE_URL)")
    name = f"{default['NAME']}_production_start"[:63]
    admin_dsn = dict(host=default.get("HOST") or "127.0.0.1", port=default.get("PORT") or 5432,
                     user=default.get("USER") or "postgres", password=default.get("PASSWORD") or None,
                     dbname="postgres", autocommit=True)
    with psycopg.connect(**admin_dsn) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{admin_dsn['user']}@{admin_dsn['host']}:{admin_dsn['port']}/{name}"
    with psycopg.connect(**admin_dsn) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, *, https: bool = True) -> tuple[int, dict, bytes]:
    """GET without following redirects; `https` says what a TLS-terminating proxy would."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"} if https else {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def production(fresh_database, tmp_path_factory):
    """One start for the module: a migration from nothing takes most of a minute."""
    tmp_path = tmp_path_factory.mktemp("production")
    port = free_port()
    # A clean environment, as on a server: nothing of the test run's own (DJANGO_SETTINGS_MODULE,
    # DEBUG, the DJANGO_ALLOW_ASYNC_UNSAFE the browser tests set) may leak into production.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR", "REDIS_URL") if key in os.environ}
    env.update(
        DEBUG="false",
        DATABASE_URL=fresh_database,
        # Secrets of its own: production refuses the public development values.
        SECRET_KEY=secrets.token_urlsafe(50),
        SECRET_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        X_WEBHOOK_CONSUMER_SECRET=secrets.token_urlsafe(32),
        X_APP_BEARER_TOKEN=secrets.token_urlsafe(32),
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        BIND=f"127.0.0.1:{port}",
        PYTHON=sys.executable,
        WEB_CONCURRENCY="1",
        # gunicorn's control socket defaults to one path per user; other starts may be running.
        GUNICORN_CMD_ARGS="--no-control-socket",
    )
    log = tmp_path / "start.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(ROOT / "bin" / "start-production")], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # migrate on a fresh database takes a while on a busy machine
            if proc.poll() is not None:
                pytest.fail(f"start-production exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                get(base + "/login/")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"start-production never answered:\n{log.read_text()[-4000:]}")
        yield base, tmp_path, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_production_start_serves_the_login_page_the_admin_and_static_files(production):
    base, tmp_path, log = production

    status, _, login = get(base + "/login/")
    assert status == 200, log.read_text()[-3000:]
    assert b'name="username"' in login

    status, _, admin = get(base + "/admin/login/")
    assert status == 200
    assert b"Django administration" in admin or b"Log in" in admin

    # The stylesheet is named by the manifest (a content hash) and served by WhiteNoise.
    stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login)
    assert stylesheet, login[:2000]
    status, headers, css = get(base + stylesheet.group(1).decode())
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert css == (tmp_path / "static" / stylesheet.group(1).decode().removeprefix("/static/")).read_bytes()


def test_production_start_runs_in_production_mode(production):
    base, _, log = production

    status, headers, _ = get(base + "/login/", https=False)
    assert status == 301 and headers["Location"].startswith("https://")  # SECURE_SSL_REDIRECT
    status, _, page = get(base + "/no-such-page/")
    assert status == 404 and b"Traceback" not in page  # DEBUG is off
    text = log.read_text()
    assert "System check identified no issues" in text and "Applying tickets.0001_initial" in text
