"""Bearer tokens (401/403) and the OAuth 2.0 PKCE flow end to end."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
REDIRECT = "http://127.0.0.1:8000/x/callback"
SCOPES = ["tweet.read", "users.read", "tweet.write", "dm.read", "dm.write", "like.read", "offline.access"]


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_unknown_token_is_401(sandbox, brand, x):
    r = x("GET", "/2/users/me", token="not-a-token")
    assert r.status_code == 401 and r.json() == UNAUTHORIZED
    r = sandbox.http.get(sandbox.base_url + "/2/users/me")
    assert r.status_code == 401 and r.json() == UNAUTHORIZED


def test_expired_token_is_401(sandbox, brand, x):
    token = sandbox.mint_token(brand["id"], expires_in=60)["access_token"]
    assert x("GET", "/2/users/me", token=token).status_code == 200
    sandbox.advance_clock(61)
    assert x("GET", "/2/users/me", token=token).json() == UNAUTHORIZED


def test_revoked_token_is_401(sandbox, brand, x):
    token = sandbox.mint_token(brand["id"])["access_token"]
    sandbox.revoke_token(token)
    assert x("GET", "/2/users/me", token=token).status_code == 401


def test_missing_scope_is_403(sandbox, brand, x):
    token = sandbox.mint_token(brand["id"], scopes=["tweet.read", "users.read"])["access_token"]
    assert x("GET", "/2/users/me", token=token).status_code == 200
    r = x("GET", "/2/dm_events", token=token)
    assert r.status_code == 403 and r.json()["title"] == "Forbidden"
    assert "x-rate-limit-limit" in r.headers
    assert x("POST", "/2/tweets", token=token, json={"text": "hi"}).status_code == 403


def _authorize(sandbox, verifier: str, scopes=SCOPES, method="S256", state="st4te"):
    challenge = _challenge(verifier) if method == "S256" else verifier
    location = sandbox.authorize("my-client", REDIRECT, "AcmeSupport", scopes, challenge, state=state,
                                 code_challenge_method=method)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and query["state"] == [state]
    return query["code"][0]


def _token(sandbox, **form):
    return sandbox.http.post(sandbox.base_url + "/2/oauth2/token", data=form, timeout=10)


def test_authorize_page_lists_users(sandbox, brand):
    r = sandbox.http.get(sandbox.base_url + "/i/oauth2/authorize", params={
        "response_type": "code", "client_id": "c", "redirect_uri": REDIRECT, "scope": "tweet.read users.read",
        "state": "s", "code_challenge": "abc", "code_challenge_method": "plain"})
    assert r.status_code == 200 and "@AcmeSupport" in r.text and "tweet.read" in r.text


def test_pkce_flow_end_to_end_with_refresh_rotation(sandbox, brand, x):
    verifier = secrets.token_urlsafe(43)
    code = _authorize(sandbox, verifier)
    r = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
               code_verifier=verifier, client_id="my-client")
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 7200
    assert set(tok["scope"].split()) == set(SCOPES) and tok["refresh_token"]
    assert x("GET", "/2/users/me", token=tok["access_token"]).json()["data"]["id"] == brand["id"]
    # The code is single use.
    again = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   code_verifier=verifier, client_id="my-client")
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"
    # Refresh rotates: the new refresh token works, the used one is dead.
    new = _token(sandbox, grant_type="refresh_token", refresh_token=tok["refresh_token"], client_id="my-client")
    assert new.status_code == 200 and new.json()["refresh_token"] != tok["refresh_token"]
    assert _token(sandbox, grant_type="refresh_token", refresh_token=tok["refresh_token"],
                  client_id="my-client").status_code == 400
    # Access tokens expire after 2 h.
    sandbox.advance_clock(7201)
    assert x("GET", "/2/users/me", token=new.json()["access_token"]).status_code == 401
    fresh = _token(sandbox, grant_type="refresh_token", refresh_token=new.json()["refresh_token"],
                   client_id="my-client")
    assert x("GET", "/2/users/me", token=fresh.json()["access_token"]).status_code == 200
    # Revocation through X's endpoint.
    rv = sandbox.http.post(sandbox.base_url + "/2/oauth2/revoke",
                           data={"token": fresh.json()["access_token"], "client_id": "my-client"})
    assert rv.json() == {"revoked": True}
    assert x("GET", "/2/users/me", token=fresh.json()["access_token"]).status_code == 401


def test_bad_verifier_is_refused(sandbox, brand):
    code = _authorize(sandbox, "the-right-verifier-" + "x" * 30)
    r = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
               code_verifier="a-wrong-verifier-" + "y" * 30, client_id="my-client")
    assert r.status_code == 400 and "verifier" in r.json()["error_description"]


def test_plain_challenge_and_code_expiry(sandbox, brand):
    verifier = "plain-verifier-" + "z" * 40
    code = _authorize(sandbox, verifier, method="plain")
    sandbox.advance_clock(31)  # codes live 30 s
    r = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
               code_verifier=verifier, client_id="my-client")
    assert r.status_code == 400
    code = _authorize(sandbox, verifier, method="plain")
    assert _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                  code_verifier=verifier, client_id="my-client").status_code == 200


def test_no_refresh_token_without_offline_access(sandbox, brand):
    verifier = secrets.token_urlsafe(43)
    code = _authorize(sandbox, verifier, scopes=["tweet.read", "users.read"])
    tok = _token(sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                 code_verifier=verifier, client_id="my-client").json()
    assert "refresh_token" not in tok


def test_deny_redirects_with_error(sandbox, brand):
    r = sandbox.http.post(sandbox.base_url + "/i/oauth2/authorize", allow_redirects=False, data={
        "response_type": "code", "client_id": "c", "redirect_uri": REDIRECT, "scope": "tweet.read",
        "state": "s", "code_challenge": "abc", "code_challenge_method": "plain", "decision": "deny",
        "user_id": brand["id"]})
    assert r.status_code == 302 and "error=access_denied" in r.headers["location"]


@pytest.mark.parametrize("missing", ["client_id", "redirect_uri", "code_challenge"])
def test_authorize_requires_params(sandbox, brand, missing):
    params = {"response_type": "code", "client_id": "c", "redirect_uri": REDIRECT, "scope": "tweet.read",
              "state": "s", "code_challenge": "abc"}
    params.pop(missing)
    r = sandbox.http.get(sandbox.base_url + "/i/oauth2/authorize", params=params)
    assert missing in r.text and "<form" not in r.text
