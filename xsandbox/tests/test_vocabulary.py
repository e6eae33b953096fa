"""The tweet → post vocabulary switch: each mode answers in its words and refuses the other's parameter."""

from __future__ import annotations

import pytest


@pytest.fixture
def reply_setup(sandbox, brand):
    sandbox.create_user("alice")
    root = sandbox.post_tweet("alice", "@AcmeSupport root")
    reply = sandbox.post_tweet("alice", "@AcmeSupport more", in_reply_to_tweet_id=root["id"])
    return root, reply


def test_tweet_mode(sandbox, brand, x, reply_setup):
    root, reply = reply_setup
    body = x("GET", f"/2/tweets/{reply['id']}", params={
        "tweet.fields": "referenced_tweets,conversation_id", "expansions": "referenced_tweets.id"}).json()
    assert body["data"]["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]
    assert body["data"]["edit_history_tweet_ids"] == [reply["id"]]
    assert body["includes"]["tweets"][0]["id"] == root["id"]
    r = x("GET", f"/2/tweets/{reply['id']}", params={"post.fields": "conversation_id"})
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["parameters"] == {"post.fields": ["conversation_id"]}
    assert err["message"].startswith("The query parameter [post.fields] is not one of [")


def test_post_mode(sandbox, brand, x, reply_setup):
    root, reply = reply_setup
    sandbox.configure(vocabulary="post")
    body = x("GET", f"/2/tweets/{reply['id']}", params={
        "post.fields": "referenced_posts,conversation_id", "expansions": "referenced_posts"}).json()
    assert body["data"]["referenced_posts"] == [{"type": "replied_to", "id": root["id"]}]
    assert body["data"]["edit_history_post_ids"] == [reply["id"]]
    assert "edit_history_tweet_ids" not in body["data"]
    assert body["includes"]["posts"][0]["id"] == root["id"]
    mentions = x("GET", f"/2/users/{brand['id']}/mentions", params={"post.fields": "created_at"}).json()
    assert all("edit_history_post_ids" in t for t in mentions["data"])
    r = x("GET", f"/2/users/{brand['id']}/mentions", params={"tweet.fields": "created_at"})
    assert r.status_code == 400 and "tweet.fields" in r.json()["errors"][0]["parameters"]
    assert x("GET", "/2/tweets", params={"ids": root["id"], "expansions": "referenced_tweets.id"}).status_code == 400


def test_running_sandbox_starts_in_post_mode():
    from xsandbox.testing import running_sandbox

    with running_sandbox(vocabulary="post") as sb:
        user = sb.create_user("brand")
        token = sb.mint_token(user["id"])["access_token"]
        r = sb.http.get(sb.base_url + "/2/users/me", params={"post.fields": "id"}, headers=sb.auth_headers(token))
        assert r.status_code == 200
        assert sb.reset()["vocabulary"] == "post"
