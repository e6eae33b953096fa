"""Errors as X words them, under the problem-type host of the mode's spec, and every error body
the sandbox sends checked against X's problem schemas.

Spec 2.159 names its problem types under api.twitter.com, 2.167 under api.x.com, and 2.167
dropped the types it does not list (about:blank, unsupported-authentication,
streaming-connection), which live X still sends under their old names. So a problem is checked
against the schema of the spec that names its `type`.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import requests

from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN

APP = {"Authorization": f"Bearer {DEFAULT_APP_BEARER_TOKEN}"}
TWITTER = "https://api.twitter.com/2/problems/"
X = "https://api.x.com/2/problems/"
TOO_LONG = ("Your Tweet text is too long. For more information on how Twitter determines text length see "
            "https://github.com/twitter/twitter-text.")
MODES = ["tweet", "post", "both"]


@pytest.fixture(scope="module")
def problem_schemas(reference_dir: Path) -> dict[str, tuple[dict, dict]]:
    """Problem type URI -> (the spec that names it, the name of its schema)."""
    found: dict[str, tuple[dict, dict]] = {}
    for name in ("openapi-2.159.json", "openapi.json"):
        spec = json.loads((reference_dir / name).read_text("utf-8"))
        mapping = spec["components"]["schemas"]["Problem"]["discriminator"]["mapping"]
        for uri, ref in mapping.items():
            found[uri] = (spec, ref)
    return found


def check_problem(problem: dict, schemas: dict, mode: str) -> None:
    assert problem["type"] in schemas, f"no spec names the problem type {problem['type']}"
    spec, ref = schemas[problem["type"]]
    jsonschema.validate(problem, {"$ref": ref, "components": spec["components"]})
    kind = problem["type"].rsplit("/", 1)[-1]
    if mode == "tweet":  # spec 2.159 throughout
        assert problem["type"] == "about:blank" or problem["type"].startswith(TWITTER), problem
    elif X + kind in schemas:  # a type spec 2.167 names is sent under api.x.com
        assert problem["type"] == X + kind, problem


def check_error_body(r: requests.Response, schemas: dict, mode: str) -> None:
    body = r.json()
    problems = [body] if "type" in body else [e for e in body.get("errors", []) if "type" in e]
    assert problems, f"{r.request.method} {r.url}: no problem in {body}"
    for problem in problems:
        check_problem(problem, schemas, mode)


@pytest.fixture
def errors_of_every_kind(sandbox, brand, x):
    """Every kind of error body the sandbox sends: (description, response)."""

    def collect() -> list[tuple[str, requests.Response]]:
        alice = sandbox.create_user("alice")
        mine = sandbox.post_tweet(brand["id"], "we are on it")
        theirs = sandbox.post_tweet("alice", "@AcmeSupport hi")
        gone = sandbox.post_tweet("alice", "@AcmeSupport gone")
        sandbox.delete_tweet(gone["id"])
        weak = sandbox.mint_token(brand["id"], scopes=["users.read"])["access_token"]
        fields = "tweet.fields" if sandbox.state()["config"]["vocabulary"] == "tweet" else "post.fields"
        out = [
            ("401", x("GET", "/2/users/me", token="no-such-token")),
            ("401 activity", x("GET", "/2/webhooks", token="no-such-token")),
            ("403 scopes", x("GET", f"/2/users/{brand['id']}/mentions", token=weak)),
            ("403 duplicate", x("POST", "/2/tweets", json={"text": "we are on it"})),
            ("403 reply to deleted", x("POST", "/2/tweets", json={
                "text": "hello?", "reply": {"in_reply_to_tweet_id": gone["id"]}})),
            ("403 delete another's", x("DELETE", f"/2/tweets/{theirs['id']}")),
            ("403 dm", x("POST", "/2/dm_conversations/123-456/messages", json={"text": "hi"})),
            ("403 unsupported authentication", x("GET", "/2/webhooks")),
            ("400 unknown parameter", x("GET", "/2/users/me", params={"color": "red"})),
            ("400 bad value", x("GET", f"/2/users/{brand['id']}/mentions", params={fields: "colour"})),
            ("400 over-long", x("POST", "/2/tweets", json={"text": "b" * 281})),
            ("400 activity", x("GET", "/2/activity/stream", headers=APP, params={"backfill_minutes": "9"})),
            ("404 route", x("GET", "/2/no/such/route")),
            ("404 webhook", x("DELETE", "/2/webhooks/123", headers=APP)),
            ("200 partial post", x("GET", "/2/tweets", params={"ids": f"{mine['id']},{gone['id']}"})),
            ("200 partial user", x("GET", "/2/users/999")),
        ]
        for kind, status in (("status_500", "500"), ("status_503", "503"), ("timeout", "504")):
            sandbox.add_fault("GET /2/users/me", kind, delay_seconds=0)
            out.append((status, x("GET", "/2/users/me")))
        sandbox.set_rate_limit("GET /2/users/:id", 0)
        out.append(("429", x("GET", f"/2/users/{alice['id']}")))
        streams = [requests.get(sandbox.base_url + "/2/activity/stream", headers=APP, stream=True, timeout=5)
                   for _ in range(2)]
        try:
            out.append(("429 connections", x("GET", "/2/activity/stream", headers=APP)))
        finally:
            for stream in streams:
                stream.close()
        return out

    return collect


@pytest.mark.parametrize("mode", MODES)
def test_every_error_body_matches_the_problem_schemas(sandbox, errors_of_every_kind, problem_schemas, mode):
    sandbox.configure(vocabulary=mode)
    for what, r in errors_of_every_kind():
        assert r.status_code == int(what.split()[0]), (what, r.status_code, r.text)
        check_error_body(r, problem_schemas, mode)


@pytest.mark.parametrize("mode, host", [("tweet", TWITTER), ("post", X), ("both", X)])
def test_partial_errors_follow_the_problem_host_of_the_modes_spec(sandbox, brand, x, mode, host):
    sandbox.configure(vocabulary=mode)
    sandbox.create_user("alice")
    gone = sandbox.post_tweet("alice", "@AcmeSupport gone")
    sandbox.delete_tweet(gone["id"])
    error = x("GET", f"/2/tweets/{gone['id']}").json()["errors"][0]
    assert error["type"] == host + "resource-not-found"
    assert x("GET", "/2/users/me", params={"nope": "1"}).json()["type"] == host + "invalid-request"


def test_the_problem_host_is_a_sandbox_setting(sandbox, brand, x):
    sandbox.configure(vocabulary="post", problem_host="https://api.twitter.com")
    assert x("GET", "/2/users/999").json()["errors"][0]["type"] == TWITTER + "resource-not-found"
    assert sandbox.state()["config"]["problem_host"] == "https://api.twitter.com"
    sandbox.configure(problem_host="")
    assert x("GET", "/2/users/999").json()["errors"][0]["type"] == X + "resource-not-found"
    sandbox.configure(vocabulary="tweet", problem_host="https://api.x.com")
    assert x("GET", "/2/users/999").json()["errors"][0]["type"] == X + "resource-not-found"
    assert sandbox.reset()["problem_host"] == ""


@pytest.mark.parametrize("mode", MODES)
def test_unsupported_authentication_as_x_words_it(sandbox, x, mode):
    sandbox.configure(vocabulary=mode)
    r = x("GET", "/2/webhooks")
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json() == {
        "title": "Unsupported Authentication",
        "detail": "Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  "
                  "Supported authentication types are [OAuth 2.0 Application-Only].",
        "type": "https://api.twitter.com/2/problems/unsupported-authentication",
        "status": 403,
    }


@pytest.mark.parametrize("mode", MODES)
def test_over_long_post_as_x_words_it(sandbox, x, mode):
    sandbox.configure(vocabulary=mode)
    r = x("POST", "/2/tweets", json={"text": "b" * 281})
    assert r.status_code == 400
    assert r.json()["errors"] == [{"parameters": {"text": ["b" * 281]}, "message": TOO_LONG}]
