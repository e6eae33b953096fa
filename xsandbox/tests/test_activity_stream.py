"""The sandbox's `GET /2/activity/stream`: events of subscriptions without a webhook, keep-alives,
`backfill_minutes` after a drop, and the disconnect fault."""

from __future__ import annotations

import json

import pytest
import requests

from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN

APP = {"Authorization": f"Bearer {DEFAULT_APP_BEARER_TOKEN}"}


@pytest.fixture
def subscribed(sandbox, brand, x):
    sandbox.create_user("alice")
    r = x("POST", "/2/activity/subscriptions", json={"event_type": "post.mention.create",
                                                     "filter": {"user_id": brand["id"]}})
    assert r.status_code == 200
    return r.json()["data"]["subscription"]


def open_stream(sandbox, **params):
    r = requests.get(sandbox.base_url + "/2/activity/stream", headers=APP, params=params, stream=True,
                     timeout=(5, 5))
    assert r.status_code == 200, r.text
    return r, r.iter_lines()


def next_event(lines) -> dict:
    for line in lines:
        if line.strip():
            return json.loads(line)
    raise AssertionError("the stream ended")


def test_stream_needs_the_app_token(sandbox, x):
    assert x("GET", "/2/activity/stream").status_code == 403
    r = requests.get(sandbox.base_url + "/2/activity/stream", headers=APP, params={"backfill_minutes": 6},
                     timeout=5)
    assert r.status_code == 400 and "backfill_minutes" in r.text


def test_events_without_a_webhook_go_out_on_the_stream(sandbox, subscribed):
    response, lines = open_stream(sandbox)
    try:
        tweet = sandbox.post_tweet("alice", "@AcmeSupport streaming?")
        event = next_event(lines)
    finally:
        response.close()

    assert event["data"]["event_type"] == "post.mention.create"
    assert event["data"]["payload"]["id"] == tweet["id"]
    assert sandbox.activity_state()["deliveries"] == []  # nothing posted to any webhook


def test_idle_stream_sends_keep_alives(sandbox, subscribed):
    sandbox.configure_activity(keepalive_seconds=0.05)
    response, lines = open_stream(sandbox)
    try:
        first = next(response.iter_content(chunk_size=2))
    finally:
        response.close()
    assert first == b"\r\n"


def test_backfill_brings_back_what_was_sent_while_disconnected(sandbox, subscribed):
    missed = sandbox.post_tweet("alice", "@AcmeSupport while you were away")

    response, lines = open_stream(sandbox, backfill_minutes=2)
    try:
        event = next_event(lines)
    finally:
        response.close()

    assert event["data"]["payload"]["id"] == missed["id"]


def test_without_backfill_the_missed_event_is_gone(sandbox, subscribed):
    sandbox.configure_activity(keepalive_seconds=0.05)
    sandbox.post_tweet("alice", "@AcmeSupport while you were away")

    response, lines = open_stream(sandbox)
    try:
        later = sandbox.post_tweet("alice", "@AcmeSupport now")
        event = next_event(lines)
    finally:
        response.close()

    assert event["data"]["payload"]["id"] == later["id"]


def test_disconnect_fault_drops_the_stream_instead_of_sending_the_event(sandbox, subscribed):
    response, lines = open_stream(sandbox)
    sandbox.add_activity_fault("stream_disconnect")
    try:
        lost = sandbox.post_tweet("alice", "@AcmeSupport are you there?")
        with pytest.raises(AssertionError, match="ended"):
            next_event(lines)
    finally:
        response.close()

    response, lines = open_stream(sandbox, backfill_minutes=1)
    try:
        assert next_event(lines)["data"]["payload"]["id"] == lost["id"]
    finally:
        response.close()


def test_disconnect_route_closes_open_streams(sandbox, subscribed):
    response, lines = open_stream(sandbox)
    try:
        assert sandbox.disconnect_streams() == {"closed": 1}
        with pytest.raises(AssertionError, match="ended"):
            next_event(lines)
    finally:
        response.close()


def test_a_third_connection_is_refused_as_x_does_with_requests_left(sandbox, subscribed):
    first, _ = open_stream(sandbox)
    second, _ = open_stream(sandbox)
    try:
        r = requests.get(sandbox.base_url + "/2/activity/stream", headers=APP, timeout=5)
    finally:
        first.close()
        second.close()

    assert r.status_code == 429
    assert r.json() == {"title": "ConnectionException",
                        "detail": "This stream is currently at the maximum allowed connection limit.",
                        "connection_issue": "TooManyConnections",
                        "type": "https://api.twitter.com/2/problems/streaming-connection"}
    # The connect counted, but the budget is not what ran out.
    assert (r.headers["x-rate-limit-limit"], r.headers["x-rate-limit-remaining"]) == ("450", "447")
