"""OAuth 2.0 Authorization Code with PKCE, as X runs it.

``/i/oauth2/authorize`` is an HTML consent page where the tester picks which sandbox
user is "logged in"; ``/2/oauth2/token`` and ``/2/oauth2/revoke`` speak X's form-encoded
protocol. Any client_id is accepted: the sandbox has no app registry.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import problems
from .sandbox import Sandbox
from .store import AuthCode

AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method")


class Form:
    """application/x-www-form-urlencoded body (parsed here to avoid needing python-multipart)."""

    def __init__(self, raw: bytes) -> None:
        self.values = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, [default])[0]

    def getlist(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def __contains__(self, name: str) -> bool:
        return name in self.values


async def read_form(request: Request) -> Form:
    return Form(await request.body())


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def oauth_error(description: str, error: str = "invalid_request", status: int = 400) -> Response:
    return problems.json_response({"error": error, "error_description": description}, status)


def _authorize_problem(params: dict[str, str]) -> str | None:
    for name in ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge"):
        if not params.get(name):
            return f"Missing required parameter: {name}"
    if params["response_type"] != "code":
        return "response_type must be 'code'"
    if params.get("code_challenge_method", "plain") not in ("S256", "plain"):
        return "code_challenge_method must be S256 or plain"
    return None


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto}"
        "label{display:block;margin:.3rem 0}button{margin:.5rem .5rem 0 0;padding:.4rem 1rem}</style>"
        f"</head><body>{body}</body></html>")


async def authorize_page(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    params = {k: request.query_params.get(k, "") for k in AUTHORIZE_PARAMS}
    problem = _authorize_problem(params)
    if problem:
        return _page("Authorization error", f"<h1>Something went wrong</h1><p>{html.escape(problem)}</p>")
    users = sorted(sb.store.users.values(), key=lambda u: u.username.lower())
    if not users:
        return _page("No users", "<h1>No sandbox users yet</h1><p>Create one at <a href='/sandbox/'>/sandbox/</a>.</p>")
    options = "".join(
        f"<option value='{u.id}'{' selected' if u.id == sb.store.brand_user_id else ''}>@{html.escape(u.username)} "
        f"({html.escape(u.name)})</option>" for u in users)
    scopes = "".join(
        f"<label><input type='checkbox' name='scope_item' value='{html.escape(s)}' checked> {html.escape(s)}</label>"
        for s in params["scope"].split())
    hidden = "".join(f"<input type='hidden' name='{k}' value='{html.escape(v)}'>" for k, v in params.items())
    body = (
        f"<h1>Authorize app</h1><p><b>{html.escape(params['client_id'])}</b> wants to access your X account "
        f"(sandbox).<br>It will redirect to <code>{html.escape(params['redirect_uri'])}</code>.</p>"
        f"<form method='post' action='/i/oauth2/authorize'>{hidden}"
        f"<label>Sign in as <select name='user_id'>{options}</select></label>"
        f"<fieldset><legend>Scopes</legend>{scopes}</fieldset>"
        "<button name='decision' value='approve'>Authorize app</button>"
        "<button name='decision' value='deny'>Cancel</button></form>")
    return _page("Authorize app", body)


async def authorize_decision(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    form = await read_form(request)
    params = {k: str(form.get(k, "")) for k in AUTHORIZE_PARAMS}
    problem = _authorize_problem(params)
    if problem:
        return _page("Authorization error", f"<p>{html.escape(problem)}</p>")
    redirect = params["redirect_uri"]
    sep = "&" if "?" in redirect else "?"
    if form.get("decision") != "approve":
        return RedirectResponse(redirect + sep + urlencode({"error": "access_denied", "state": params["state"]}), 302)
    user = sb.store.users.get(str(form.get("user_id", "")))
    if user is None:
        return _page("Authorization error", "<p>Unknown user</p>")
    chosen = [str(s) for s in form.getlist("scope_item")] if "scope_item" in form else params["scope"].split()
    code = secrets.token_urlsafe(32)
    sb.store.codes[code] = AuthCode(
        code=code, client_id=params["client_id"], redirect_uri=redirect, user_id=user.id, scopes=chosen,
        code_challenge=params["code_challenge"], code_challenge_method=params["code_challenge_method"] or "plain",
        expires_at=sb.clock.now() + sb.config.code_ttl)
    return RedirectResponse(redirect + sep + urlencode({"state": params["state"], "code": code}), 302)


def _client_id(request: Request, form: Form) -> str:
    """Public clients send client_id in the form, confidential ones in Basic auth."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            return base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except ValueError:
            return ""
    return str(form.get("client_id", ""))


def _token_body(sb: Sandbox, token) -> dict:
    body = {"token_type": "bearer", "expires_in": int(sb.access_token_ttl), "access_token": token.access_token,
            "scope": " ".join(token.scopes)}
    if token.refresh_token:
        body["refresh_token"] = token.refresh_token
    return body


async def token_endpoint(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    form = await read_form(request)
    grant = form.get("grant_type")
    client_id = _client_id(request, form)
    if grant == "authorization_code":
        code = sb.store.codes.get(str(form.get("code", "")))
        if code is None or code.used or sb.clock.now() >= code.expires_at or code.client_id != client_id:
            return oauth_error("Value passed for the authorization code was invalid.")
        if form.get("redirect_uri") != code.redirect_uri:
            return oauth_error("Value passed for the redirect uri did not match the uri of the authorization code.")
        verifier = str(form.get("code_verifier", ""))
        expected = s256(verifier) if code.code_challenge_method == "S256" else verifier
        if not verifier or not secrets.compare_digest(expected, code.code_challenge):
            return oauth_error("Value passed for the code verifier did not match the code challenge.")
        code.used = True  # codes are single use
        token = sb.store.mint_token(code.user_id, code.scopes, sb.access_token_ttl, client_id,
                                    with_refresh="offline.access" in code.scopes)
        sb.dirty = True
        return problems.json_response(_token_body(sb, token))
    if grant == "refresh_token":
        value = str(form.get("refresh_token", ""))
        access = sb.store.refresh_tokens.get(value)
        old = sb.store.tokens.get(access) if access else None
        if old is None or (client_id and old.client_id != client_id):
            return oauth_error("Value passed for the token was invalid.")
        # Rotation: the used refresh token dies, a new pair is issued.
        sb.store.refresh_tokens.pop(value, None)
        old.refresh_token = None
        token = sb.store.mint_token(old.user_id, old.scopes, sb.access_token_ttl, old.client_id, with_refresh=True)
        sb.dirty = True
        return problems.json_response(_token_body(sb, token))
    return oauth_error("Missing or unsupported grant_type.", "unsupported_grant_type")


async def revoke_endpoint(request: Request) -> Response:
    sb: Sandbox = request.app.state.sandbox
    form = await read_form(request)
    value = str(form.get("token", ""))
    if not value:
        return oauth_error("Missing required parameter [token].")
    sb.store.revoke(value)
    sb.dirty = True
    return problems.json_response({"revoked": True})


def routes() -> list[Route]:
    return [
        Route("/i/oauth2/authorize", authorize_page, methods=["GET"]),
        Route("/i/oauth2/authorize", authorize_decision, methods=["POST"]),
        Route("/2/oauth2/token", token_endpoint, methods=["POST"]),
        Route("/2/oauth2/revoke", revoke_endpoint, methods=["POST"]),
    ]
