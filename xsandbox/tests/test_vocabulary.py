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


def test_both_mode_answers_each_request_in_the_vocabulary_it_asked_for(sandbox, brand, x, reply_setup):
    root, reply = reply_setup
    sandbox.configure(vocabulary="both")
    old = x("GET", f"/2/tweets/{reply['id']}", params={
        "tweet.fields": "referenced_tweets,public_metrics", "expansions": "referenced_tweets.id"}).json()
    assert old["data"]["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]
    assert "referenced_posts" not in old["data"] and set(old["includes"]) == {"tweets"}
    new = x("GET", f"/2/tweets/{reply['id']}", params={
        "post.fields": "referenced_posts,public_metrics", "expansions": "referenced_posts"}).json()
    assert new["data"]["referenced_posts"] == [{"type": "replied_to", "id": root["id"]}]
    assert "referenced_tweets" not in new["data"] and set(new["includes"]) == {"posts"}
    # What X always sends comes in both spellings, as both specs allow: tweepy needs
    # edit_history_tweet_ids, X's own SDK post_count and repost_count.
    for body in (old, new):
        assert body["data"]["edit_history_tweet_ids"] == body["data"]["edit_history_post_ids"] == [reply["id"]]
        assert {"retweet_count", "repost_count"} <= set(body["data"]["public_metrics"])
    me = x("GET", "/2/users/me", params={"user.fields": "public_metrics"}).json()["data"]["public_metrics"]
    assert me["tweet_count"] == me["post_count"]
    # Either vocabulary's expansions, checked against its own spec's enum.
    assert x("GET", "/2/tweets", params={"ids": root["id"], "tweet.fields": "referenced_posts"}).status_code == 400
    assert x("GET", "/2/tweets", params={"ids": root["id"], "post.fields": "note_tweet"}).status_code == 400


@pytest.mark.parametrize("mode, posts, reposts, absent", [
    ("tweet", "tweet_count", "retweet_count", {"post_count", "repost_count", "edit_history_post_ids"}),
    ("post", "post_count", "repost_count", {"tweet_count", "retweet_count", "edit_history_tweet_ids"}),
])
def test_strict_modes_send_only_their_specs_keys(sandbox, brand, x, reply_setup, mode, posts, reposts, absent):
    _, reply = reply_setup
    sandbox.configure(vocabulary=mode)
    fields = "tweet.fields" if mode == "tweet" else "post.fields"
    post = x("GET", f"/2/tweets/{reply['id']}", params={fields: "public_metrics"}).json()["data"]
    me = x("GET", "/2/users/me", params={"user.fields": "public_metrics"}).json()["data"]
    assert reposts in post["public_metrics"] and posts in me["public_metrics"]
    assert not absent & (set(post) | set(post["public_metrics"]) | set(me["public_metrics"]))


def test_the_command_line_and_make_run_speak_both_vocabularies():
    from pathlib import Path

    from xsandbox.__main__ import parse_args

    assert parse_args([]).vocabulary == "both"
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text("utf-8")
    sandbox_line = next(line for line in procfile.splitlines() if line.startswith("sandbox:"))
    assert "--vocabulary both" in sandbox_line
