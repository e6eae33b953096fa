"""After the database drops its connections (a restart, a failover, a blip of two seconds), the
next request works: a kept connection is checked before it is used (CONN_HEALTH_CHECKS)
instead of failing the first request with a 500.

The web server is gunicorn in a process of its own, as in production: it keeps its database
connection between requests for CONN_MAX_AGE seconds, which is what goes stale."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tickets.tests.factories import UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="needs PostgreSQL"),
]


def status_of(url: str, cookie: str = "") -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def drop_the_web_servers_connections() -> int:
    """What a database restart does to the connections the web server keeps."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def start_web(tmp_path: Path, **environment: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CONN_MAX_AGE": "600",
        "GUNICORN_CMD_ARGS": "--no-control-socket",
        **environment,
    }
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - kept open for the process' life
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "helpdesk.wsgi", "--workers", "1", "--bind",
         f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            status_of(url + "/login/")
            return proc, url
        except OSError:
            time.sleep(0.2)
    raise AssertionError((tmp_path / "web.log").read_text()[-3000:])


@pytest.fixture
def web(tmp_path):
    started = []

    def start(**environment):
        proc, url = start_web(tmp_path, **environment)
        started.append(proc)
        return url

    yield start
    for proc in started:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)


@pytest.fixture
def session_cookie(transactional_db, client):
    client.force_login(UserFactory())
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_health_checks_are_on_by_default():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_first_request_after_the_database_dropped_its_connections_works(web, session_cookie):
    url = web()
    assert status_of(url + "/", session_cookie) == 200  # the worker now keeps a connection

    assert drop_the_web_servers_connections() >= 1

    assert status_of(url + "/", session_cookie) == 200


def test_without_health_checks_the_first_request_after_a_blip_fails(web, session_cookie):
    """What CONN_HEALTH_CHECKS fixes (and why turning it off is a bad idea)."""
    url = web(CONN_HEALTH_CHECKS="false")
    assert status_of(url + "/", session_cookie) == 200
    drop_the_web_servers_connections()
    assert status_of(url + "/", session_cookie) == 500
    assert status_of(url + "/", session_cookie) == 200  # Django drops the broken connection after the error
