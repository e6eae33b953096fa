"""X's webhook: the CRC answer, signatures checked before anything happens, events stored once
and turned into the same items and tickets as polling makes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

import pytest
from django.urls import reverse

from tickets.models import Channel, Comment, Ticket
from twitter_channel.models import ActivityEvent, IncomingItem, XAccount

from .intake_helpers import BRAND_ID, dm, tweet, user
from .realtime_helpers import deliver, dm_event, like_event, mention_event, reply_event

SECRET = "test-consumer-secret"
ALICE = user("111", "alice", "Alice A")
BRAND = user(BRAND_ID, "AcmeHelp", "Acme Help")


@pytest.fixture(autouse=True)
def consumer_secret(settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = SECRET


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                                   intake_mode=XAccount.IntakeMode.WEBHOOK)


@pytest.fixture
def push(client, django_capture_on_commit_callbacks):
    """Deliver like X and run what the delivery schedules (processing, conversion) at once."""

    def send(body, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, body, **kw)

    return send


# --- CRC -------------------------------------------------------------------------------------------


def test_crc_challenge_is_answered_with_the_hmac_of_the_token(client, db):
    response = client.get(reverse("twitter_channel:x_webhook"), {"crc_token": "challenge-123"})

    expected = base64.b64encode(hmac.new(SECRET.encode(), b"challenge-123", hashlib.sha256).digest()).decode()
    assert response.status_code == 200
    assert response.json() == {"response_token": "sha256=" + expected}


def test_crc_without_a_token_is_a_bad_request(client, db):
    assert client.get(reverse("twitter_channel:x_webhook")).status_code == 400


def test_crc_cannot_be_used_to_sign_a_forged_delivery(client, account):
    # The attack: the CRC answer is HMAC(consumer secret, token), the same HMAC that signs a
    # delivery. Ask for the "CRC answer" of a forged event, then POST the event with it.
    forged = json.dumps(dm_event(dm("Please send my refund to this new card", ALICE["id"], f"{ALICE['id']}-{BRAND_ID}"),
                                 users=[ALICE])).encode()

    asked = client.get(reverse("twitter_channel:x_webhook"), {"crc_token": forged.decode()})
    stolen_signature = asked.json().get("response_token", "") if asked.status_code == 200 else ""
    delivered = deliver(client, forged, headers={"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": stolen_signature})

    assert asked.status_code == 400
    assert delivered.status_code == 403
    assert not ActivityEvent.objects.exists() and not Ticket.objects.exists()


@pytest.mark.parametrize("token", ["{}", "short", "a" * 129, "token with spaces", "tok\u00e9n-\u00e9t\u00e9-1"])
def test_crc_answers_only_tokens_shaped_like_x_s(client, db, token):
    response = client.get(reverse("twitter_channel:x_webhook"), {"crc_token": token})

    assert response.status_code == 400
    assert "response_token" not in response.content.decode()


def test_a_signed_body_that_is_not_a_json_object_is_refused_before_it_is_stored(client, account):
    # Whatever a CRC-shaped token could ever get signed is not an event: never store it.
    assert deliver(client, b"challenge-1234").status_code == 400
    assert deliver(client, b"[1, 2]").status_code == 400
    assert not ActivityEvent.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_it_only_allows_get_and_post(client, db, method):
    assert getattr(client, method)(reverse("twitter_channel:x_webhook")).status_code == 405


def test_without_a_consumer_secret_nothing_is_accepted(client, account, settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = ""
    body = mention_event(tweet("@AcmeHelp hi", ALICE["id"]), users=[ALICE])

    assert deliver(client, body, secret="").status_code == 503
    assert client.get(reverse("twitter_channel:x_webhook"), {"crc_token": "x"}).status_code == 503
    assert not ActivityEvent.objects.exists()


# --- signatures -------------------------------------------------------------------------------------


def test_signed_mention_is_acknowledged_and_becomes_a_ticket(push, account):
    post = tweet("@AcmeHelp my order is late", ALICE["id"])

    response = push(mention_event(post, users=[ALICE]))

    assert response.status_code == 200
    item = IncomingItem.objects.get()
    assert (item.kind, item.x_id, item.author_handle, item.state) == ("mention", post["id"], "alice", "ticketed")
    assert item.ticket.channel == Channel.X
    event = ActivityEvent.objects.get()
    assert (event.state, event.source, event.account, event.items_stored) == ("processed", "webhook", account, 1)
    account.refresh_from_db()
    assert account.last_event_at is not None


def test_tampered_body_is_refused_with_no_side_effect(client, account):
    body = json.dumps(mention_event(tweet("@AcmeHelp hi", ALICE["id"]), users=[ALICE])).encode()
    from .realtime_helpers import signature

    good = signature(body, SECRET)
    tampered = body.replace(b"hi", b"ho")

    response = client.post(reverse("twitter_channel:x_webhook"), tampered, content_type="application/json",
                           HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=good)

    assert response.status_code == 403
    assert not ActivityEvent.objects.exists() and not IncomingItem.objects.exists()


def test_body_signed_with_another_secret_is_refused(push, account):
    response = push(mention_event(tweet("@AcmeHelp hi", ALICE["id"]), users=[ALICE]), secret="not-the-app-secret")

    assert response.status_code == 403
    assert not ActivityEvent.objects.exists() and not IncomingItem.objects.exists()


def test_unsigned_body_is_refused(push, account):
    response = push(mention_event(tweet("@AcmeHelp hi", ALICE["id"]), users=[ALICE]), signed=False)

    assert response.status_code == 403
    assert not ActivityEvent.objects.exists() and not Ticket.objects.exists()


def test_garbage_signature_header_is_refused(push, account):
    response = push(mention_event(tweet("@AcmeHelp hi", ALICE["id"])),
                    headers={"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": "sha256=AAAA"})

    assert response.status_code == 403
    assert not ActivityEvent.objects.exists()


def test_webhook_needs_no_csrf_token(account, django_capture_on_commit_callbacks):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(strict, mention_event(tweet("@AcmeHelp hi", ALICE["id"]), users=[ALICE]))

    assert response.status_code == 200


# --- exactly once, whatever order ----------------------------------------------------------------


def test_duplicate_delivery_is_stored_once(push, account):
    body = mention_event(tweet("@AcmeHelp hello", ALICE["id"]), users=[ALICE])

    assert push(body).status_code == 200
    assert push(body).status_code == 200

    assert ActivityEvent.objects.count() == 1
    assert IncomingItem.objects.count() == 1
    assert Comment.objects.filter(external_source=Comment.Source.TWEET).count() == 1


def test_same_post_in_two_events_is_one_item(push, account):
    # X may send a reply to the brand both as a mention and as a reply event, with two event ids.
    post = tweet("@AcmeHelp again", ALICE["id"])

    push(mention_event(post, users=[ALICE]))
    push(mention_event(post, users=[ALICE]) | {"data": {**mention_event(post)["data"],
                                                        "event_type": "post.reply.create"}})

    assert ActivityEvent.objects.count() == 2
    assert IncomingItem.objects.count() == 1 and Ticket.objects.count() == 1


def test_reply_to_the_brand_pushed_as_mention_and_as_reply_is_one_comment_on_the_thread(push, account):
    root = tweet("@AcmeHelp my parcel is lost", ALICE["id"])
    push(mention_event(root, users=[ALICE]))
    answer = tweet("@alice sorry, looking into it", BRAND_ID, reply_to=root["id"], conversation_id=root["id"],
                   mentions=("alice",))
    follow_up = tweet("@AcmeHelp thanks, any news?", ALICE["id"], reply_to=answer["id"], conversation_id=root["id"])

    push(mention_event(follow_up, users=[ALICE, BRAND], posts=[answer]))
    push(reply_event(follow_up, users=[ALICE, BRAND], posts=[answer]))

    assert ActivityEvent.objects.filter(state="processed").count() == 3
    assert list(IncomingItem.objects.filter(x_id=follow_up["id"]).values_list("kind", flat=True)) == ["mention"]
    ticket = Ticket.objects.get()
    assert [c.external_id for c in ticket.comments.order_by("pk")] == [root["id"], follow_up["id"]]


def test_reply_delivered_before_its_parent_lands_on_the_parent_ticket(push, account):
    root = tweet("@AcmeHelp my parcel is lost", ALICE["id"])
    reply = tweet("@AcmeHelp any news?", ALICE["id"], reply_to=root["id"], conversation_id=root["id"])

    push(mention_event(reply, users=[ALICE], posts=[root]))  # out of order: the reply first
    push(mention_event(root, users=[ALICE]))

    ticket = Ticket.objects.get()
    assert [c.external_id for c in ticket.comments.order_by("pk")] == [root["id"], reply["id"]]
    assert ticket.subject.startswith("my parcel is lost")
    assert IncomingItem.objects.count() == 2


def test_reply_to_a_post_not_mentioning_the_brand_does_not_bring_that_post(push, account):
    bob = user("222", "bob")
    root = tweet("nice weather", bob["id"], mentions=())
    reply = tweet("@AcmeHelp @bob see this", ALICE["id"], reply_to=root["id"], conversation_id=root["id"])

    push(mention_event(reply, users=[ALICE, bob], posts=[root]))

    assert list(IncomingItem.objects.values_list("x_id", flat=True)) == [reply["id"]]


# --- each event type -------------------------------------------------------------------------------


def test_like_by_the_brand_becomes_a_like_ticket(push, account):
    post = tweet("love this brand", ALICE["id"], mentions=())

    push(like_event(post, users=[ALICE]))

    item = IncomingItem.objects.get()
    assert (item.kind, item.x_id, item.state, item.ticket.channel) == ("like", post["id"], "ticketed", Channel.X_LIKE)


def test_like_of_the_brands_post_by_someone_else_is_ignored(push, account):
    post = tweet("our new product", BRAND_ID, mentions=())

    push(like_event(post, users=[BRAND], direction="inbound"))

    assert ActivityEvent.objects.get().state == "ignored"
    assert not IncomingItem.objects.exists()


def test_dm_received_becomes_a_dm_ticket(push, account):
    message = dm("Where is my refund?", ALICE["id"], f"{ALICE['id']}-{BRAND_ID}")
    del message["event_type"]  # the dm.received payload may omit it

    push(dm_event(message, users=[ALICE]))

    item = IncomingItem.objects.get()
    assert (item.kind, item.text, item.author_handle, item.ticket.channel) == (
        "dm", "Where is my refund?", "alice", Channel.X_DM)


def test_event_for_an_account_we_do_not_have_is_kept_but_ignored(push, account):
    push(mention_event(tweet("@someone hi", ALICE["id"]), users=[ALICE], for_user="999"))

    event = ActivityEvent.objects.get()
    assert event.state == "ignored" and "999" in event.detail
    assert not IncomingItem.objects.exists()


def test_event_types_the_helpdesk_does_not_take_are_ignored(push, account):
    from .realtime_helpers import event

    push(event("profile.update.bio", {"before": "a", "after": "b"}))

    assert ActivityEvent.objects.get().state == "ignored"


def test_signed_body_that_is_not_an_event_is_kept_as_failed(push, account):
    response = push(b'{"hello": "world"}')

    assert response.status_code == 200
    event = ActivityEvent.objects.get()
    assert event.state == "failed" and event.event_id.startswith("malformed:")
    assert "event_uuid" in event.detail


def test_post_without_author_is_quarantined_not_dropped(push, account):
    post = tweet("@AcmeHelp hi", ALICE["id"])
    del post["author_id"]

    push(mention_event(post))

    item = IncomingItem.objects.get()
    assert (item.x_id, item.state) == (post["id"], "quarantined")


# --- batches -------------------------------------------------------------------------------------


def batch(*envelopes: dict) -> dict:
    """Several events in one delivery, as X sends them when they come fast."""
    return {"data": [envelope["data"] for envelope in envelopes]}


def test_a_batch_of_events_becomes_one_ticket_each(push, account):
    posts = [tweet(f"@AcmeHelp order {i} is late", ALICE["id"]) for i in range(3)]

    assert push(batch(*(mention_event(p, users=[ALICE]) for p in posts))).status_code == 200

    assert ActivityEvent.objects.count() == 3
    assert set(Comment.objects.values_list("external_id", flat=True)) == {p["id"] for p in posts}
    assert Ticket.objects.count() == 3


def test_a_batch_is_stored_with_one_insert_whatever_its_size(client, account):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite (development) stores a delivery's events one by one")

    def statements(n: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        body = batch(*(mention_event(tweet(f"@AcmeHelp {i}", ALICE["id"]), users=[ALICE]) for i in range(n)))
        with CaptureQueriesContext(connection) as queries:
            assert deliver(client, body).status_code == 200
        inserts = sum(q["sql"].startswith("INSERT") and "activityevent" in q["sql"] for q in queries)
        return inserts, len(queries)

    one, all_one = statements(1)
    inserts, all_many = statements(50)
    assert (one, inserts) == (1, 1)
    assert all_many == all_one  # billing and the account looked up once per delivery too
    assert ActivityEvent.objects.count() == 51


def test_a_batch_redelivered_in_part_stores_only_what_is_new(push, account):
    first, second = (mention_event(tweet(f"@AcmeHelp {i}", ALICE["id"]), users=[ALICE]) for i in range(2))
    push(first)

    push(batch(first, second, second))

    assert ActivityEvent.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_an_unreadable_event_in_a_batch_is_kept_failed_and_the_others_stored(push, account):
    good = mention_event(tweet("@AcmeHelp hello", ALICE["id"]), users=[ALICE])

    push({"data": [{"event_type": "post.mention.create"}, good["data"]]})

    assert sorted(ActivityEvent.objects.values_list("state", flat=True)) == ["failed", "processed"]
    assert Ticket.objects.count() == 1


# --- queueing the processing --------------------------------------------------------------------


def test_deliveries_while_a_processing_task_waits_queue_no_other(client, account, settings, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from django.core.cache import cache

    from twitter_channel.realtime import tasks

    # The web and worker processes share the cache in production (Redis): a task starting in
    # a worker is seen by every web process.
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis (REDIS_URL), the cache web and worker processes share")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": os.environ["REDIS_URL"]}}
    cache.delete(tasks.processing_queued_key())
    queued = []
    monkeypatch.setattr(tasks.process_activity_event, "apply_async", lambda *args, **kw: queued.append(args))

    def deliver_one(n: int) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, mention_event(tweet(f"@AcmeHelp {n}", ALICE["id"]), users=[ALICE])).status_code == 200

    for n in range(3):
        deliver_one(n)
    assert len(queued) == 1  # the queued task takes all three

    tasks.process_activity_event()
    assert Ticket.objects.count() == 3
    deliver_one(3)  # the task started: the next delivery queues the next task
    assert len(queued) == 2
    assert cache.delete(tasks.processing_queued_key())


def test_without_a_shared_cache_every_delivery_queues_processing(client, account, settings, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    # Development without Redis: each process has a cache of its own and could never see a
    # worker start the task, so nothing is skipped.
    from twitter_channel.realtime import tasks

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    queued = []
    monkeypatch.setattr(tasks.process_activity_event, "apply_async", lambda *args, **kw: queued.append(args))
    for n in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, mention_event(tweet(f"@AcmeHelp {n}", ALICE["id"]), users=[ALICE]))

    assert len(queued) == 2
