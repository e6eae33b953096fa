"""OAuth 2.0 authorization code flow with PKCE against X (or the sandbox).

Plain requests rather than tweepy's OAuth2UserHandler: the handler keeps the PKCE verifier
on itself, but in Django the callback is another request, so the caller stores `state` and
the verifier in the session; and the token URL must follow `settings.X_API_BASE_URL`.
A confidential client (X_CLIENT_SECRET set) authenticates token calls with HTTP Basic; a
public client sends its client_id in the form.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings

from twitter_channel.x.parsing import decode_json, error_from_response, problem_text
from twitter_channel.x.types import OAuthTokens, XAuthError, XError, XTransientError

DEFAULT_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TIMEOUT = 10.0


def authorize_endpoint() -> str:
    return settings.X_OAUTH_AUTHORIZE_URL or DEFAULT_AUTHORIZE_URL


def authorize_origin() -> str:
    parts = urlsplit(authorize_endpoint())
    return f"{parts.scheme}://{parts.netloc}"


def token_endpoint() -> str:
    return settings.X_API_BASE_URL.rstrip("/") + "/2/oauth2/token"


def revoke_endpoint() -> str:
    return settings.X_API_BASE_URL.rstrip("/") + "/2/oauth2/revoke"


def code_challenge(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(*, redirect_uri: str, scopes: list[str]) -> tuple[str, str, str]:
    """(url to send the admin to, state, code_verifier). The caller keeps state and
    verifier in the session and checks `state` on the callback."""
    state = secrets.token_urlsafe(32)
    # RFC 7636: 43-128 characters of [A-Za-z0-9-._~]; token_urlsafe(96) gives 128.
    code_verifier = secrets.token_urlsafe(96)[:128]
    query = urlencode({
        "response_type": "code",
        "client_id": settings.X_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
    })
    return f"{authorize_endpoint()}?{query}", state, code_verifier


def exchange_code(*, code: str, code_verifier: str, redirect_uri: str) -> OAuthTokens:
    return _token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                           "code_verifier": code_verifier})


def refresh(refresh_token: str) -> OAuthTokens:
    """New tokens for a refresh token. X rotates refresh tokens: keep the one returned.
    XAuthError when X refuses the refresh token (the account must be reconnected)."""
    return _token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})


def revoke(token: str) -> None:
    _post(revoke_endpoint(), {"token": token})


def _token_request(form: dict[str, str]) -> OAuthTokens:
    body = _post(token_endpoint(), form)
    try:
        return parse_tokens(body)
    except (KeyError, TypeError, ValueError) as e:
        raise XTransientError(f"X's token endpoint answered an unexpected shape ({type(e).__name__})") from e


def parse_tokens(body: dict[str, Any], *, now: datetime | None = None) -> OAuthTokens:
    access_token = body["access_token"]
    if not isinstance(access_token, str) or not access_token:
        raise ValueError("no access_token")
    refresh_token = body.get("refresh_token")
    expires_in = int(body.get("expires_in", 7200))
    scope = body.get("scope") or ""
    return OAuthTokens(
        access_token=access_token,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_at=(now or datetime.now(UTC)) + timedelta(seconds=expires_in),
        scope=tuple(scope.split()) if isinstance(scope, str) else tuple(scope),
    )


def _post(url: str, form: dict[str, str]) -> dict[str, Any]:
    auth = None
    if settings.X_CLIENT_SECRET:
        auth = (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
    else:
        form = {**form, "client_id": settings.X_CLIENT_ID}
    try:
        response = requests.post(url, data=form, auth=auth, timeout=TIMEOUT)
    except requests.Timeout as e:
        raise XTransientError("X's OAuth endpoint did not answer in time") from e
    except requests.RequestException as e:
        raise XTransientError(f"could not reach X's OAuth endpoint ({type(e).__name__})") from e
    if response.status_code >= 400:
        raise _oauth_error(response)
    try:
        body = decode_json(response.content)
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


def _oauth_error(response: requests.Response) -> XError:
    # OAuth errors are {"error": "invalid_request", "error_description": "..."} with a 400
    # (RFC 6749 §5.2): a refused code, verifier or refresh token means "connect again",
    # not "fix the request".
    try:
        body = decode_json(response.content)
    except ValueError:
        body = None
    if response.status_code in (400, 401) and isinstance(body, dict) and "error" in body:
        return XAuthError(problem_text(body), status=response.status_code)
    return error_from_response(response)
