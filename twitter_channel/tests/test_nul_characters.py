"""X text containing U+0000: X escapes it as valid JSON ("\\u0000"), PostgreSQL stores it in no
text or jsonb column. The item is stored and ticketed without the NUL, the raw event is kept as
received, and nothing behind it is blocked, polled or pushed."""

from __future__ import annotations

import json

import pytest
import responses

from tickets.models import Identity, Ticket
from twitter_channel.intake import conversion, polling
from twitter_channel.models import ActivityEvent, IncomingItem, StreamCursor, XAccount
from twitter_channel.realtime import intake
from twitter_channel.x.api import XClient
from twitter_channel.x.parsing import decode_json

from .fakes import unique_base_url
from .intake_helpers import BRAND_ID, dm, tweet, user
from .realtime_helpers import deliver, dm_event, mention_event

# tweepy 4.17 reports the unknown `post.fields` parameter through the deprecated `Logger.warn`.
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")

SECRET = "test-consumer-secret"
ALICE = user("111", "alice", "Ali\x00ce")


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")


# --- decoding ---------------------------------------------------------------------------------


def test_decoding_strips_nul_from_keys_and_values_at_any_depth():
    text = json.dumps({"da\x00ta": [{"text": "a\x00b", "n": 1, "ok": True, "none": None}], "meta": {"x": "\x00"}})

    assert decode_json(text) == {"data": [{"text": "ab", "n": 1, "ok": True, "none": None}], "meta": {"x": ""}}
    assert decode_json(text.encode()) == decode_json(text)


def test_decoding_without_nul_is_plain_json():
    text = json.dumps({"data": [{"text": "a\\u0000 is not a NUL here", "emoji": "\u2764"}]})

    assert decode_json(text) == json.loads(text)


def test_decoding_replaces_a_lone_surrogate_and_keeps_a_pair():
    text = '{"text": "half \\ud83d of an emoji", "whole": "\\ud83d\\ude00"}'

    assert decode_json(text) == {"text": "half \ufffd of an emoji", "whole": "\U0001F600"}
    assert decode_json(text.encode()) == decode_json(text)


# --- polling ----------------------------------------------------------------------------------


@pytest.fixture
def fake_x():
    with responses.RequestsMock() as mock:
        yield mock


def poll_over_http(fake_x, account, stream, path, body: dict):
    base_url = unique_base_url()
    text = json.dumps(body)
    assert "\\u0000" in text  # what X sends: valid JSON, the NUL escaped
    fake_x.get(f"{base_url}{path}", body=text, content_type="application/json")
    result = polling.poll_stream(account.pk, stream,
                                 client_factory=lambda a: XClient(a.access_token, base_url=base_url))
    conversion.convert_pending(account.pk)
    return result


def test_polled_mention_with_nul_is_stored_and_ticketed_without_it(fake_x, account):
    bad = tweet("@AcmeHelp my order\x00 is late", ALICE["id"])
    fine = tweet("@AcmeHelp mine too", ALICE["id"])
    page = {"data": [fine, bad], "includes": {"users": [ALICE]},
            "meta": {"result_count": 2, "newest_id": fine["id"], "oldest_id": bad["id"]}}

    result = poll_over_http(fake_x, account, "mentions", f"/2/users/{BRAND_ID}/mentions", page)

    assert (result.outcome, result.stored) == ("ok", 2)
    item = IncomingItem.objects.get(x_id=bad["id"])
    assert (item.text, item.author_name, item.raw["text"]) == ("@AcmeHelp my order is late", "Alice", item.text)
    assert item.state == IncomingItem.State.TICKETED
    assert item.comment.body == "@AcmeHelp my order is late"
    assert IncomingItem.objects.get(x_id=fine["id"]).state != IncomingItem.State.NEW
    assert Identity.objects.get(kind="x", value=ALICE["id"]).display_name == "Alice"
    # The cursor moved past the page: the next poll does not fetch it again.
    assert StreamCursor.objects.get(account=account, stream="mentions").since_id == fine["id"]


def test_polled_dm_with_nul_is_stored_and_ticketed_without_it(fake_x, account):
    message = dm("my card\x00 was charged twice", ALICE["id"], f"{ALICE['id']}-{BRAND_ID}")
    page = {"data": [message], "includes": {"users": [ALICE]}, "meta": {"result_count": 1}}

    result = poll_over_http(fake_x, account, "dms", "/2/dm_events", page)

    assert (result.outcome, result.stored) == ("ok", 1)
    item = IncomingItem.objects.get(x_id=message["id"])
    assert (item.text, item.author_name) == ("my card was charged twice", "Alice")
    assert Ticket.objects.get().subject == "my card was charged twice"


# --- pushed events -------------------------------------------------------------------------------


@pytest.fixture
def consumer_secret(settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = SECRET


@pytest.fixture
def push(client, consumer_secret, django_capture_on_commit_callbacks):
    def send(body: dict):
        raw = json.dumps(body).encode()
        assert b"\\u0000" in raw
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, raw), raw.decode()

    return send


def test_pushed_mention_with_nul_is_stored_and_ticketed_without_it(push, account):
    post = tweet("@AcmeHelp my order\x00 is late", ALICE["id"])

    response, raw = push(mention_event(post, users=[ALICE]))

    assert response.status_code == 200
    event = ActivityEvent.objects.get()
    assert (event.state, event.items_stored) == (ActivityEvent.State.PROCESSED, 1)
    assert event.body == raw  # kept exactly as X sent it: the escape is storable text
    item = IncomingItem.objects.get()
    assert (item.text, item.author_name, item.state) == ("@AcmeHelp my order is late", "Alice", "ticketed")
    assert item.comment.body == "@AcmeHelp my order is late"


def test_pushed_dm_with_nul_is_stored_and_ticketed_without_it(push, account):
    message = dm("my card\x00 was charged twice", ALICE["id"], f"{ALICE['id']}-{BRAND_ID}")

    response, _ = push(dm_event(message, users=[ALICE]))

    assert response.status_code == 200
    item = IncomingItem.objects.get()
    assert (item.text, item.author_name) == ("my card was charged twice", "Alice")
    assert Ticket.objects.get().subject == "my card was charged twice"


def test_event_with_nul_does_not_hold_up_its_batch(account):
    bad = tweet("@AcmeHelp broken\x00", ALICE["id"])
    fine = tweet("@AcmeHelp fine", ALICE["id"])
    for post in (bad, fine):
        intake.record_event(json.dumps(mention_event(post, users=[ALICE])), ActivityEvent.Source.WEBHOOK)

    stats = intake.process_pending()

    assert (stats.processed, stats.failed, stats.items_stored) == (2, 0, 2)
    assert set(IncomingItem.objects.values_list("text", flat=True)) == {"@AcmeHelp broken", "@AcmeHelp fine"}


def test_pushed_mention_with_a_lone_surrogate_is_ticketed_with_a_replacement_character(
        client, consumer_secret, account, django_capture_on_commit_callbacks):
    post = tweet("@AcmeHelp broken emoji PLACEHOLDER here", ALICE["id"])
    body = json.dumps(mention_event(post, users=[ALICE])).replace("PLACEHOLDER", "\\ud83d")

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, body.encode())

    assert response.status_code == 200
    assert IncomingItem.objects.get().comment.body == "@AcmeHelp broken emoji \ufffd here"


def test_body_with_a_raw_nul_byte_is_kept_failed_with_a_clear_reason(client, consumer_secret, account):
    # Not X's JSON (a raw control character is a syntax error), but a signed delivery all the
    # same: it must be kept and shown, and a redelivery of it must not be kept twice.
    raw = json.dumps(mention_event(tweet("@AcmeHelp hi", ALICE["id"]))).encode().replace(b"hi", b"h\x00i")

    answers = [deliver(client, raw), deliver(client, raw)]

    assert [answer.status_code for answer in answers] == [200, 200]
    event = ActivityEvent.objects.get()
    assert event.state == ActivityEvent.State.FAILED
    assert "not JSON" in event.detail and "NUL" in event.detail
    assert event.body == raw.decode().replace("\x00", "\\x00")
    assert not IncomingItem.objects.exists()


def test_error_body_with_a_nul_is_recorded_as_the_polls_failure(fake_x, account):
    # Not JSON (a proxy's page, say): its text is the error a person reads on the account page.
    base_url = unique_base_url()
    fake_x.get(f"{base_url}/2/users/{BRAND_ID}/mentions", status=503, body=b"Service\x00 Unavailable")

    result = polling.poll_stream(account.pk, "mentions",
                                 client_factory=lambda a: XClient(a.access_token, base_url=base_url))

    assert result.outcome == "failed"
    assert "Service Unavailable" in StreamCursor.objects.get(account=account, stream="mentions").last_error
