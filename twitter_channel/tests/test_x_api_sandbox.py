"""The adapter against the X sandbox over real HTTP (xsandbox.testing), in both vocabularies:
what an account actually does — who am I, mentions page by page, DMs, replying, and the
ways X refuses (duplicate, bad token, rate limit)."""

from __future__ import annotations

import pytest
import requests

from twitter_channel.x import api as x_api
from twitter_channel.x.api import POST, TWEET, XClient, vocabulary_for
from twitter_channel.x.parsing import problem_kind
from twitter_channel.x.types import XAuthError, XDuplicateContent, XNotFound, XRateLimited, XTransientError
from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN
from xsandbox.testing import running_sandbox

# tweepy 4.17 reports the unknown `post.fields` parameter through the deprecated
# `Logger.warn`; the adapter silences the log line, Python still flags the old method.
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def sandbox_server():
    with running_sandbox(vocabulary="tweet") as sb:
        yield sb


@pytest.fixture
def sb(sandbox_server):
    sandbox_server.reset()
    x_api.forget_vocabularies()
    yield sandbox_server
    x_api.forget_vocabularies()


@pytest.fixture
def brand(sb):
    return sb.create_user("AcmeSupport", name="Acme Support", brand=True)


@pytest.fixture
def alice(sb):
    return sb.create_user("alice", name="Alice")


@pytest.fixture
def client(sb, brand):
    token = sb.mint_token(brand["id"])["access_token"]
    return XClient(token, base_url=sb.base_url)


@pytest.fixture(params=["tweet", "post", "both"])
def vocabulary(request, sb):
    sb.configure(vocabulary=request.param)
    return request.param


def test_get_me_is_the_brand(client, brand):
    me = client.get_me()

    assert (me.id, me.username, me.name) == (brand["id"], "AcmeSupport", "Acme Support")
    assert client.last_rate_limit.limit > 0


def test_get_user_by_id(client, alice):
    assert client.get_user(alice["id"]).username == "alice"


def test_mentions_walk_page_by_page_with_authors_and_threads(sb, client, brand, alice, vocabulary):
    root = sb.post_tweet(brand["id"], "We are open today")
    posted = [sb.post_tweet(alice["id"], f"@AcmeSupport question {i}", in_reply_to_tweet_id=root["id"])
              for i in range(7)]

    seen, token, pages = [], None, 0
    while True:
        page = client.get_mentions(brand["id"], pagination_token=token, max_results=5)
        pages += 1
        assert page.malformed == []
        seen += page.items
        token = page.next_token
        if not token:
            break

    assert pages == 2
    assert {t.id for t in seen} == {p["id"] for p in posted}
    first = seen[0]
    assert first.author_id == alice["id"] and first.created_at is not None
    assert first.replied_to_id == root["id"] and first.conversation_id == root["id"]
    assert "AcmeSupport" in first.mentioned_usernames
    assert page.users[alice["id"]].username == "alice"
    # post: learnt from the sandbox's 400; both: the adapter's own (tweet) is answered as asked
    assert vocabulary_for(sb.base_url).name == ("post" if vocabulary == "post" else "tweet")


def test_mentions_since_id_returns_only_newer(sb, client, brand, alice):
    old = sb.post_tweet(alice["id"], "@AcmeSupport first")
    new = sb.post_tweet(alice["id"], "@AcmeSupport second")

    page = client.get_mentions(brand["id"], since_id=old["id"])

    assert [t.id for t in page.items] == [new["id"]]
    assert page.newest_id == new["id"]


def test_replied_to_post_comes_in_includes(sb, client, brand, alice, vocabulary):
    question = sb.post_tweet(alice["id"], "@AcmeSupport where is my parcel?")
    sb.post_tweet(brand["id"], "@alice looking into it", in_reply_to_tweet_id=question["id"])
    follow_up = sb.post_tweet(alice["id"], "@AcmeSupport thanks!", in_reply_to_tweet_id=question["id"])

    page = client.get_mentions(brand["id"], since_id=question["id"])

    assert [t.id for t in page.items] == [follow_up["id"]]
    assert page.tweets[question["id"]].text == "@AcmeSupport where is my parcel?"


def test_dm_events_of_one_to_one_and_group_conversations(sb, client, brand, alice, vocabulary):
    bob = sb.create_user("bob")
    sb.send_dm(alice["id"], "my order never came", recipient=brand["id"])
    group = sb.create_group(bob["id"], [brand["id"], alice["id"]], text="hello group")

    page = client.get_dm_events()

    assert page.malformed == []
    messages = [e for e in page.items if e.event_type == "MessageCreate"]
    one_to_one = next(e for e in messages if e.text == "my order never came")
    assert one_to_one.sender_id == alice["id"] and not one_to_one.is_group
    assert one_to_one.dm_conversation_id == "-".join(sorted([alice["id"], brand["id"]], key=int))
    assert any(e.dm_conversation_id == group["dm_conversation_id"] for e in page.items)
    assert alice["id"] in page.users


def test_reply_lands_in_the_thread_and_duplicate_is_refused(sb, client, brand, alice):
    question = sb.post_tweet(alice["id"], "@AcmeSupport help")

    reply = client.create_tweet("@alice we're on it", in_reply_to_tweet_id=question["id"])

    assert sb.get_tweet(reply.id)["text"] == "@alice we're on it"
    assert client.get_tweet(reply.id).replied_to_id == question["id"]
    with pytest.raises(XDuplicateContent):
        client.create_tweet("@alice we're on it", in_reply_to_tweet_id=question["id"])


def test_deleted_posts_are_not_found_alone_and_partial_in_lookups(sb, client, alice, vocabulary):
    kept = sb.post_tweet(alice["id"], "still here")
    gone = sb.post_tweet(alice["id"], "about to go")
    sb.delete_tweet(gone["id"])

    page = client.get_tweets([kept["id"], gone["id"]])

    assert [t.id for t in page.items] == [kept["id"]]
    assert [e.get("value") for e in page.partial_errors] == [gone["id"]]
    # api.twitter.com in tweet mode (spec 2.159), api.x.com in post and both modes (2.167)
    assert [problem_kind(e) for e in page.partial_errors] == ["resource-not-found"]
    with pytest.raises(XNotFound):
        client.get_tweet(gone["id"])


def test_send_dm_to_a_participant_then_to_the_conversation(sb, client, brand, alice):
    first = client.send_dm("How can we help?", participant_id=alice["id"])
    second = client.send_dm("Still there?", dm_conversation_id=first.dm_conversation_id)

    assert first.dm_conversation_id == second.dm_conversation_id
    texts = [e.text for e in client.get_dm_events().items]
    assert {"How can we help?", "Still there?"} <= set(texts)


def test_delete_own_tweet(sb, client, brand):
    posted = client.create_tweet("oops")

    client.delete_tweet(posted.id)

    with pytest.raises(XNotFound):
        client.get_tweet(posted.id)


def test_revoked_token_means_reconnect(sb, client, brand):
    sb.revoke_token(client._client.bearer_token)

    with pytest.raises(XAuthError):
        client.get_me()


def test_rate_limited_with_the_reset_time_from_the_headers(sb, client, brand):
    sb.set_rate_limit("GET /2/users/:id/mentions", 1)
    client.get_mentions(brand["id"])

    with pytest.raises(XRateLimited) as caught:
        client.get_mentions(brand["id"])

    assert caught.value.reset_at is not None
    assert client.last_rate_limit.remaining == 0
    assert caught.value.reset_at == client.last_rate_limit.reset_at


@pytest.fixture
def app_client(sb):
    return XClient(DEFAULT_APP_BEARER_TOKEN, base_url=sb.base_url)


def test_spent_budget_on_subscriptions_is_rate_limited_with_the_reset_time(sb, client, brand):
    sb.set_rate_limit("POST /2/activity/subscriptions", 1)
    client.create_activity_subscription("post.mention.create", brand["id"])

    with pytest.raises(XRateLimited) as caught:
        client.create_activity_subscription("dm.received", brand["id"])

    assert caught.value.reset_at is not None and caught.value.reset_at == client.last_rate_limit.reset_at
    assert client.last_rate_limit.remaining == 0


def test_spent_budget_on_the_stream_is_rate_limited_with_the_reset_time(sb, app_client):
    sb.set_rate_limit("GET /2/activity/stream", 0)

    with pytest.raises(XRateLimited) as caught:
        next(app_client.activity_stream())

    assert caught.value.reset_at is not None and app_client.last_rate_limit.remaining == 0


def test_stream_at_its_connection_limit_is_transient_not_a_spent_budget(sb, app_client):
    # X's 429 for a third connection still shows requests left: waiting for the window's reset
    # (up to 15 minutes) would idle the stream for nothing, so the consumer backs off instead.
    held = [requests.get(sb.base_url + "/2/activity/stream", timeout=5, stream=True,
                         headers={"Authorization": f"Bearer {DEFAULT_APP_BEARER_TOKEN}"}) for _ in range(2)]
    try:
        with pytest.raises(XTransientError) as caught:
            next(app_client.activity_stream())
    finally:
        for response in held:
            response.close()

    assert not isinstance(caught.value, XRateLimited) and caught.value.status == 429
    assert "maximum allowed connection limit" in caught.value.detail
    assert app_client.last_rate_limit.remaining > 0


def test_sandbox_5xx_and_broken_json_are_transient(sb, client, brand):
    sb.add_fault("GET /2/users/:id/mentions", "status_503")
    with pytest.raises(XTransientError):
        client.get_mentions(brand["id"])

    sb.add_fault("GET /2/users/:id/mentions", "malformed_json")
    with pytest.raises(XTransientError):
        client.get_mentions(brand["id"])


def test_a_slow_sandbox_times_out_as_transient(sb, brand):
    sb.add_fault("GET /2/users/me", "slow", delay_seconds=2)
    token = sb.mint_token(brand["id"])["access_token"]

    with pytest.raises(XTransientError, match="in time"):
        XClient(token, base_url=sb.base_url, timeout=0.3).get_me()


def test_switching_the_sandbox_vocabulary_mid_run_is_followed(sb, client, brand, alice):
    sb.post_tweet(alice["id"], "@AcmeSupport one")
    assert len(client.get_mentions(brand["id"]).items) == 1
    assert vocabulary_for(sb.base_url) is TWEET

    sb.configure(vocabulary="post")
    assert len(client.get_mentions(brand["id"]).items) == 1
    assert vocabulary_for(sb.base_url) is POST

    sb.configure(vocabulary="tweet")
    assert len(client.get_mentions(brand["id"]).items) == 1
    assert vocabulary_for(sb.base_url) is TWEET


def test_closing_the_client_releases_its_connections(sb, brand):
    token = sb.mint_token(brand["id"])["access_token"]
    with XClient(token, base_url=sb.base_url) as client:
        client.get_me()
        pools = client._client.session.get_adapter("https://api.twitter.com/").poolmanager.pools
        assert len(pools) == 1

    assert len(pools) == 0


def test_unknown_user_is_not_found(client):
    with pytest.raises(XNotFound):
        client.get_user("1999999999999999999")
