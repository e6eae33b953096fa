"""Rate-limit headers, 429s and window resets, on the X routes and the Activity API's."""

from __future__ import annotations

from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN
from xsandbox.activity_routes import X_ROUTES, endpoint_key
from xsandbox.ratelimits import ACTIVITY_LIMITS

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


# --- the Activity API: limits per app -------------------------------------------------------------

APP = {"Authorization": f"Bearer {DEFAULT_APP_BEARER_TOKEN}"}


def app(sandbox, method, path, **kw):
    return sandbox.http.request(method, sandbox.base_url + path, headers=APP, timeout=30, **kw)


def connect_stream(sandbox):
    r = sandbox.http.get(sandbox.base_url + "/2/activity/stream", headers=APP, stream=True, timeout=(5, 5))
    if r.status_code != 200:
        _ = r.content  # a refusal's body, read before the connection goes
    r.close()  # an accepted stream is not needed open: the connect is what counts
    return r


def subscribe(x, brand):
    return x("POST", "/2/activity/subscriptions", json={"event_type": "post.mention.create",
                                                        "filter": {"user_id": brand["id"]}})


def test_every_activity_route_has_a_limit():
    assert {endpoint_key(method, path) for method, path, *_ in X_ROUTES} == set(ACTIVITY_LIMITS)


def test_stream_connect_counts_against_the_apps_450_per_window(sandbox):
    first, second = connect_stream(sandbox), connect_stream(sandbox)

    assert first.status_code == 200 and first.headers["x-rate-limit-limit"] == "450"
    assert (first.headers["x-rate-limit-remaining"], second.headers["x-rate-limit-remaining"]) == ("449", "448")
    assert first.headers["x-rate-limit-reset"] == second.headers["x-rate-limit-reset"]


def test_stream_connect_over_the_limit_is_429_until_the_reset(sandbox):
    sandbox.set_rate_limit("GET /2/activity/stream", 1)
    before = sandbox.set_clock()["unix"]
    assert connect_stream(sandbox).status_code == 200

    r = connect_stream(sandbox)

    assert r.status_code == 429 and r.json() == TOO_MANY
    assert r.headers["x-rate-limit-remaining"] == "0" and "retry-after" not in r.headers
    assert before + 899 <= int(r.headers["x-rate-limit-reset"]) <= before + 901
    sandbox.advance_clock(901)
    assert connect_stream(sandbox).status_code == 200


def test_subscription_create_has_headers_and_429_like_other_routes(sandbox, brand, x):
    r = subscribe(x, brand)
    assert r.status_code == 200 and r.headers["x-rate-limit-limit"] == "500"
    assert r.headers["x-rate-limit-remaining"] == "499"

    sandbox.set_rate_limit("POST /2/activity/subscriptions", 2)
    assert subscribe(x, brand).status_code == 200
    refused = subscribe(x, brand)

    assert refused.status_code == 429 and refused.json() == TOO_MANY
    assert refused.headers["x-rate-limit-remaining"] == "0"
    assert len(sandbox.activity_state()["subscriptions"]) == 2  # the refused one was not made


def test_activity_limits_are_per_app_for_the_app_token_and_per_user_otherwise(sandbox, brand, x):
    sandbox.set_rate_limit("POST /2/activity/subscriptions", 1)
    assert subscribe(x, brand).status_code == 200
    assert subscribe(x, brand).status_code == 429

    body = {"event_type": "post.create", "filter": {"user_id": brand["id"]}}
    r = app(sandbox, "POST", "/2/activity/subscriptions", json=body)

    assert r.status_code == 200 and r.headers["x-rate-limit-remaining"] == "0"
    assert app(sandbox, "POST", "/2/activity/subscriptions", json=body).status_code == 429


def test_webhook_and_replay_limits_and_no_headers_without_a_token(sandbox):
    assert app(sandbox, "GET", "/2/webhooks").headers["x-rate-limit-limit"] == "15"
    replay = app(sandbox, "POST", "/2/webhooks/replay", json={})
    assert replay.status_code == 400 and replay.headers["x-rate-limit-limit"] == "5"
    anonymous = sandbox.http.get(sandbox.base_url + "/2/webhooks", timeout=30)
    assert anonymous.status_code == 401 and "x-rate-limit-limit" not in anonymous.headers


def test_activity_routes_follow_the_profiles(sandbox):
    sandbox.set_rate_limit_profile("tight")
    for _ in range(3):
        assert app(sandbox, "GET", "/2/activity/subscriptions").status_code == 200
    assert app(sandbox, "GET", "/2/activity/subscriptions").status_code == 429

    sandbox.set_rate_limit_profile("unlimited")
    assert int(connect_stream(sandbox).headers["x-rate-limit-limit"]) >= 1_000_000


def test_reset_is_never_more_than_a_window_away(sandbox, brand, x):
    # A window opening just after a whole second: its reset used to round up to 900.99 s away,
    # which twarc reads as clock skew. It must be at most 900 s away, and the window must
    # really reset at the second it names.
    sandbox.set_rate_limit("GET /2/users/me", 1)
    now = sandbox.set_clock(now=1_790_000_000.006, frozen=True)["unix"]
    assert x("GET", "/2/users/me").status_code == 200
    r = x("GET", "/2/users/me")
    assert r.status_code == 429
    reset = int(r.headers["x-rate-limit-reset"])
    assert 899 < reset - now <= 900
    sandbox.set_clock(now=reset - 0.001)
    assert x("GET", "/2/users/me").status_code == 429
    sandbox.set_clock(now=reset)
    assert x("GET", "/2/users/me").status_code == 200
