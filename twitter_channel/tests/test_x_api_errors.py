"""Every way X can fail, classified by what the caller does next (types.py errors).
The fake X answers at the HTTP layer, so tweepy's own exceptions are what gets mapped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import responses

from twitter_channel.x.api import XClient
from twitter_channel.x.types import (
    XAuthError,
    XBadRequest,
    XDuplicateContent,
    XError,
    XForbidden,
    XNotFound,
    XRateLimited,
    XTransientError,
)

from .fakes import blank_problem, example, invalid_request, rate_headers, unique_base_url


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


def test_401_means_reconnect(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/me", status=401, json=blank_problem(401, "Unauthorized"))

    with pytest.raises(XAuthError) as caught:
        client.get_me()

    assert caught.value.status == 401 and caught.value.detail == "Unauthorized"


def test_429_problem_carries_the_reset_time(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/1/mentions", status=429, json=blank_problem(429, "Too Many Requests"),
               headers=rate_headers(limit=300, remaining=0, reset=1_700_000_900))

    with pytest.raises(XRateLimited) as caught:
        client.get_mentions("1")

    assert caught.value.reset_at == datetime.fromtimestamp(1_700_000_900, tz=UTC)
    assert client.last_rate_limit.remaining == 0


def test_429_in_the_old_code_88_shape_is_rate_limited_too(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/me", status=429,
               json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
               headers=rate_headers(remaining=0, reset=1_700_000_001))

    with pytest.raises(XRateLimited) as caught:
        client.get_me()

    assert caught.value.detail == "Rate limit exceeded"
    assert caught.value.reset_at == datetime.fromtimestamp(1_700_000_001, tz=UTC)


def test_429_with_plain_text_body_from_the_examples(fake_x, client, base_url):
    recorded = example("User_by_ID__429_Rate_Limit_Exceeded.json")["response"]
    fake_x.get(f"{base_url}/2/users/12", status=429, body=recorded["body"], headers={
        k: v for k, v in recorded["headers"].items() if k != "content-type"}, content_type="text/plain")

    with pytest.raises(XRateLimited) as caught:
        client.get_user("12")

    assert caught.value.reset_at == datetime.fromtimestamp(1593186139, tz=UTC)
    assert caught.value.detail == "Rate limit exceeded"


def test_stream_at_its_connection_limit_is_transient_though_429(fake_x, base_url):
    # X's body and headers for one stream connection too many (tweepy issue 1962): requests
    # are left in the window, so this is no budget to wait out.
    fake_x.get(f"{base_url}/2/activity/stream", status=429, headers=rate_headers(limit=450, remaining=447), json={
        "title": "ConnectionException", "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections", "type": "https://api.twitter.com/2/problems/streaming-connection"})

    with pytest.raises(XTransientError) as caught:
        next(XClient("app-token", base_url=base_url).activity_stream())

    assert not isinstance(caught.value, XRateLimited) and caught.value.status == 429


@pytest.mark.parametrize("host", ["https://api.twitter.com", "https://api.x.com"])
def test_usage_capped_problem_is_rate_limited(fake_x, client, base_url, host):
    fake_x.get(f"{base_url}/2/dm_events", status=429, json={
        "title": "UsageCapExceeded", "type": f"{host}/2/problems/usage-capped",
        "detail": "Usage cap exceeded: Monthly product cap", "period": "Monthly", "scope": "Product"})

    with pytest.raises(XRateLimited, match="Monthly product cap"):
        client.get_dm_events()


def test_duplicate_content_is_its_own_forbidden(fake_x, client, base_url):
    fake_x.post(f"{base_url}/2/tweets", status=403, json=blank_problem(
        403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."))

    with pytest.raises(XDuplicateContent):
        client.create_tweet("Thanks, we're on it", in_reply_to_tweet_id="5")


def test_duplicate_problem_type_is_recognised(fake_x, client, base_url):
    fake_x.post(f"{base_url}/2/tweets", status=403, json={
        "title": "Forbidden", "type": "https://api.twitter.com/2/problems/duplicate-content", "detail": "Nope"})

    with pytest.raises(XDuplicateContent):
        client.create_tweet("again")


def test_other_403_is_forbidden_not_duplicate(fake_x, client, base_url):
    fake_x.post(f"{base_url}/2/tweets", status=403, json=blank_problem(
        403, "Forbidden", "Reply to this conversation is not allowed because you have not been mentioned"))

    with pytest.raises(XForbidden) as caught:
        client.create_tweet("hi", in_reply_to_tweet_id="5")

    assert not isinstance(caught.value, XDuplicateContent)
    assert "not been mentioned" in caught.value.detail


def test_400_names_the_refused_parameter(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/1/mentions", status=400, json=invalid_request(
        "max_results", "1", "The `max_results` query parameter value [1] is not between 5 and 100"))

    with pytest.raises(XBadRequest) as caught:
        client.get_mentions("1", max_results=1)

    assert caught.value.parameter == "max_results"
    assert len(fake_x.calls) == 1  # not a vocabulary problem: no retry


def test_400_from_the_examples_names_ids(fake_x, client, base_url):
    body = example("Users_by_ID__400_Bad_Request_-_Too_Many_Users.json")["response"]["body"]
    fake_x.get(f"{base_url}/2/users/9", status=400, json=body)

    with pytest.raises(XBadRequest) as caught:
        client.get_user("9")

    assert caught.value.parameter == "ids"


def test_404_is_not_found(fake_x, client, base_url):
    fake_x.delete(f"{base_url}/2/tweets/5", status=404, json=blank_problem(404, "Not Found"))

    with pytest.raises(XNotFound):
        client.delete_tweet("5")


@pytest.mark.parametrize("host", ["https://api.twitter.com", "https://api.x.com"])
def test_deleted_tweet_lookup_is_not_found(fake_x, client, base_url, host):
    body = example("Single_Tweet_Usercontext__200_Success_-_Deleted_Tweet.json")["response"]["body"]
    body["errors"][0]["type"] = f"{host}/2/problems/resource-not-found"
    fake_x.get(f"{base_url}/2/tweets/1276230436478386177", json=body)

    with pytest.raises(XNotFound, match="1276230436478386177"):
        client.get_tweet("1276230436478386177")


def test_unknown_user_lookup_is_not_found(fake_x, client, base_url):
    body = example("User_by_ID__200_Success_-_User_Not_Found.json")["response"]["body"]
    fake_x.get(f"{base_url}/2/users/2244994946", json=body)

    with pytest.raises(XNotFound, match="Could not find user"):
        client.get_user("2244994946")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(fake_x, client, base_url, status):
    fake_x.get(f"{base_url}/2/users/me", status=status, json=blank_problem(status, "Service Unavailable"))

    with pytest.raises(XTransientError) as caught:
        client.get_me()

    assert caught.value.status == status


@pytest.mark.parametrize("failure", [requests.exceptions.ConnectTimeout("slow"), requests.exceptions.ReadTimeout(
    "slow"), requests.exceptions.ConnectionError("refused")])
def test_timeouts_and_connection_errors_are_transient(fake_x, client, base_url, failure):
    fake_x.get(f"{base_url}/2/users/me", body=failure)

    with pytest.raises(XTransientError):
        client.get_me()


def test_invalid_json_is_transient(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/1/mentions", body='{"data": [{"id": "1", "te', content_type="application/json")

    with pytest.raises(XTransientError, match="not JSON"):
        client.get_mentions("1")


def test_a_page_whose_frame_is_broken_is_transient(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/1/mentions", json={"data": {"not": "a list"}})

    with pytest.raises(XTransientError, match="unexpected shape"):
        client.get_mentions("1")


def test_every_adapter_error_is_an_x_error(fake_x, client, base_url):
    fake_x.get(f"{base_url}/2/users/me", status=418, body="teapot")

    with pytest.raises(XError) as caught:
        client.get_me()

    assert caught.value.status == 418


def test_errors_never_carry_the_token(fake_x, base_url):
    fake_x.get(f"{base_url}/2/users/me", status=401, json=blank_problem(401, "Unauthorized"))
    client = XClient("very-secret-token", base_url=base_url)

    with pytest.raises(XAuthError) as caught:
        client.get_me()

    assert "very-secret-token" not in str(caught.value) + repr(caught.value) + repr(client)
