"""Rate-limit headers, 429s and window resets."""

from __future__ import annotations

TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}


def test_headers_on_every_response(sandbox, brand, x):
    r1 = x("GET", f"/2/users/{brand['id']}/mentions")
    r2 = x("GET", f"/2/users/{brand['id']}/mentions")
    assert r1.headers["x-rate-limit-limit"] == "300"
    assert int(r1.headers["x-rate-limit-remaining"]) == 299 and r2.headers["x-rate-limit-remaining"] == "298"
    assert r1.headers["x-rate-limit-reset"] == r2.headers["x-rate-limit-reset"]
    assert x("GET", "/2/users/me").headers["x-rate-limit-limit"] == "75"
    assert x("GET", "/2/dm_events").headers["x-rate-limit-limit"] == "15"
    assert x("POST", "/2/tweets", json={"text": "hey"}).headers["x-rate-limit-limit"] == "100"
    bad = x("GET", f"/2/users/{brand['id']}/mentions", params={"max_results": 1})
    assert bad.status_code == 400 and "x-rate-limit-remaining" in bad.headers


def test_429_then_reset_after_window(sandbox, brand, x):
    sandbox.set_rate_limit("GET /2/users/me", 2)
    before = sandbox.set_clock()["unix"]
    assert x("GET", "/2/users/me").status_code == 200
    assert x("GET", "/2/users/me").headers["x-rate-limit-remaining"] == "0"
    r = x("GET", "/2/users/me")
    assert r.status_code == 429 and r.json() == TOO_MANY
    reset = int(r.headers["x-rate-limit-reset"])
    assert before + 899 <= reset <= before + 901
    assert r.headers["x-rate-limit-remaining"] == "0" and "retry-after" not in r.headers
    sandbox.advance_clock(901)
    ok = x("GET", "/2/users/me")
    assert ok.status_code == 200 and ok.headers["x-rate-limit-remaining"] == "1"


def test_limits_are_per_user_and_per_endpoint(sandbox, brand, x):
    sandbox.set_rate_limit_profile("tight")
    alice = sandbox.create_user("alice")
    alice_token = sandbox.mint_token(alice["id"])["access_token"]
    for _ in range(3):
        assert x("GET", "/2/users/me").status_code == 200
    assert x("GET", "/2/users/me").status_code == 429
    assert x("GET", "/2/users/me", token=alice_token).status_code == 200
    assert x("GET", f"/2/users/{alice['id']}").status_code == 200


def test_dm_read_endpoints_share_one_budget(sandbox, brand, x):
    alice = sandbox.create_user("alice")
    sandbox.set_rate_limit("GET /2/dm_events", 2)
    assert x("GET", "/2/dm_events").status_code == 200
    assert x("GET", f"/2/dm_conversations/with/{alice['id']}/dm_events").status_code == 200
    assert x("GET", "/2/dm_events").status_code == 429


def test_unlimited_profile_and_describe(sandbox, brand, x):
    sandbox.set_rate_limit_profile("unlimited")
    assert int(x("GET", "/2/dm_events").headers["x-rate-limit-limit"]) >= 1_000_000
    info = sandbox._call("GET", "/rate-limits")
    assert info["profile"] == "unlimited" and info["windows"]
