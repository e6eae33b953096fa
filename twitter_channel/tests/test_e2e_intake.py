"""End to end: the sandbox over real HTTP, the real adapter, a real Celery worker and beat
as subprocesses, PostgreSQL and Redis. Nothing is called in-process: the test only acts on
X (through the sandbox's control API) and watches the database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from tickets.models import Channel, Comment, Ticket
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import IncomingItem, StreamCursor, XAccount
from xsandbox.testing import running_sandbox

from .e2e_harness import CeleryProcesses, database_url, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BROKER_DB = 13
MENTIONS = "GET /2/users/:id/mentions"


@pytest.fixture(scope="module")
def sandbox():
    with running_sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def celery(sandbox, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    procs = CeleryProcesses(db_url=db_url, broker_db=BROKER_DB, x_base_url=sandbox.base_url, extra_env={
        "X_POLL_DISPATCH_SECONDS": "0.5",
        # Small batches, so the kill -9 below lands with several of them still to convert.
        "X_CONVERT_BATCH_SIZE": "25",
        "X_POLL_MIN_INTERVAL_SECONDS": "1",
        "X_POLL_BACKOFF_BASE_SECONDS": "1",
        "X_POLL_BACKOFF_MAX_SECONDS": "3",
        "X_POLL_CLAIM_SECONDS": "5",
        "X_SWEEP_GRACE_SECONDS": "2",
        "X_SWEEP_INTERVAL_SECONDS": "2",
    }).start()
    yield procs
    procs.stop()


@pytest.fixture
def brand(sandbox, celery):
    """A fresh sandbox with a connected brand account. DM and like budgets are raised in
    the sandbox (X's 15 and 75 per window would space polls a minute apart): the intake
    reads the new budget from the headers like any other."""
    sandbox.reset()
    user = sandbox.create_user("AcmeSupport", name="Acme Support", brand=True)
    sandbox.set_rate_limit("GET /2/dm_events", 900)
    sandbox.set_rate_limit("GET /2/users/:id/liked_tweets", 900)
    token = sandbox.mint_token(user["id"])["access_token"]
    account = XAccount.objects.create(user_id=user["id"], username="AcmeSupport", access_token=token)
    ensure_cursors(account)
    wait_for(lambda: StreamCursor.objects.filter(account=account, last_success_at__isnull=False).count() == 3,
             20, what="first polls of every stream")
    return account


def ticket_with(x_id: str, timeout: float = 15) -> Ticket:
    comment = wait_for(lambda: Comment.objects.filter(external_id=x_id).select_related("ticket").first(), timeout,
                       what=f"a comment for {x_id}")
    return comment.ticket


def test_mention_becomes_ticket_within_seconds_and_replies_join_it(sandbox, brand):
    alice = sandbox.create_user("alice", name="Alice")
    carol = sandbox.create_user("carol")
    started = time.monotonic()
    mention = sandbox.post_tweet(alice["id"], "@AcmeSupport my order is late")
    ticket = ticket_with(mention["id"])
    assert time.monotonic() - started < 10
    assert (ticket.channel, ticket.subject, ticket.x_account_id) == (Channel.X, "my order is late", brand.pk)

    reply = sandbox.post_tweet(alice["id"], "@AcmeSupport any news?", in_reply_to_tweet_id=mention["id"])
    third = sandbox.post_tweet(carol["id"], "@alice @AcmeSupport same here", in_reply_to_tweet_id=mention["id"])
    assert ticket_with(reply["id"]) == ticket
    assert ticket_with(third["id"]) == ticket
    assert Ticket.objects.count() == 1
    authors = list(ticket.comments.values_list("author_requester__identities__handle", flat=True))
    assert authors == ["alice", "alice", "carol"]


def test_dm_conversation_and_like_become_tickets(sandbox, brand):
    bob = sandbox.create_user("bob")
    first = sandbox.send_dm(bob["id"], "I was charged twice", recipient=brand.user_id)
    second = sandbox.send_dm(bob["id"], "order A-2001", recipient=brand.user_id)
    dm_ticket = ticket_with(first["id"])
    assert dm_ticket.channel == Channel.X_DM
    assert ticket_with(second["id"]) == dm_ticket

    post = sandbox.post_tweet(bob["id"], "Loving the new Acme app")
    sandbox.like(brand.user_id, post["id"])
    like_ticket = ticket_with(post["id"])
    assert like_ticket.channel == Channel.X_LIKE
    assert like_ticket.requester == dm_ticket.requester


def test_revoked_token_needs_reconnect_and_other_accounts_keep_going(sandbox, brand):
    other_user = sandbox.create_user("AcmeShop")
    other = XAccount.objects.create(user_id=other_user["id"], username="AcmeShop",
                                    access_token=sandbox.mint_token(other_user["id"])["access_token"])
    ensure_cursors(other)
    sandbox.revoke_token(brand.access_token)
    wait_for(lambda: XAccount.objects.get(pk=brand.pk).needs_reconnect, 15, what="needs_reconnect")
    alice = sandbox.create_user("alice")
    mention = sandbox.post_tweet(alice["id"], "@AcmeShop hello")
    assert ticket_with(mention["id"]).x_account == other
    assert "reconnect" in XAccount.objects.get(pk=brand.pk).last_error


def test_rate_limited_stream_waits_for_the_reset(sandbox, brand):
    sandbox.set_rate_limit(MENTIONS, 3)
    # Spend the whole window with the brand's own token, as another app on it might.
    for _ in range(4):
        requests.get(f"{sandbox.base_url}/2/users/{brand.user_id}/mentions",
                     headers=sandbox.auth_headers(brand.access_token), timeout=10)
    alice = sandbox.create_user("alice")
    mention = sandbox.post_tweet(alice["id"], "@AcmeSupport hi")
    cursor = wait_for(lambda: StreamCursor.objects.filter(account=brand, stream="mentions",
                                                          last_error__startswith="Rate limited").first(),
                      15, what="a 429 recorded")
    assert cursor.next_poll_at > timezone.now() + timedelta(minutes=5)
    assert cursor.consecutive_failures == 0
    time.sleep(2)
    assert not Comment.objects.filter(external_id=mention["id"]).exists()  # it really waits

    sandbox.reset_rate_limit_windows()
    sandbox.set_rate_limit(MENTIONS, 300)
    StreamCursor.objects.filter(pk=cursor.pk).update(next_poll_at=timezone.now())  # the reset time has come
    ticket_with(mention["id"])
    assert not XAccount.objects.get(pk=brand.pk).needs_reconnect


def test_server_errors_and_broken_bodies_back_off_then_recover(sandbox, brand):
    sandbox.add_fault(MENTIONS, "status_503", count=2)
    sandbox.add_fault(MENTIONS, "malformed_json", count=1)
    alice = sandbox.create_user("alice")
    mention = sandbox.post_tweet(alice["id"], "@AcmeSupport is it down?")
    wait_for(lambda: StreamCursor.objects.get(account=brand, stream="mentions").consecutive_failures >= 2, 15,
             what="failures recorded")
    ticket_with(mention["id"], timeout=30)
    cursor = StreamCursor.objects.get(account=brand, stream="mentions")
    assert cursor.consecutive_failures == 0 and cursor.last_error == ""
    assert IncomingItem.objects.filter(x_id=mention["id"]).count() == 1


def test_killed_worker_loses_nothing_and_doubles_nothing(sandbox, brand, celery):
    # Big enough that the worker is still converting when it is killed, however fast
    # conversion gets (as its push twin in test_e2e_realtime.py).
    burst = 1000
    authors = [sandbox.create_user(f"fan{i}")["id"] for i in range(20)]
    sandbox.load_scenario({"tweets": [{"author": authors[i % 20], "text": f"@AcmeSupport problem number {i}"}
                                      for i in range(burst)]})
    wait_for(lambda: Ticket.objects.count() >= 40, 60, interval=0.05, what="conversion under way")
    celery.kill_worker()
    converted_at_kill = Ticket.objects.count()
    assert converted_at_kill < burst, "the burst finished before the kill; the test proves nothing"
    celery.start_worker()

    def progress():
        states = dict(IncomingItem.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
        cursor = StreamCursor.objects.get(account=brand, stream="mentions")
        with connection.cursor() as c:
            c.execute("select pid, state, wait_event_type, wait_event, left(query, 150), now() - xact_start "
                      "from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()")
            activity = "\n".join(map(str, c.fetchall()))
        return f"items {states}, tickets {Ticket.objects.count()}, mentions cursor {cursor.__dict__}\n{activity}"

    wait_for(lambda: not IncomingItem.objects.filter(state="new").exists()
             and IncomingItem.objects.filter(kind="mention").count() == burst, 150, interval=0.5,
             what="every item stored and converted after the restart", describe=progress)

    assert IncomingItem.objects.filter(kind="mention", state="ticketed").count() == burst
    assert Ticket.objects.count() == burst
    assert Comment.objects.filter(external_source="tweet").count() == burst
    assert not Ticket.objects.annotate(n=Count("comments")).exclude(n=1).exists()


def test_killed_worker_loses_nothing_and_doubles_nothing_of_threads(sandbox, brand, celery):
    # Replies join their threads' tickets together (conversion.join_replies): a kill in the
    # middle of a batch must leave none of them half done either.
    burst = 400
    authors = [sandbox.create_user(f"thread_fan{i}")["id"] for i in range(20)]
    replies = {i: i - 50 for i in range(50, burst) if i % 4 == 3}  # a reply answers the post 50 before
    sandbox.load_scenario({"tweets": [
        {"key": f"k{i}", "author": authors[i % 20], "text": f"@AcmeSupport thread post {i}",
         **({"in_reply_to": f"k{replies[i]}"} if i in replies else {})}
        for i in range(burst)]})
    wait_for(lambda: Comment.objects.filter(body__startswith="@AcmeSupport thread post").count() >= 40, 60,
             interval=0.05, what="conversion under way")
    celery.kill_worker()
    assert Comment.objects.filter(body__startswith="@AcmeSupport thread post").count() < burst, \
        "the burst finished before the kill; the test proves nothing"
    celery.start_worker()

    items = IncomingItem.objects.filter(kind="mention", text__startswith="@AcmeSupport thread post")
    wait_for(lambda: items.count() == burst and not items.filter(state="new").exists(), 150, interval=0.5,
             what="every post stored and converted after the restart")

    assert items.filter(state="ticketed").count() == burst
    comments = Comment.objects.filter(body__startswith="@AcmeSupport thread post")
    assert comments.count() == burst and comments.values("external_id").distinct().count() == burst
    assert Ticket.objects.filter(subject__startswith="thread post").count() == burst - len(replies)
    ticket_of = {int(text.rsplit(" ", 1)[1]): ticket for text, ticket in items.values_list("text", "ticket_id")}
    assert all(ticket_of[reply] == ticket_of[parent] for reply, parent in replies.items())
    for ticket in Ticket.objects.filter(subject__startswith="thread post"):
        assert ticket.comment_count == ticket.comments.count()
