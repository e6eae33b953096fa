"""End to end, nothing lost: the broker (a redis-server of the test's own) is stopped while an
agent answers an X ticket and an email ticket through the real web server; both replies are
saved and shown queued, and once the broker is back, beat's outbox sweeper delivers each
exactly once: one post on the sandbox, one email. Every part is a real process (gunicorn,
Celery worker and beat, the sandbox, PostgreSQL, Redis)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse

from helpdesk.models import Heartbeat
from tickets.models import Channel, Comment, Ticket, User
from tickets.tests.factories import EmailIdentityFactory, RequesterFactory, TicketFactory
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import StreamCursor, XAccount
from xsandbox.testing import running_sandbox

from .e2e_harness import CeleryProcesses, RedisServer, WebProcess, database_url, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stack(tmp_path, django_db_setup, django_db_blocker):
    """Sandbox, a Redis of our own, worker, beat and web, all sharing the test database."""
    broker = RedisServer().start()
    with running_sandbox() as sandbox, django_db_blocker.unblock():
        procs = CeleryProcesses(
            db_url=database_url(connection.settings_dict), broker_db=0, x_base_url=sandbox.base_url,
            broker_server=broker.url,
            extra_env={
                "X_POLL_DISPATCH_SECONDS": "0.5",
                "X_POLL_MIN_INTERVAL_SECONDS": "1",
                "OUTBOX_SWEEP_SECONDS": "1",
                "OUTBOX_SWEEP_GRACE_SECONDS": "2",
                "HEARTBEAT_SECONDS": "1",
                "EMAIL_URL": f"filemail:///{tmp_path}/mail",
            },
        ).start()
        web = WebProcess(procs.env).start()
        try:
            yield sandbox, broker, procs, web, tmp_path / "mail"
        finally:
            web.stop()
            procs.stop()
            broker.stop()


def logged_in(web: WebProcess, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{web.url}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{web.url}/login/", data={"username": username, "password": password,
                                                       "csrfmiddlewaretoken": token}, allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return session


def post_form(session: requests.Session, page_url: str, action: str, data: dict) -> requests.Response:
    page = session.get(page_url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(action, data={**data, "csrfmiddlewaretoken": token}, headers={"Referer": page_url})


def emails_sent(folder: Path) -> list[str]:
    """Message-IDs of every message the file backend wrote (one file per connection)."""
    if not folder.exists():
        return []
    text = "".join(p.read_text(errors="replace") for p in folder.iterdir())
    return re.findall(r"^Message-ID: (\S+)$", text, flags=re.MULTILINE)


def test_replies_made_while_the_broker_is_down_are_delivered_once_when_it_is_back(stack):
    sandbox, broker, procs, web, mail_folder = stack
    brand_user = sandbox.create_user("AcmeSupport", name="Acme Support", brand=True)
    alice = sandbox.create_user("alice", name="Alice")
    brand = XAccount.objects.create(user_id=brand_user["id"], username="AcmeSupport",
                                    access_token=sandbox.mint_token(brand_user["id"])["access_token"])
    ensure_cursors(brand)
    wait_for(lambda: StreamCursor.objects.filter(account=brand, last_success_at__isnull=False).exists(), 30,
             what="the first poll", describe=procs.logs)
    mention = sandbox.post_tweet(alice["id"], "@AcmeSupport my order is late")
    x_ticket = wait_for(lambda: Ticket.objects.filter(comments__external_id=mention["id"]).first(), 30,
                        what="the mention's ticket", describe=procs.logs)
    ann = RequesterFactory(name="Ann Smith")
    EmailIdentityFactory(requester=ann, value="ann@example.com")
    email_ticket = TicketFactory(requester=ann, channel=Channel.EMAIL, subject="Printer on fire")
    # Hashed with the web server's hasher (the tests' own is a fast one the server does not know).
    User.objects.create(username="dana", role=User.Role.AGENT,
                        password=PBKDF2PasswordHasher().encode("dana-pass-1234", "e2esalt0e2esalt0"))
    agent = logged_in(web, "dana", "dana-pass-1234")

    broker.stop()
    x_page = f"{web.url}{x_ticket.get_absolute_url()}"
    x_reply = post_form(agent, x_page, web.url + reverse("tickets:reply", args=[x_ticket.pk]),
                        {"body": "Sorry Alice, checking now", "kind": "public"})
    email_page = f"{web.url}{email_ticket.get_absolute_url()}"
    email_reply = post_form(agent, email_page, web.url + reverse("tickets:reply", args=[email_ticket.pk]),
                            {"body": "We are sending a technician", "kind": "public"})

    # The agent's requests succeeded, and the replies are saved and shown as queued.
    assert x_reply.status_code == 200 and "Reply queued for X" in x_reply.text
    assert email_reply.status_code == 200 and "Reply queued by email" in email_reply.text
    x_comment = Comment.objects.get(ticket=x_ticket, author_user__isnull=False)
    email_comment = Comment.objects.get(ticket=email_ticket)
    assert {x_comment.delivery, email_comment.delivery} == {Comment.Delivery.QUEUED}
    health = requests.get(f"{web.url}/health/", timeout=10)
    assert health.status_code == 503 and health.json()["checks"]["broker"].startswith("error")

    time.sleep(3)  # longer than the sweep grace: the sweeper would have sent them by now
    broker.start()
    started = time.monotonic()

    def delivered() -> bool:
        return set(Comment.objects.filter(pk__in=[x_comment.pk, email_comment.pk])
                   .values_list("delivery", flat=True)) == {Comment.Delivery.SENT}

    wait_for(delivered, 60, interval=0.2, what="both replies sent after the broker came back",
             describe=lambda: str(list(Comment.objects.filter(pk__in=[x_comment.pk, email_comment.pk])
                                       .values_list("delivery", "delivery_error"))) + procs.logs())
    recovery = time.monotonic() - started
    time.sleep(4)  # a few more sweeps: they must double nothing

    replies = [t for t in sandbox.timeline()["items"]
               if t["kind"] == "tweet" and t.get("in_reply_to", {}).get("id") == mention["id"]]
    assert len(replies) == 1 and replies[0]["text"] == "Sorry Alice, checking now"
    email_comment.refresh_from_db()
    assert emails_sent(mail_folder) == [email_comment.external_id]
    print(f"\nreplies delivered {recovery:.1f} s after the broker came back")
    # Beat and the worker are alive again, and /health/ says so.
    wait_for(lambda: requests.get(f"{web.url}/health/", timeout=10).status_code == 200, 20,
             what="/health/ ok", describe=lambda: requests.get(f"{web.url}/health/", timeout=10).text)
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"beat", "worker"}
