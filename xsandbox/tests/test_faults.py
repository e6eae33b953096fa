"""Each injected fault kind, and that faults clear after `count` requests."""

from __future__ import annotations

import json
import time

import pytest
import requests

MENTIONS = "GET /2/users/:id/mentions"


@pytest.fixture
def mentions_url(sandbox, brand):
    sandbox.create_user("alice")
    for i in range(6):
        sandbox.post_tweet("alice", f"@AcmeSupport q{i}")
    return f"/2/users/{brand['id']}/mentions"


@pytest.mark.parametrize("kind,status", [("status_500", 500), ("status_503", 503)])
def test_status_faults_then_clear(sandbox, x, mentions_url, kind, status):
    sandbox.add_fault(MENTIONS, kind, count=2)
    for _ in range(2):
        r = x("GET", mentions_url)
        assert r.status_code == status and r.json()["status"] == status
        assert "x-rate-limit-remaining" in r.headers
    assert x("GET", mentions_url).status_code == 200


def test_slow_fault(sandbox, x, mentions_url):
    sandbox.add_fault(MENTIONS, "slow", delay_seconds=0.3)
    start = time.monotonic()
    assert x("GET", mentions_url).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_timeout_fault(sandbox, brand, mentions_url):
    sandbox.add_fault(MENTIONS, "timeout", delay_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(sandbox.base_url + mentions_url, headers=sandbox.auth_headers(brand["token"]), timeout=0.2)


def test_malformed_json_fault(sandbox, x, mentions_url):
    sandbox.add_fault(MENTIONS, "malformed_json")
    r = x("GET", mentions_url)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)
    assert x("GET", mentions_url).json()["meta"]["result_count"] == 6


def test_truncated_page_fault_keeps_next_token_and_loses_nothing(sandbox, x, mentions_url):
    sandbox.add_fault(MENTIONS, "truncated_page")
    first = x("GET", mentions_url, params={"max_results": 5}).json()
    assert first["meta"]["result_count"] == 2 and first["meta"]["next_token"]
    rest = x("GET", mentions_url, params={"max_results": 5, "pagination_token": first["meta"]["next_token"]}).json()
    ids = [t["id"] for t in first["data"] + rest["data"]]
    assert len(ids) == 6 and len(set(ids)) == 6


def test_repeated_page_fault(sandbox, x, mentions_url):
    first = x("GET", mentions_url, params={"max_results": 5}).json()
    sandbox.add_fault(MENTIONS, "repeated_page")
    again = x("GET", mentions_url, params={"max_results": 5, "pagination_token": first["meta"]["next_token"]}).json()
    assert again == first


def test_wildcard_and_unknown_endpoint(sandbox, x, mentions_url):
    sandbox.add_fault("*", "status_503")
    assert x("GET", "/2/users/me").status_code == 503
    assert x("GET", "/2/users/me").status_code == 200
    r = sandbox.http.post(sandbox.base_url + "/sandbox/api/faults", json={"endpoint": "GET /nope", "kind": "slow"})
    assert r.status_code == 400
    r = sandbox.http.post(sandbox.base_url + "/sandbox/api/faults", json={"endpoint": MENTIONS, "kind": "bogus"})
    assert r.status_code == 400
