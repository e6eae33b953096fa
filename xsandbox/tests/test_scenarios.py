"""Scenario loading (incl. the bundled demo), state persistence and the HTML pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xsandbox.testing import SandboxError, running_sandbox

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "demo.json"


def test_demo_scenario_loads_and_brand_token_works(sandbox):
    demo = json.loads(DEMO.read_text("utf-8"))
    result = sandbox.load_scenario(demo)
    assert result["play_steps"] >= 4
    token = demo["tokens"][0]["access_token"]
    brand_id = demo["users"][0]["id"]
    r = sandbox.http.get(sandbox.base_url + f"/2/users/{brand_id}/mentions", headers=sandbox.auth_headers(token))
    assert r.status_code == 200 and r.json()["meta"]["result_count"] >= 1
    me = sandbox.http.get(sandbox.base_url + "/2/users/me", headers=sandbox.auth_headers(token)).json()
    assert me["data"]["username"] == "AcmeSupport"


def test_scenario_keys_and_play(sandbox):
    result = sandbox.load_scenario({
        "brand": "brand",
        "users": [{"username": "brand"}, {"username": "carol"}],
        "tweets": [{"key": "t1", "author": "carol", "text": "@brand hi", "ago_seconds": 60},
                   {"author": "carol", "text": "@brand more", "in_reply_to": "t1"}],
        "likes": [{"user": "brand", "tweet": "t1"}],
        "play": [{"at": 0, "action": "tweet", "author": "carol", "text": "@brand played"}],
    }, play=True)
    assert set(result["keys"]) == {"t1"}
    import time
    for _ in range(100):
        if any(t["text"] == "@brand played" for t in sandbox._call("GET", "/tweets")["tweets"]):
            break
        time.sleep(0.02)
    else:
        raise AssertionError("played step never happened")
    assert sandbox.timeline("carol")["items"][1]["in_reply_to"]["text"] == "@brand hi"


def test_state_file_round_trip(tmp_path):
    state = tmp_path / "state.json"
    with running_sandbox(state_file=str(state)) as sb:
        user = sb.create_user("persisted")
        token = sb.mint_token(user["id"])["access_token"]
        sb.post_tweet("persisted", "kept")
    assert state.exists()
    with running_sandbox(state_file=str(state)) as sb:
        r = sb.http.get(sb.base_url + "/2/users/me", headers=sb.auth_headers(token))
        assert r.json()["data"]["username"] == "persisted"
        assert sb.timeline("persisted")["items"][0]["text"] == "kept"


def test_html_pages(sandbox, brand):
    page = sandbox.http.get(sandbox.base_url + "/sandbox/")
    assert page.status_code == 200 and "<form" in page.text
    assert sandbox.http.get(sandbox.base_url + "/nope").status_code == 404


def test_control_api_loads_the_bundled_demo_by_name(sandbox):
    # The command line's `--scenario demo` worked; the control API's {"path": "demo"} was a 500.
    result = sandbox._call("POST", "/scenario", {"path": "demo"})
    assert result["play_steps"] >= 4
    assert any(u["username"] == "AcmeSupport" and u["is_brand"] for u in sandbox._call("GET", "/users")["users"])


def test_control_api_refuses_a_scenario_it_cannot_read(sandbox, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", "utf-8")
    for path in ("no-such-scenario", str(tmp_path / "missing.json"), str(broken)):
        with pytest.raises(SandboxError) as caught:
            sandbox._call("POST", "/scenario", {"path": path})
        assert caught.value.status == 400 and path in caught.value.body["error"]
