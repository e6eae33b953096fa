"""Real time end to end: the sandbox delivers signed events over HTTP to the helpdesk's webhook
(pytest-django's live_server), subscriptions are made and removed through the real adapter, and
polling reconciles what push missed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tickets.models import Channel, Ticket
from tickets.tests.factories import AdminFactory
from twitter_channel.accounts import connection as account_connection
from twitter_channel.accounts import health
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.intake import polling
from twitter_channel.intake.tasks import enqueue_conversion
from twitter_channel.models import ActivityEvent, ActivitySubscription, IncomingItem, XAccount
from twitter_channel.realtime import subscriptions, watch
from twitter_channel.realtime.stream_consumer import StreamConsumer
from twitter_channel.x import api as x_api
from twitter_channel.x.types import XBadRequest
from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN, DEFAULT_CONSUMER_SECRET
from xsandbox.testing import running_sandbox

from .e2e_harness import ROOT, database_url

Mode = XAccount.IntakeMode
PROFILE_UPDATES = {("profile.update.screenname", ""), ("profile.update.handle", ""), ("profile.update.profile_picture", "")}


@pytest.fixture(scope="module")
def sandbox_server():
    with running_sandbox() as sb:
        yield sb


@pytest.fixture
def sb(sandbox_server, settings, live_server):
    sandbox_server.reset()
    settings.X_API_BASE_URL = sandbox_server.base_url
    settings.X_WEBHOOK_URL = live_server.url + reverse("twitter_channel:x_webhook")
    settings.X_WEBHOOK_CONSUMER_SECRET = DEFAULT_CONSUMER_SECRET
    settings.X_APP_BEARER_TOKEN = DEFAULT_APP_BEARER_TOKEN
    x_api.forget_vocabularies()
    yield sandbox_server
    sandbox_server.disconnect_streams()
    # A delivery still in flight would write through live_server while the test database is
    # flushed, and the two deadlock: let X's last deliveries land first.
    eventually(lambda: sandbox_server.activity_state()["deliveries_in_flight"] == 0)


@pytest.fixture
def account(sb, transactional_db):
    brand = sb.create_user("AcmeSupport", name="Acme Support", brand=True)
    sb.create_user("alice", name="Alice")
    token = sb.mint_token(brand["id"])["access_token"]
    account = XAccount.objects.create(user_id=brand["id"], username="AcmeSupport", access_token=token)
    ensure_cursors(account)
    return account


@pytest.fixture
def webhook_account(account):
    return subscriptions.switch_intake_mode(account, Mode.WEBHOOK)


def eventually(check, timeout: float = 15.0):  # generous: CI machines are shared
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def poll(account, stream="mentions"):
    """Poll as the poll task does: what it stored is converted (Celery runs eagerly here)."""
    result = polling.poll_stream(account.pk, stream)
    if result.to_convert:
        enqueue_conversion(account.pk, result.to_convert)
    return result


def subscribed(sb) -> set[tuple[str, str]]:
    """(event_type, direction) of every subscription the sandbox holds."""
    return {(s["event_type"], s["filter"].get("direction", "")) for s in sb.activity_state()["subscriptions"]}


# --- subscribing ------------------------------------------------------------------------------------


def test_switching_to_webhook_registers_the_webhook_and_subscribes(sb, webhook_account, settings):
    state = sb.activity_state()

    assert [(w["url"], w["valid"]) for w in state["webhooks"]] == [(settings.X_WEBHOOK_URL, True)]
    assert subscribed(sb) == {("post.mention.create", ""), ("post.reply.create", ""), ("post.delete", ""),
                              ("like.create", "outbound"), ("dm.received", ""), *PROFILE_UPDATES}
    assert {s["webhook_id"] for s in state["subscriptions"]} == {state["webhooks"][0]["id"]}
    assert ActivitySubscription.objects.filter(account=webhook_account).count() == 8
    assert webhook_account.intake_mode == Mode.WEBHOOK and webhook_account.realtime_since is not None


def test_x_refusing_reply_events_leaves_real_time_on_without_them(sb, account, caplog):
    # X's spec 2.167 leaves post.reply.create out of its subscription enum: an X that follows
    # it answers 400. Replies to the brand still come, as mentions.
    sb.configure_activity(refused_event_types=["post.reply.create"])

    account = subscriptions.switch_intake_mode(account, Mode.WEBHOOK)

    assert account.intake_mode == Mode.WEBHOOK
    assert subscribed(sb) == {("post.mention.create", ""), ("post.delete", ""), ("like.create", "outbound"),
                              ("dm.received", ""), *PROFILE_UPDATES}
    assert sorted(ActivitySubscription.objects.values_list("event_type", flat=True)) == sorted([
        "dm.received", "like.create", "post.delete", "post.mention.create", *(t for t, _ in PROFILE_UPDATES)])
    assert "post.reply.create" in caplog.text and "arrive as mentions" in caplog.text
    ours = sb.post_tweet("AcmeSupport", "Our sale ends Sunday")
    reply = sb.post_tweet("alice", "can I still order on Monday?", in_reply_to_tweet_id=ours["id"])
    assert eventually(lambda: IncomingItem.objects.filter(x_id=reply["id"], kind="mention").exists())


def test_switching_removes_subscriptions_x_holds_that_the_helpdesk_lost_track_of(sb, account):
    user_client = account_connection.client_for(account)
    lost = user_client.create_activity_subscription("dm.received", account.user_id, tag=f"helpdesk:{account.pk}")
    theirs = user_client.create_activity_subscription("follow.follow", account.user_id, tag="another-tool")

    subscriptions.switch_intake_mode(account, Mode.WEBHOOK)

    held = {s["subscription_id"] for s in sb.activity_state()["subscriptions"]}
    assert lost.id not in held and theirs.id in held
    assert held - {theirs.id} == set(ActivitySubscription.objects.values_list("subscription_id", flat=True))


def test_x_refusing_a_required_subscription_rolls_all_of_them_back(sb, account):
    sb.configure_activity(refused_event_types=["dm.received"])

    with pytest.raises(XBadRequest):
        subscriptions.switch_intake_mode(account, Mode.WEBHOOK)

    account.refresh_from_db()
    assert account.intake_mode == Mode.POLLING
    assert sb.activity_state()["subscriptions"] == [] and not ActivitySubscription.objects.exists()


def test_switching_back_to_polling_removes_the_subscriptions_at_x(sb, webhook_account):
    subscriptions.switch_intake_mode(webhook_account, Mode.POLLING)

    assert sb.activity_state()["subscriptions"] == []
    assert not ActivitySubscription.objects.exists()
    webhook_account.refresh_from_db()
    assert webhook_account.intake_mode == Mode.POLLING


def test_webhook_failing_the_crc_leaves_the_account_polling(sb, account, settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = "not-the-apps-secret"

    with pytest.raises(XBadRequest):  # X refuses to register a webhook that fails its CRC check
        subscriptions.switch_intake_mode(account, Mode.WEBHOOK)

    account.refresh_from_db()
    assert account.intake_mode == Mode.POLLING
    assert sb.activity_state()["subscriptions"] == [] and not ActivitySubscription.objects.exists()


def test_disconnecting_the_account_removes_its_subscriptions(sb, webhook_account, client):
    client.force_login(AdminFactory())

    client.post(reverse("twitter_channel:disconnect", args=[webhook_account.pk]))

    assert eventually(lambda: sb.activity_state()["subscriptions"] == [])
    webhook_account.refresh_from_db()
    assert webhook_account.intake_mode == Mode.POLLING and not webhook_account.is_active


def test_admin_switches_the_mode_on_the_account_page(sb, account, client):
    client.force_login(AdminFactory())

    response = client.post(reverse("twitter_channel:intake_mode", args=[account.pk]), {"intake_mode": "webhook"},
                           follow=True)

    assert b"Real time by webhook" in response.content
    assert len(sb.activity_state()["subscriptions"]) == 8


# --- pushed events --------------------------------------------------------------------------------


def test_mention_like_and_dm_pushed_by_x_become_tickets(sb, webhook_account):
    mention = sb.post_tweet("alice", "@AcmeSupport my order is late")
    liked = sb.post_tweet("alice", "just a post")
    sb.like("AcmeSupport", liked["id"])
    sb.send_dm("alice", "refund please", recipient="AcmeSupport")

    assert eventually(lambda: Ticket.objects.count() == 3), list(IncomingItem.objects.values("kind", "state"))
    by_kind = {i.kind: i for i in IncomingItem.objects.select_related("ticket")}
    assert by_kind["mention"].x_id == mention["id"] and by_kind["mention"].ticket.channel == Channel.X
    assert by_kind["like"].x_id == liked["id"] and by_kind["like"].ticket.channel == Channel.X_LIKE
    assert by_kind["dm"].text == "refund please" and by_kind["dm"].ticket.channel == Channel.X_DM
    webhook_account.refresh_from_db()
    assert webhook_account.last_event_at is not None


def test_item_seen_by_push_and_by_poll_is_stored_once(sb, webhook_account):
    sb.post_tweet("alice", "@AcmeSupport seen twice")
    assert eventually(lambda: Ticket.objects.count() == 1)

    result = poll(webhook_account)

    assert (result.outcome, result.fetched, result.stored) == ("ok", 1, 0)
    assert IncomingItem.objects.count() == 1 and Ticket.objects.count() == 1
    assert health.missed_by_push(webhook_account, now=timezone.now() + health.PUSH_GRACE) == 0


def test_item_polled_first_is_not_stored_again_by_push(sb, webhook_account):
    sb.add_activity_fault("out_of_order", delay_seconds=1.0)  # hold the delivery back
    sb.post_tweet("alice", "@AcmeSupport poll wins the race")
    assert poll(webhook_account).stored == 1

    assert eventually(lambda: ActivityEvent.objects.filter(state="processed").exists())
    assert IncomingItem.objects.count() == 1 and Ticket.objects.count() == 1


def test_reply_to_the_brand_pushed_as_mention_and_as_reply_is_one_comment_on_the_thread(sb, webhook_account):
    root = sb.post_tweet("alice", "@AcmeSupport my parcel is lost")
    assert eventually(lambda: Ticket.objects.count() == 1)
    answer = sb.post_tweet("AcmeSupport", "@alice sorry, looking into it", in_reply_to_tweet_id=root["id"])

    follow_up = sb.post_tweet("alice", "thanks, any news?", in_reply_to_tweet_id=answer["id"])

    assert eventually(lambda: ActivityEvent.objects.filter(state="processed").count() == 3)
    pushed = {(e["event_type"], e["body"]["data"]["payload"]["id"]) for e in sb.activity_events()}
    assert {("post.mention.create", follow_up["id"]), ("post.reply.create", follow_up["id"])} <= pushed
    assert IncomingItem.objects.filter(x_id=follow_up["id"]).count() == 1
    ticket = Ticket.objects.get()
    assert eventually(lambda: ticket.comments.count() == 2)
    assert [c.external_id for c in ticket.comments.order_by("pk")] == [root["id"], follow_up["id"]]


def test_dropped_webhook_is_caught_by_reconciliation_and_counted(sb, webhook_account):
    sb.add_activity_fault("drop")
    sb.post_tweet("alice", "@AcmeSupport nobody pushed me")
    time.sleep(0.3)
    assert not IncomingItem.objects.exists()

    result = poll(webhook_account)

    assert result.stored == 1
    assert health.missed_by_push(webhook_account, now=timezone.now() + health.PUSH_GRACE) == 1
    assert eventually(lambda: Ticket.objects.count() == 1)


def test_reconciliation_polls_slower_in_real_time(sb, webhook_account, settings):
    settings.X_REALTIME_RECONCILE_SECONDS = 120
    before = timezone.now()

    result = poll(webhook_account)

    assert result.next_poll_at >= before + timedelta(seconds=120)


def test_badly_signed_delivery_is_refused_and_stores_nothing(sb, webhook_account):
    sb.add_activity_fault("bad_signature")
    sb.post_tweet("alice", "@AcmeSupport forged")

    assert eventually(lambda: [d["status"] for d in sb.activity_state()["deliveries"]] == [403])
    assert not ActivityEvent.objects.exists() and not IncomingItem.objects.exists()


def test_duplicate_and_out_of_order_deliveries_make_one_threaded_ticket(sb, webhook_account):
    sb.add_activity_fault("out_of_order", delay_seconds=0.5)  # the root arrives after its reply
    root = sb.post_tweet("alice", "@AcmeSupport my parcel is lost")
    sb.add_activity_fault("duplicate")
    reply = sb.post_tweet("alice", "@AcmeSupport any news?", in_reply_to_tweet_id=root["id"])

    assert eventually(lambda: ActivityEvent.objects.filter(state="processed").count() == 2)
    ticket = Ticket.objects.get()
    assert [c.external_id for c in ticket.comments.order_by("pk")] == [root["id"], reply["id"]]
    assert IncomingItem.objects.count() == 2


def test_events_x_batches_into_one_delivery_become_one_ticket_each_exactly_once(sb, webhook_account):
    # X sends the events that come while a delivery is out together, in one POST: here each
    # POST waits a second for company, so the burst's mentions travel as one batch.
    sb.configure_activity(batch_window_ms=1000)
    posts = [sb.post_tweet("alice", f"@AcmeSupport order {n} is late") for n in range(3)]

    assert eventually(lambda: Ticket.objects.count() == 3), list(ActivityEvent.objects.values("state", "detail"))
    assert eventually(lambda: sb.activity_state()["deliveries_in_flight"] == 0)
    deliveries = sb.activity_state()["deliveries"]
    assert [(d["events_in_delivery"], d["status"]) for d in deliveries] == [(3, 200)] * 3
    assert len({d["delivery_id"] for d in deliveries}) == 1
    assert set(IncomingItem.objects.values_list("x_id", flat=True)) == {p["id"] for p in posts}

    # X delivers at least once: the same events again (a replay of the window) change nothing.
    sb.configure_activity(batch_window_ms=0)
    now = timezone.now()
    subscriptions.replay_window(now - timedelta(minutes=10), now)

    assert eventually(lambda: sum(d["outcome"] == "replayed" and d["status"] == 200
                                  for d in sb.activity_state()["deliveries"]) == 3)
    assert ActivityEvent.objects.count() == 3 and IncomingItem.objects.count() == 3 and Ticket.objects.count() == 3


def test_replay_recovers_events_dropped_during_an_outage(sb, webhook_account):
    sb.add_activity_fault("drop")
    lost = sb.post_tweet("alice", "@AcmeSupport sent while you were down")
    time.sleep(0.3)
    assert not IncomingItem.objects.exists()

    now = timezone.now()
    subscriptions.replay_window(now - timedelta(minutes=10), now)

    assert eventually(lambda: IncomingItem.objects.filter(x_id=lost["id"]).exists())
    assert eventually(lambda: Ticket.objects.count() == 1)


def test_an_outage_of_our_webhook_is_noticed_and_replayed_without_anyone_asking(sb, webhook_account, settings):
    assert watch.watch_webhook() == "ok"
    settings.X_WEBHOOK_CONSUMER_SECRET = ""  # our webhook now answers 503: a broken deploy
    lost = sb.post_tweet("alice", "@AcmeSupport anyone there?")
    assert eventually(lambda: [d["status"] for d in sb.activity_state()["deliveries"]] == [503])
    assert watch.watch_webhook() == "down"

    settings.X_WEBHOOK_CONSUMER_SECRET = DEFAULT_CONSUMER_SECRET  # fixed
    assert watch.watch_webhook() == "replayed"

    assert eventually(lambda: Ticket.objects.filter(x_items__x_id=lost["id"]).exists())
    assert eventually(lambda: [(d["outcome"], d["status"]) for d in sb.activity_state()["deliveries"]] == [
        ("delivered", 503), ("replayed", 200)])


# --- the stream ------------------------------------------------------------------------------------


@pytest.fixture
def consumer(sb, account):
    sb.configure_activity(keepalive_seconds=0.1)
    subscriptions.switch_intake_mode(account, Mode.STREAM)
    consumer = StreamConsumer(backoff_base=0.05, backoff_cap=0.2, read_timeout=2.0, idle_check_seconds=0.1)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    assert eventually(lambda: sb.activity_state()["open_streams"] == 1)
    yield consumer
    consumer.stop.set()
    sb.disconnect_streams()
    thread.join(timeout=5)


def test_stream_subscriptions_name_no_webhook(sb, consumer):
    subs = sb.activity_state()["subscriptions"]
    assert len(subs) == 8 and all("webhook_id" not in s for s in subs)


def test_stream_events_become_tickets(sb, consumer):
    sb.post_tweet("alice", "@AcmeSupport via the stream")

    assert eventually(lambda: Ticket.objects.count() == 1)
    assert ActivityEvent.objects.get().source == "stream"


def test_stream_consumer_reconnects_and_backfills_what_the_drop_lost(sb, consumer):
    sb.post_tweet("alice", "@AcmeSupport before the drop")
    assert eventually(lambda: IncomingItem.objects.count() == 1)
    sb.add_activity_fault("stream_disconnect")

    lost = sb.post_tweet("alice", "@AcmeSupport sent as the stream dropped")

    assert eventually(lambda: IncomingItem.objects.filter(x_id=lost["id"]).exists())
    assert consumer.stats.drops >= 1 and consumer.stats.connections >= 2
    assert consumer.stats.last_backfill >= 1
    assert eventually(lambda: Ticket.objects.count() == 2)
    assert IncomingItem.objects.count() == 2


def test_the_stream_process_stops_at_once_on_sigterm_while_the_stream_is_quiet(sb, account):
    sb.configure_activity(keepalive_seconds=60)  # nothing arrives to wake a blocked read
    subscriptions.switch_intake_mode(account, Mode.STREAM)
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict), "X_API_BASE_URL": sb.base_url,
           "X_APP_BEARER_TOKEN": DEFAULT_APP_BEARER_TOKEN}
    proc = subprocess.Popen([sys.executable, "manage.py", "x_stream"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert eventually(lambda: sb.activity_state()["open_streams"] == 1)

        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=5)
    finally:
        proc.kill()

    assert proc.returncode == 0, output
    assert "x_stream: 1 connection(s)" in output

