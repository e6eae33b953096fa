"""Post lookup, creation (limits, duplicates, replies) and deletion."""

from __future__ import annotations


def test_lookup_single_and_many_with_deleted(sandbox, brand, x):
    sandbox.create_user("alice")
    a = sandbox.post_tweet("alice", "first")
    b = sandbox.post_tweet("alice", "second")
    sandbox.delete_tweet(b["id"])
    one = x("GET", f"/2/tweets/{a['id']}").json()
    assert one == {"data": {"id": a["id"], "text": "first", "edit_history_tweet_ids": [a["id"]]}}
    gone = x("GET", f"/2/tweets/{b['id']}").json()
    assert gone == {"errors": [{
        "value": b["id"], "detail": f"Could not find tweet with id: [{b['id']}].", "title": "Not Found Error",
        "resource_type": "tweet", "parameter": "id", "resource_id": b["id"],
        "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    many = x("GET", "/2/tweets", params={"ids": f"{a['id']},{b['id']}"}).json()
    assert [t["id"] for t in many["data"]] == [a["id"]]
    assert many["errors"][0]["parameter"] == "ids" and many["errors"][0]["value"] == b["id"]
    assert x("GET", "/2/tweets").status_code == 400


def test_referenced_tweets_expansion(sandbox, brand, x):
    sandbox.create_user("alice")
    root = sandbox.post_tweet("alice", "@AcmeSupport root")
    reply = sandbox.post_tweet("alice", "@AcmeSupport follow-up", in_reply_to_tweet_id=root["id"])
    body = x("GET", f"/2/tweets/{reply['id']}", params={
        "expansions": "referenced_tweets.id,in_reply_to_user_id", "tweet.fields": "referenced_tweets"}).json()
    assert body["data"]["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]
    assert body["includes"]["tweets"][0]["id"] == root["id"]
    assert body["includes"]["users"][0]["username"] == "alice"


def test_create_reply_and_delete(sandbox, brand, x):
    alice = sandbox.create_user("alice")
    root = sandbox.post_tweet("alice", "@AcmeSupport help")
    r = x("POST", "/2/tweets", json={"text": "@alice on it!", "reply": {"in_reply_to_tweet_id": root["id"]}})
    assert r.status_code == 201
    data = r.json()["data"]
    assert set(data) == {"id", "text"} and len(data["id"]) == 19 and int(data["id"]) > int(root["id"])
    stored = sandbox.get_tweet(data["id"])
    assert stored["conversation_id"] == root["id"] and stored["in_reply_to_user_id"] == alice["id"]
    thread = sandbox.thread(root["id"])["thread"]
    assert thread[0]["replies"][0]["id"] == data["id"]
    d = x("DELETE", f"/2/tweets/{data['id']}")
    assert d.status_code == 200 and d.json() == {"data": {"deleted": True}}
    assert x("DELETE", f"/2/tweets/{root['id']}").status_code == 403  # not the brand's post


def test_reply_to_deleted_tweet_is_403(sandbox, brand, x):
    sandbox.create_user("alice")
    root = sandbox.post_tweet("alice", "@AcmeSupport bye")
    sandbox.delete_tweet(root["id"])
    r = x("POST", "/2/tweets", json={"text": "hello?", "reply": {"in_reply_to_tweet_id": root["id"]}})
    assert r.status_code == 403 and "deleted" in r.json()["detail"]


def test_duplicate_content_is_403(sandbox, brand, x):
    assert x("POST", "/2/tweets", json={"text": "We are on it"}).status_code == 201
    r = x("POST", "/2/tweets", json={"text": "We are on it"})
    assert r.status_code == 403
    assert r.json() == {"title": "Forbidden", "type": "about:blank", "status": 403,
                        "detail": "You are not allowed to create a Tweet with duplicate content."}
    assert r.headers["content-type"].startswith("application/problem+json")


def test_280_weighted_characters(sandbox, brand, x):
    assert x("POST", "/2/tweets", json={"text": "a" * 280}).status_code == 201
    too_long = x("POST", "/2/tweets", json={"text": "b" * 281})
    assert too_long.status_code == 400
    assert too_long.json()["title"] == "Invalid Request"
    assert x("POST", "/2/tweets", json={"text": "日" * 140}).status_code == 201
    assert x("POST", "/2/tweets", json={"text": "本" * 141}).status_code == 400
    url = "https://example.com/" + "x" * 200
    assert x("POST", "/2/tweets", json={"text": url + " " + "c" * 256}).status_code == 201  # 23 + 1 + 256
    assert x("POST", "/2/tweets", json={"text": "😀" * 140}).status_code == 201
    assert x("POST", "/2/tweets", json={"text": "😀" * 141}).status_code == 400
    assert x("POST", "/2/tweets", json={"text": ""}).status_code == 400


def test_users_lookups(sandbox, brand, x):
    me = x("GET", "/2/users/me").json()
    assert me == {"data": {"id": brand["id"], "name": "Acme Support", "username": "AcmeSupport"}}
    alice = sandbox.create_user("alice", description="hi")
    by_id = x("GET", f"/2/users/{alice['id']}", params={"user.fields": "description,created_at"}).json()
    assert by_id["data"]["description"] == "hi" and by_id["data"]["created_at"].endswith("Z")
    assert x("GET", "/2/users/by/username/ALICE").json()["data"]["id"] == alice["id"]
    missing = x("GET", "/2/users/by/username/nobody").json()
    assert missing["errors"][0]["detail"] == "Could not find user with username: [nobody]."
    assert x("GET", "/2/users/999").json()["errors"][0]["resource_type"] == "user"
    assert x("GET", "/2/users/me", params={"user.fields": "bogus"}).status_code == 400
