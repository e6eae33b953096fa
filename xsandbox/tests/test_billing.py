"""The sandbox reports what X would bill the app: per item returned by kind, owned reads of
a user's own mentions, an item once per UTC day, writes per request ($0.20 with a URL)."""

from __future__ import annotations

import requests


def get(sandbox, token, path, **params):
    r = requests.get(sandbox.base_url + path, params=params, headers=sandbox.auth_headers(token), timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def test_reads_are_billed_per_item_once_a_day_and_writes_per_request(sandbox, brand):
    alice = sandbox.create_user("alice")
    sandbox.post_tweet(alice["id"], "@AcmeSupport one")
    sandbox.post_tweet(alice["id"], "@AcmeSupport two")
    path = f"/2/users/{brand['id']}/mentions"
    get(sandbox, brand["token"], path, expansions="author_id")
    get(sandbox, brand["token"], path, expansions="author_id")  # the same items again today: free
    for text in ("@alice thanks", "@alice see https://help.example.com"):
        r = requests.post(sandbox.base_url + "/2/tweets", json={"text": text},
                          headers=sandbox.auth_headers(brand["token"]), timeout=5)
        assert r.status_code == 201

    bill = sandbox.billing()
    assert bill["by_user"][brand["id"]]["kinds"] == {
        "owned_read": {"items": 2, "usd": "0.002000"},
        "user_read": {"items": 1, "usd": "0.010000"},
        "post_write": {"items": 1, "usd": "0.015000"},
        "post_url_write": {"items": 1, "usd": "0.200000"},
    }
    assert bill["total_usd"] == "0.227000"
    assert sandbox.clear_billing()["total_usd"] == "0.000000"


def test_someone_elses_mentions_are_ordinary_post_reads(sandbox, brand):
    alice = sandbox.create_user("alice")
    sandbox.post_tweet(brand["id"], "@alice hello")
    get(sandbox, brand["token"], f"/2/users/{alice['id']}/mentions")
    assert sandbox.billing()["by_user"][brand["id"]]["kinds"] == {"post_read": {"items": 1, "usd": "0.005000"}}


def test_activity_api_events_are_billed_by_type(sandbox, brand, x):
    alice = sandbox.create_user("alice")
    for event_type, extra in (("post.mention.create", {}), ("dm.received", {})):
        r = x("POST", "/2/activity/subscriptions", json={"event_type": event_type, "filter": {"user_id": brand["id"],
                                                                                             **extra}})
        assert r.status_code == 200, r.text
    r = x("POST", "/2/activity/subscriptions", json={"event_type": "like.create",
                                                     "filter": {"user_id": brand["id"], "direction": "outbound"}})
    assert r.status_code == 200, r.text
    tweet = sandbox.post_tweet(alice["id"], "@AcmeSupport hello")  # one post event
    sandbox.send_dm(alice["id"], "hi", recipient=brand["id"])  # one dm event
    sandbox.like(brand["id"], tweet["id"])  # one like event
    kinds = sandbox.billing()["by_user"][brand["id"]]["kinds"]
    assert kinds == {"post_event": {"items": 1, "usd": "0.005000"}, "dm_event": {"items": 1, "usd": "0.010000"},
                     "like_event": {"items": 1, "usd": "0.001000"}}
