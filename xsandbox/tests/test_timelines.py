"""Mentions and liked_tweets: filtering, ordering and paging semantics."""

from __future__ import annotations


def _mentions(x, brand, **params):
    r = x("GET", f"/2/users/{brand['id']}/mentions", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _post_mentions(sandbox, n: int, author: str = "alice") -> list[str]:
    return [sandbox.post_tweet(author, f"@AcmeSupport question {i}")["id"] for i in range(n)]


def test_mentions_newest_first_with_meta(sandbox, brand, x):
    sandbox.create_user("alice")
    ids = _post_mentions(sandbox, 3)
    body = _mentions(x, brand)
    assert [t["id"] for t in body["data"]] == ids[::-1]
    assert body["meta"] == {"result_count": 3, "newest_id": ids[-1], "oldest_id": ids[0]}
    assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids"}


def test_since_id_is_exclusive_and_until_id_too(sandbox, brand, x):
    sandbox.create_user("alice")
    ids = _post_mentions(sandbox, 5)
    assert [t["id"] for t in _mentions(x, brand, since_id=ids[1])["data"]] == ids[:1:-1]
    assert [t["id"] for t in _mentions(x, brand, until_id=ids[3])["data"]] == ids[2::-1]
    assert _mentions(x, brand, since_id=ids[-1]) == {"meta": {"result_count": 0}}


def test_empty_page_has_no_data_key(sandbox, brand, x):
    assert _mentions(x, brand) == {"meta": {"result_count": 0}}


def test_next_token_walks_without_gaps_or_repeats(sandbox, brand, x):
    sandbox.create_user("alice")
    ids = _post_mentions(sandbox, 23)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"max_results": 5}
        if token:
            params["pagination_token"] = token
        body = _mentions(x, brand, **params)
        seen += [t["id"] for t in body["data"]]
        pages += 1
        if pages == 2:  # new mentions arriving mid-walk must not disturb it
            _post_mentions(sandbox, 2, "alice")[:0]
        token = body["meta"].get("next_token")
        if not token:
            break
    assert seen == ids[::-1]
    assert pages == 5


def test_time_window_start_inclusive_end_exclusive(sandbox, brand, x):
    sandbox.create_user("alice")
    sandbox.set_clock(now="2025-01-01T10:00:00Z", frozen=True)
    first = sandbox.post_tweet("alice", "@AcmeSupport at ten")["id"]
    sandbox.advance_clock(60)
    second = sandbox.post_tweet("alice", "@AcmeSupport a minute later")["id"]
    got = _mentions(x, brand, start_time="2025-01-01T10:00:00Z", end_time="2025-01-01T10:01:00Z")
    assert [t["id"] for t in got["data"]] == [first]
    got = _mentions(x, brand, start_time="2025-01-01T10:00:30Z")
    assert [t["id"] for t in got["data"]] == [second]
    created = _mentions(x, brand, **{"tweet.fields": "created_at"})["data"][0]["created_at"]
    assert created == "2025-01-01T10:01:00.000Z"


def test_max_results_bounds(sandbox, brand, x):
    for bad in ("4", "101", "abc"):
        r = x("GET", f"/2/users/{brand['id']}/mentions", params={"max_results": bad})
        assert r.status_code == 400
        assert r.json()["type"] == "https://api.twitter.com/2/problems/invalid-request"
    for fine in ("5", "100"):
        assert x("GET", f"/2/users/{brand['id']}/mentions", params={"max_results": fine}).status_code == 200


def test_bad_pagination_token_is_400(sandbox, brand, x):
    r = x("GET", f"/2/users/{brand['id']}/mentions", params={"pagination_token": "nonsense"})
    assert r.status_code == 400


def test_replies_in_a_thread_that_mentions_the_brand_are_mentions(sandbox, brand, x):
    sandbox.create_user("alice")
    sandbox.create_user("bob")
    root = sandbox.post_tweet("alice", "@AcmeSupport my parcel is lost")
    reply = sandbox.post_tweet("bob", "same here!", in_reply_to_tweet_id=root["id"])
    own = sandbox.post_tweet(brand["id"], "@alice sorry, DM us", in_reply_to_tweet_id=root["id"])
    body = _mentions(x, brand, **{"tweet.fields": "conversation_id,in_reply_to_user_id,referenced_tweets"})
    assert [t["id"] for t in body["data"]] == [reply["id"], root["id"]]
    assert own["id"] not in {t["id"] for t in body["data"]}
    r = body["data"][0]
    assert r["conversation_id"] == root["id"]
    assert r["in_reply_to_user_id"] == root["author_id"]
    assert r["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]


def test_deleted_mentions_disappear(sandbox, brand, x):
    sandbox.create_user("alice")
    ids = _post_mentions(sandbox, 2)
    sandbox.delete_tweet(ids[0])
    assert [t["id"] for t in _mentions(x, brand)["data"]] == [ids[1]]


def test_mentions_expansions_and_entities(sandbox, brand, x):
    alice = sandbox.create_user("alice", name="Alice A")
    t = sandbox.post_tweet("alice", "@AcmeSupport see https://example.com/order/42 #late")
    body = _mentions(x, brand, expansions="author_id,entities.mentions.username",
                     **{"tweet.fields": "entities,author_id", "user.fields": "created_at"})
    tweet = body["data"][0]
    assert tweet["author_id"] == alice["id"]
    ents = tweet["entities"]
    assert ents["mentions"] == [{"start": 0, "end": 12, "username": "AcmeSupport", "id": brand["id"]}]
    url = ents["urls"][0]
    assert url["expanded_url"] == "https://example.com/order/42"
    assert url["url"].startswith("https://t.co/") and tweet["text"][url["start"]:url["end"]] == url["url"]
    assert ents["hashtags"][0]["tag"] == "late"
    users = {u["username"]: u for u in body["includes"]["users"]}
    assert set(users) == {"alice", "AcmeSupport"} and "created_at" in users["alice"]
    assert t["text"] == tweet["text"]


def test_liked_tweets_newest_like_first_and_paging(sandbox, brand, x):
    sandbox.create_user("alice")
    ids = [sandbox.post_tweet("alice", f"nice {i}")["id"] for i in range(7)]
    order = [ids[3], ids[0], ids[6], ids[1], ids[5], ids[2], ids[4]]
    for tid in order:
        sandbox.like(brand["id"], tid)
    first = x("GET", f"/2/users/{brand['id']}/liked_tweets", params={"max_results": 5}).json()
    assert [t["id"] for t in first["data"]] == order[::-1][:5]
    assert set(first["meta"]) == {"result_count", "next_token"}
    second = x("GET", f"/2/users/{brand['id']}/liked_tweets",
               params={"max_results": 5, "pagination_token": first["meta"]["next_token"]}).json()
    assert [t["id"] for t in second["data"]] == order[::-1][5:]
    assert "next_token" not in second["meta"] and "newest_id" not in second["meta"]
    r = x("GET", f"/2/users/{brand['id']}/liked_tweets", params={"since_id": ids[0]})
    assert r.status_code == 400  # liked_tweets has no since_id on X either
