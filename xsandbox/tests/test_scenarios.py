"""Scenario loading (incl. the bundled demo), state persistence and the HTML pages."""

from __future__ import annotations

import json
from pathlib import Path

from xsandbox.testing import running_sandbox

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
