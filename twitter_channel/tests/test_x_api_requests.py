"""What the adapter sends and where: base URL routing (never api.twitter.com when a sandbox
is configured), the fields the helpdesk needs, timeouts, rate-limit capture, and the
tweet -> post vocabulary fallback. The fake X answers at the HTTP layer."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from twitter_channel.x import api as x_api
from twitter_channel.x.api import POST, TWEET, XClient, vocabulary_for
from twitter_channel.x.types import XBadRequest

from .fakes import dm_event, invalid_request, rate_headers, recorded, tweet, unique_base_url


@pytest.fixture
def fake_x():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def base_url():
    return unique_base_url()


@pytest.fixture
def client(base_url):
    return XClient("user-token", base_url=base_url)


# tweepy 4.17 reports the unknown `post.fields` parameter through the deprecated
# `Logger.warn`; the adapter silences the log line, Python still flags the old method.
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


# --- routing ------------------------------------------------------------------------------


def test_requests_go_to_the_configured_base_url_with_the_bearer_token(fake_x, settings):
    settings.X_API_BASE_URL = "http://127.0.0.1:8765"
    fake_x.get("http://127.0.0.1:8765/2/users/me", json={"data": {"id": "1", "username": "acme", "name": "Acme"}})

    me = XClient("user-token").get_me()

    assert me.username == "acme"
    sent = fake_x.calls[0].request
    assert urlsplit(sent.url).netloc == "127.0.0.1:8765"
    assert "api.twitter.com" not in sent.url
    assert sent.headers["Authorization"] == "Bearer user-token"  # OAuth 2.0 user token, never OAuth 1.0a


def test_a_path_prefix_in_the_base_url_is_kept(fake_x):
    fake_x.delete("https://proxy.example/x-api/2/tweets/7", json={"data": {"deleted": True}})

    XClient("t", base_url="https://proxy.example/x-api/").delete_tweet("7")

    assert fake_x.calls[0].request.url == "https://proxy.example/x-api/2/tweets/7"


def test_every_request_has_a_timeout(fake_x, base_url):
    fake_x.get(f"{base_url}/2/users/me", json={"data": {"id": "1", "username": "a", "name": "A"}})

    XClient("t", base_url=base_url, timeout=3.5).get_me()

    assert fake_x.calls[0].request.req_kwargs["timeout"] == 3.5


def test_the_default_base_url_is_x_itself(fake_x, settings):
    settings.X_API_BASE_URL = "https://api.twitter.com"
    fake_x.get("https://api.twitter.com/2/users/me", json={"data": {"id": "1", "username": "a", "name": "A"}})

    XClient("t").get_me()

    assert fake_x.calls[0].request.url.startswith("https://api.twitter.com/2/users/me?")


# --- what is asked for --------------------------------------------------------------------


def test_mentions_ask_for_the_fields_and_expansions_threading_needs(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/1/mentions", json={"meta": {"result_count": 0}})

    client.get_mentions("1", since_id="100", pagination_token="abc", max_results=50)

    sent = query(fake_x.calls[0])
    assert (sent["since_id"], sent["pagination_token"], sent["max_results"]) == ("100", "abc", "50")
    assert set(sent["tweet.fields"].split(",")) >= {
        "created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "entities", "attachments",
        "author_id", "note_tweet"}
    assert set(sent["expansions"].split(",")) == {
        "author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "entities.mentions.username",
        "attachments.media_keys"}
    assert set(sent["user.fields"].split(",")) == {"name", "username", "profile_image_url", "public_metrics",
                                                   "verified"}
    # The photos, videos and GIFs the thread shows: a photo's `url`, a video's or GIF's still.
    assert set(sent["media.fields"].split(",")) >= {"media_key", "type", "url", "preview_image_url"}


def test_dm_events_ask_for_all_three_event_types_and_the_senders(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/dm_events", json={"meta": {"result_count": 0}})

    client.get_dm_events(max_results=20)

    sent = query(fake_x.calls[0])
    assert sent["event_types"] == "MessageCreate,ParticipantsJoin,ParticipantsLeave"
    assert set(sent["dm_event.fields"].split(",")) == {
        "id", "text", "event_type", "created_at", "dm_conversation_id", "sender_id", "participant_ids",
        "referenced_tweets", "attachments"}
    assert sent["expansions"] == "sender_id,participant_ids,attachments.media_keys"
    assert set(sent["media.fields"].split(",")) >= {"media_key", "type", "url", "preview_image_url"}
    assert sent["max_results"] == "20"


def test_a_reply_is_posted_in_reply_to_the_tweet(fake_x, client, base_url):
    fake_x.post(f"{base_url}/2/tweets", status=201, json={"data": {"id": "900", "text": "@bob on it"}})

    posted = client.create_tweet("@bob on it", in_reply_to_tweet_id="899")

    assert (posted.id, posted.text) == ("900", "@bob on it")
    assert json.loads(fake_x.calls[0].request.body) == {"text": "@bob on it",
                                                        "reply": {"in_reply_to_tweet_id": "899"}}


def test_dm_goes_to_the_participant_or_the_conversation(fake_x, client, base_url):
    for exchange in recorded("manage_and_lookup_direct_messages.json")[:2]:
        fake_x.post(exchange["request"]["uri"].replace("https://api.twitter.com", base_url), status=201,
                    json=exchange["response"]["body"])

    first = client.send_dm("Testing 1", participant_id="750362064426721281")
    second = client.send_dm("Testing 2", dm_conversation_id=first.dm_conversation_id)

    assert first.dm_event_id == "1585800613253812228" and second.dm_event_id == "1585800613752881156"
    assert [json.loads(c.request.body) for c in fake_x.calls] == [{"text": "Testing 1"}, {"text": "Testing 2"}]


def test_dm_needs_exactly_one_destination(client):
    with pytest.raises(ValueError):
        client.send_dm("hi")
    with pytest.raises(ValueError):
        client.send_dm("hi", participant_id="1", dm_conversation_id="1-2")


def test_lookups_of_more_than_100_posts_are_split(fake_x, client, base_url):
    def answer(request):
        ids = query_of(request)["ids"].split(",")
        return 200, {}, json.dumps({"data": [tweet(i) for i in ids if i != "7"],
                                    "errors": [{"value": "7", "resource_type": "tweet", "title": "Not Found Error",
                                                "type": "https://api.twitter.com/2/problems/resource-not-found"}]
                                    if "7" in ids else []})

    def query_of(request):
        return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}

    fake_x.add_callback(responses.GET, f"{base_url}/2/tweets", callback=answer)

    page = client.get_tweets([str(i) for i in range(1, 151)])

    assert len(fake_x.calls) == 2
    assert [len(query(c)["ids"].split(",")) for c in fake_x.calls] == [100, 50]
    assert len(page.items) == 149 and page.partial_errors[0]["value"] == "7"


# --- rate limits ---------------------------------------------------------------------------


def test_rate_limit_headers_of_a_successful_page_are_kept(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/1/mentions", json={"data": [tweet("5")], "meta": {"result_count": 1}},
               headers=rate_headers(limit=300, remaining=299, reset=1_700_000_000))

    page = client.get_mentions("1")

    expected_reset = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert (page.rate_limit.limit, page.rate_limit.remaining, page.rate_limit.reset_at) == (300, 299, expected_reset)
    assert client.last_rate_limit == page.rate_limit


def test_the_latest_response_sets_the_rate_limit(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/me", json={"data": {"id": "1", "username": "a", "name": "A"}},
               headers=rate_headers(limit=75, remaining=74))
    fake_x.get(f"{base_url}/2/dm_events", json={"data": [dm_event("8")], "meta": {"result_count": 1}},
               headers=rate_headers(limit=15, remaining=3))

    client.get_me()
    page = client.get_dm_events()

    assert client.last_rate_limit.remaining == 3 and page.rate_limit.limit == 15


# --- vocabulary: tweet -> post -----------------------------------------------------------------


def _refuses(parameter: str, value: str = "x"):
    return invalid_request(parameter, value, f"The query parameter [{parameter}] is not one of [...]")


def test_a_server_refusing_tweet_fields_gets_post_fields_and_is_remembered(fake_x, base_url):
    url = f"{base_url}/2/users/1/mentions"
    fake_x.get(url, status=400, json=_refuses("tweet.fields", TWEET.tweet_fields))
    fake_x.get(url, json={"data": [{**tweet("5"), "referenced_posts": [{"type": "replied_to", "id": "4"}]}],
                          "includes": {"posts": [{"id": "4", "text": "parent", "author_id": "9"}]},
                          "meta": {"result_count": 1}})
    fake_x.get(url, json={"meta": {"result_count": 0}})

    page = XClient("t", base_url=base_url).get_mentions("1")
    XClient("another account", base_url=base_url).get_mentions("1")

    first, retry, later = (query(c) for c in fake_x.calls)
    assert "tweet.fields" in first and "post.fields" not in first
    assert "post.fields" in retry and "tweet.fields" not in retry
    assert "referenced_posts" in retry["expansions"].split(",")
    assert "post.fields" in later  # remembered for the base URL: no more 400s
    assert page.items[0].replied_to_id == "4" and page.tweets["4"].text == "parent"
    assert vocabulary_for(base_url) is POST


def test_a_server_refusing_post_fields_gets_tweet_fields_back(fake_x, base_url):
    x_api.remember_vocabulary(base_url, POST)
    url = f"{base_url}/2/tweets/5"
    fake_x.get(url, status=400, json=_refuses("post.fields", POST.tweet_fields))
    fake_x.get(url, json={"data": tweet("5")})

    post = XClient("t", base_url=base_url).get_tweet("5")

    assert post.id == "5"
    assert "tweet.fields" in query(fake_x.calls[1])
    assert vocabulary_for(base_url) is TWEET


def test_a_refused_vocabulary_specific_dm_field_switches_too(fake_x, base_url):
    url = f"{base_url}/2/dm_events"
    fake_x.get(url, status=400, json=invalid_request(
        "dm_event.fields", "sender_id", "The `dm_event.fields` query parameter value [sender_id] is not one of [...]"))
    fake_x.get(url, json={"data": [dm_event("8")], "meta": {"result_count": 1}})

    page = XClient("t", base_url=base_url).get_dm_events()

    assert [e.id for e in page.items] == ["8"]
    assert "sender_id" not in query(fake_x.calls[1])["dm_event.fields"].split(",")
    assert query(fake_x.calls[1])["expansions"] == "sender_id,participant_ids,attachments.media_keys"


def test_a_400_about_something_else_is_not_retried(fake_x, base_url):
    fake_x.get(f"{base_url}/2/users/1/liked_tweets", status=400, json=invalid_request(
        "pagination_token", "zzz", "The `pagination_token` query parameter value [zzz] is not valid"))

    with pytest.raises(XBadRequest) as caught:
        XClient("t", base_url=base_url).get_liked_tweets("1", pagination_token="zzz")

    assert caught.value.parameter == "pagination_token" and len(fake_x.calls) == 1
    assert vocabulary_for(base_url) is TWEET


def test_a_server_refusing_both_vocabularies_fails_after_one_retry(fake_x, base_url):
    url = f"{base_url}/2/users/1/mentions"
    fake_x.get(url, status=400, json=_refuses("tweet.fields"))
    fake_x.get(url, status=400, json=_refuses("post.fields"))

    with pytest.raises(XBadRequest) as caught:
        XClient("t", base_url=base_url).get_mentions("1")

    assert caught.value.parameter == "post.fields" and len(fake_x.calls) == 2
    assert vocabulary_for(base_url) is TWEET  # nothing learnt from a failure


def test_vocabulary_memory_is_per_base_url(base_url):
    other = unique_base_url()
    x_api.remember_vocabulary(base_url, POST)

    assert vocabulary_for(base_url) is POST and vocabulary_for(other) is TWEET


def test_vocabulary_memory_survives_concurrent_writers():
    urls = [unique_base_url() for _ in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda u: x_api.remember_vocabulary(u, POST), urls))

    assert all(vocabulary_for(u) is POST for u in urls)


def test_an_environment_proxy_is_not_used_for_a_base_url_listed_in_no_proxy(fake_x, base_url, monkeypatch):
    # requests picks proxies for api.twitter.com before the adapter reroutes the request.
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", urlsplit(base_url).hostname)
    fake_x.get(f"{base_url}/2/users/me", json={"data": {"id": "1", "username": "a", "name": "A"}})

    XClient("t", base_url=base_url).get_me()

    assert not fake_x.calls[0].request.req_kwargs["proxies"]



def test_sending_post_fields_on_purpose_logs_no_tweepy_warning(fake_x, base_url, caplog):
    x_api.remember_vocabulary(base_url, POST)
    fake_x.get(f"{base_url}/2/users/1/mentions", json={"meta": {"result_count": 0}})

    with caplog.at_level(logging.DEBUG, logger="tweepy"):
        XClient("t", base_url=base_url).get_mentions("1")

    assert "post.fields" in query(fake_x.calls[0])
    assert not [r for r in caplog.records if "Unexpected parameter" in r.getMessage()]


def test_tweepy_never_logs_at_debug_where_it_would_print_the_bearer_token():
    # Django applied settings.LOGGING at start-up; tweepy's DEBUG lines carry every header.
    assert logging.getLogger("tweepy.client").getEffectiveLevel() > logging.DEBUG
