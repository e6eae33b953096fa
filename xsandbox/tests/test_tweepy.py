"""Drive the sandbox with the real tweepy.Client the helpdesk uses (requests rerouted by an adapter)."""

from __future__ import annotations

import pytest
import requests

tweepy = pytest.importorskip("tweepy")


def test_tweepy_end_to_end(sandbox, brand):
    alice = sandbox.create_user("alice")
    mention = sandbox.post_tweet("alice", "@AcmeSupport where is my order?")
    sandbox.send_dm("alice", "order 42", recipient=brand["id"])
    client = sandbox.tweepy_client(brand["token"])

    me = client.get_me(user_auth=False)
    assert me.data.username == "AcmeSupport"
    page = client.get_users_mentions(brand["id"], tweet_fields=["created_at", "conversation_id"],
                                     expansions=["author_id"], user_auth=False)
    assert page.data[0].id == int(mention["id"]) and page.includes["users"][0].username == "alice"
    assert page.meta["newest_id"] == mention["id"]
    reply = client.create_tweet(text="@alice on it", in_reply_to_tweet_id=mention["id"], user_auth=False)
    assert reply.data["text"] == "@alice on it"
    dms = client.get_direct_message_events(dm_event_fields=["sender_id", "dm_conversation_id"], user_auth=False)
    assert dms.data[0].text == "order 42" and str(dms.data[0].sender_id) == alice["id"]
    sent = client.create_direct_message(participant_id=alice["id"], text="Hi Alice", user_auth=False)
    assert sent.data["dm_conversation_id"].count("-") == 1
    assert client.delete_tweet(reply.data["id"], user_auth=False).data == {"deleted": True}

    with pytest.raises(tweepy.errors.Forbidden):
        client.create_tweet(text="@alice on it!", in_reply_to_tweet_id=mention["id"], user_auth=False) and \
            client.create_tweet(text="@alice on it!", in_reply_to_tweet_id=mention["id"], user_auth=False)
    sandbox.set_rate_limit("GET /2/users/me", 1)
    with pytest.raises(tweepy.errors.TooManyRequests) as info:
        client.get_me(user_auth=False)
    assert info.value.response.headers["x-rate-limit-remaining"] == "0"
    with pytest.raises(tweepy.errors.Unauthorized):
        sandbox.tweepy_client("bogus").get_me(user_auth=False)


def test_raw_responses_expose_rate_limit_headers(sandbox, brand):
    client = sandbox.tweepy_client(brand["token"], return_type=requests.Response)
    r = client.get_users_mentions(brand["id"], user_auth=False)
    assert r.json() == {"meta": {"result_count": 0}}
    assert r.headers["x-rate-limit-limit"] == "300"
