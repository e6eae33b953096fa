"""Replaying the recorded exchanges with api.twitter.com through XClient: each adapter method
sends the request tweepy's own test-suite recorded (same method and route) and reads the
real answer. The recordings asked for no fields, so their posts lack author_id: through the
adapter (which always asks for it) such posts must be quarantined, never dropped."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import responses

from twitter_channel.x.api import XClient

from .fakes import recorded, unique_base_url


def _replay(mock: responses.RequestsMock, base_url: str, exchange: dict) -> None:
    uri = urlsplit(exchange["request"]["uri"])
    headers = {k: v for k, v in exchange["response"]["headers"].items() if k not in ("content-type", "location")}
    mock.add(exchange["request"]["method"], base_url + uri.path, json=exchange["response"]["body"],
             status=exchange["response"]["status"], headers=headers)


def _sent_path(mock: responses.RequestsMock) -> str:
    return urlsplit(mock.calls[-1].request.url).path


@pytest.fixture
def x():
    base_url = unique_base_url()
    with responses.RequestsMock() as mock:
        yield mock, base_url, XClient("t", base_url=base_url)


def test_get_me_replays(x):
    mock, base_url, client = x
    (exchange,) = recorded("client_get_me.json")
    _replay(mock, base_url, exchange)

    me = client.get_me()

    assert _sent_path(mock) == "/2/users/me"
    assert (me.id, me.username) == ("1072250532645998596", "TweepyDev")
    assert client.last_rate_limit.limit == 75


@pytest.mark.parametrize("name, call", [
    ("client_get_users_mentions.json", lambda c: c.get_mentions("783214")),
    ("client_get_liked_tweets.json", lambda c: c.get_liked_tweets("783214")),
    ("client_get_tweets.json", lambda c: c.get_tweets(["1293593516040269825", "1293595870563381249"])),
])
def test_default_payload_pages_are_quarantined_item_by_item(x, name, call):
    mock, base_url, client = x
    (exchange,) = recorded(name)
    _replay(mock, base_url, exchange)

    page = call(client)

    assert _sent_path(mock) == urlsplit(exchange["request"]["uri"]).path
    data = exchange["response"]["body"]["data"]
    assert page.items == []
    assert [m.x_id for m in page.malformed] == [raw["id"] for raw in data]
    assert all("author_id" in m.reason for m in page.malformed)
    assert page.next_token == exchange["response"]["body"].get("meta", {}).get("next_token")


def test_create_and_delete_replay(x):
    mock, base_url, client = x
    created, deleted = recorded("client_create_and_delete_tweet.json")
    _replay(mock, base_url, created)
    _replay(mock, base_url, deleted)

    posted = client.create_tweet("Test Tweet")
    client.delete_tweet(posted.id)

    assert (posted.id, posted.text) == ("1456012973835788293", "Test Tweet")
    assert [(c.request.method, urlsplit(c.request.url).path) for c in mock.calls] == [
        ("POST", "/2/tweets"), ("DELETE", "/2/tweets/1456012973835788293")]
    assert client.last_rate_limit.limit == 50


def test_direct_messages_replay(x):
    mock, base_url, client = x
    to_participant, to_conversation, _group, empty_list = recorded("manage_and_lookup_direct_messages.json")[:4]
    for exchange in (to_participant, to_conversation, empty_list):
        _replay(mock, base_url, exchange)

    first = client.send_dm("Testing 1", participant_id="750362064426721281")
    second = client.send_dm("Testing 2", dm_conversation_id=first.dm_conversation_id)
    page = client.get_dm_events()

    assert [urlsplit(c.request.url).path for c in mock.calls] == [
        "/2/dm_conversations/with/750362064426721281/messages",
        "/2/dm_conversations/750362064426721281-1072250532645998596/messages",
        "/2/dm_events"]
    assert second.dm_event_id == "1585800613752881156"
    assert (page.items, page.malformed, page.result_count) == ([], [], 0)
