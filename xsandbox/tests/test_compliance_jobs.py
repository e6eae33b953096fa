"""The sandbox's batch compliance jobs: spec 2.167's shapes, app-only, streamed upload of
ids to the job's signed URL, a result of one JSON line per changed id."""

from __future__ import annotations

import json

import pytest

from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN

APP = {"Authorization": f"Bearer {DEFAULT_APP_BEARER_TOKEN}"}
SPEC_JOB_FIELDS = {"created_at", "download_expires_at", "download_url", "id", "name", "resumable", "status", "type",
                   "upload_expires_at", "upload_url"}


@pytest.fixture
def app(sandbox):
    def call(method, path, **kw):
        return sandbox.http.request(method, sandbox.base_url + path, headers=APP, timeout=30, **kw)

    return call


def test_job_round_trip(sandbox, app, brand):
    sandbox.create_user("alice")
    kept = sandbox.post_tweet("alice", "@AcmeSupport hi")
    gone = sandbox.post_tweet("alice", "@AcmeSupport secret")
    sandbox.delete_tweet(gone["id"])

    created = app("POST", "/2/compliance/jobs", json={"type": "tweets", "name": "daily"})
    assert created.status_code == 200, created.text
    job = created.json()["data"]
    assert set(job) <= SPEC_JOB_FIELDS and job["status"] == "created" and job["type"] == "tweets"
    assert created.headers["x-rate-limit-limit"] == "150"

    ids = "\n".join([kept["id"], gone["id"], "999"]) + "\n"
    upload = sandbox.http.put(job["upload_url"], data=ids.encode(), headers={"Content-Type": "text/plain"})
    assert upload.status_code == 200
    status = app("GET", f"/2/compliance/jobs/{job['id']}").json()["data"]
    assert status["status"] == "complete"
    result = sandbox.http.get(status["download_url"])
    lines = [json.loads(line) for line in result.text.splitlines()]
    assert [(r["id"], r["action"], r["reason"]) for r in lines] == [(gone["id"], "delete", "deleted")]
    listed = app("GET", "/2/compliance/jobs", params={"type": "tweets"}).json()
    assert [j["id"] for j in listed["data"]] == [job["id"]]


def test_jobs_are_app_only_and_urls_signed(sandbox, app, brand, x):
    assert x("POST", "/2/compliance/jobs", json={"type": "tweets"}).status_code == 403
    assert app("POST", "/2/compliance/jobs", json={"type": "likes"}).status_code == 400
    job = app("POST", "/2/compliance/jobs", json={"type": "users"}).json()["data"]
    forged = job["upload_url"].split("?")[0] + "?signature=nope"
    assert sandbox.http.put(forged, data=b"1\n").status_code == 403
    assert sandbox.http.get(job["download_url"]).status_code == 404  # nothing uploaded yet
    assert app("GET", "/2/compliance/jobs/123").status_code == 404


def test_users_job_reports_protected_and_unknown_accounts(sandbox, app, brand):
    alice = sandbox.create_user("alice")
    bob = sandbox.create_user("bob")
    sandbox.update_user(bob["id"], protected=True)
    job = app("POST", "/2/compliance/jobs", json={"type": "users"}).json()["data"]
    sandbox.http.put(job["upload_url"], data=f"{alice['id']}\n{bob['id']}\n42".encode())
    app("GET", f"/2/compliance/jobs/{job['id']}")
    lines = [json.loads(line) for line in sandbox.http.get(job["download_url"]).text.splitlines()]
    assert [(r["id"], r["action"]) for r in lines] == [(bob["id"], "protect"), ("42", "delete")]
