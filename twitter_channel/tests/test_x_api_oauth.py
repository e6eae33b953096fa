"""Connecting an account: OAuth 2.0 authorization code with PKCE, refresh and revoke,
against the sandbox over real HTTP, plus the client-authentication details with a fake."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from twitter_channel.x.api import XClient
from twitter_channel.x.oauth import authorization_url, code_challenge, exchange_code, refresh, revoke
from twitter_channel.x.types import XAuthError, XTransientError
from xsandbox.testing import running_sandbox

REDIRECT = "http://helpdesk.test/x/callback"
SCOPES = ["tweet.read", "tweet.write", "users.read", "dm.read", "dm.write", "like.read", "offline.access"]


@pytest.fixture(scope="module")
def sandbox_server():
    with running_sandbox() as sb:
        yield sb


@pytest.fixture
def sb(sandbox_server, settings):
    sandbox_server.reset()
    settings.X_API_BASE_URL = sandbox_server.base_url
    settings.X_OAUTH_AUTHORIZE_URL = sandbox_server.base_url + "/i/oauth2/authorize"
    settings.X_CLIENT_ID = "helpdesk-test"
    settings.X_CLIENT_SECRET = ""
    return sandbox_server


def _approve(sb, url: str, user_id: str) -> tuple[str, str]:
    """What the admin does on X's consent page; returns (code, state) from the callback."""
    asked = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    callback = sb.authorize(asked["client_id"], asked["redirect_uri"], user_id, asked["scope"].split(),
                            asked["code_challenge"], state=asked["state"])
    answered = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    return answered["code"], answered["state"]


def test_authorization_url_carries_pkce_state_and_scopes(settings):
    settings.X_OAUTH_AUTHORIZE_URL = ""
    settings.X_CLIENT_ID = "app-1"

    url, state, verifier = authorization_url(redirect_uri=REDIRECT, scopes=SCOPES)

    parts = urlsplit(url)
    asked = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://x.com/i/oauth2/authorize"
    assert asked == {"response_type": "code", "client_id": "app-1", "redirect_uri": REDIRECT,
                     "scope": " ".join(SCOPES), "state": state, "code_challenge": code_challenge(verifier),
                     "code_challenge_method": "S256"}
    assert 43 <= len(verifier) <= 128
    assert authorization_url(redirect_uri=REDIRECT, scopes=SCOPES)[1:] != (state, verifier)


def test_code_challenge_is_rfc7636_s256():
    # RFC 7636 appendix B.
    assert code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_code_exchange_gives_tokens_that_work(sb):
    brand = sb.create_user("AcmeSupport", brand=True)
    url, state, verifier = authorization_url(redirect_uri=REDIRECT, scopes=SCOPES)
    assert url.startswith(sb.base_url + "/i/oauth2/authorize?")
    code, returned_state = _approve(sb, url, brand["id"])
    assert returned_state == state

    tokens = exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT)

    assert tokens.refresh_token  # offline.access was asked for
    assert set(tokens.scope) == set(SCOPES)
    assert timedelta(hours=1, minutes=59) < tokens.expires_at - datetime.now(UTC) <= timedelta(hours=2)
    assert XClient(tokens.access_token).get_me().id == brand["id"]


def test_code_exchange_with_the_wrong_verifier_is_refused(sb):
    brand = sb.create_user("AcmeSupport", brand=True)
    url, _state, _verifier = authorization_url(redirect_uri=REDIRECT, scopes=SCOPES)
    code, _ = _approve(sb, url, brand["id"])

    with pytest.raises(XAuthError, match="code verifier"):
        exchange_code(code=code, code_verifier="x" * 64, redirect_uri=REDIRECT)


def test_refresh_rotates_the_refresh_token_and_the_old_one_dies(sb):
    brand = sb.create_user("AcmeSupport", brand=True)
    url, _state, verifier = authorization_url(redirect_uri=REDIRECT, scopes=SCOPES)
    code, _ = _approve(sb, url, brand["id"])
    first = exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT)

    second = refresh(first.refresh_token)

    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    assert XClient(second.access_token).get_me().id == brand["id"]
    with pytest.raises(XAuthError):
        refresh(first.refresh_token)


def test_revoked_access_token_stops_working(sb):
    brand = sb.create_user("AcmeSupport", brand=True)
    url, _state, verifier = authorization_url(redirect_uri=REDIRECT, scopes=SCOPES)
    code, _ = _approve(sb, url, brand["id"])
    tokens = exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT)

    revoke(tokens.access_token)

    with pytest.raises(XAuthError):
        XClient(tokens.access_token).get_me()


# --- client authentication, with a fake token endpoint ---------------------------------------


@pytest.fixture
def fake_x(settings):
    settings.X_API_BASE_URL = "http://oauth.test"
    settings.X_CLIENT_ID = "app-1"
    with responses.RequestsMock() as mock:
        yield mock


def test_confidential_client_uses_basic_auth_and_keeps_the_secret_out_of_the_form(fake_x, settings):
    settings.X_CLIENT_SECRET = "s3cret"
    fake_x.post("http://oauth.test/2/oauth2/token", json={
        "token_type": "bearer", "expires_in": 7200, "access_token": "a", "refresh_token": "r",
        "scope": "tweet.read offline.access"})

    refresh("old-refresh")

    sent = fake_x.calls[0].request
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"app-1:s3cret").decode()
    form = parse_qs(sent.body)
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["old-refresh"]}


def test_public_client_sends_its_id_in_the_form(fake_x, settings):
    settings.X_CLIENT_SECRET = ""
    fake_x.post("http://oauth.test/2/oauth2/token", json={
        "token_type": "bearer", "expires_in": 7200, "access_token": "a", "scope": "tweet.read"})

    tokens = refresh("old-refresh")

    assert "Authorization" not in fake_x.calls[0].request.headers
    assert parse_qs(fake_x.calls[0].request.body)["client_id"] == ["app-1"]
    assert tokens.refresh_token is None and tokens.scope == ("tweet.read",)


def test_token_endpoint_outage_is_transient_not_a_reconnect(fake_x, settings):
    settings.X_CLIENT_SECRET = ""
    fake_x.post("http://oauth.test/2/oauth2/token", status=503, json={"title": "Service Unavailable"})

    with pytest.raises(XTransientError):
        refresh("r")


def test_token_endpoint_answer_without_access_token_is_transient(fake_x, settings):
    settings.X_CLIENT_SECRET = ""
    fake_x.post("http://oauth.test/2/oauth2/token", json={"token_type": "bearer"})

    with pytest.raises(XTransientError):
        refresh("r")
