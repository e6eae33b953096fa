"""Run a real X sandbox inside a test and drive it — the stable API other teams build on.

Quick start::

    from xsandbox.testing import running_sandbox

    with running_sandbox(vocabulary="tweet", rate_limits="x") as sb:
        brand = sb.create_user("AcmeSupport", brand=True)
        alice = sb.create_user("alice")
        token = sb.mint_token(brand["id"], scopes=None)["access_token"]   # None = every scope
        sb.post_tweet(alice["id"], "@AcmeSupport my order is late")
        r = requests.get(sb.base_url + f"/2/users/{brand['id']}/mentions",
                         headers={"Authorization": f"Bearer {token}"})

Public API (kept stable):

``running_sandbox(*, vocabulary=None, rate_limits="x", access_token_ttl=7200.0,
scenario=None, state_file=None, host="127.0.0.1", port=0, problem_host="") -> ContextManager[SandboxClient]``
    Starts uvicorn + the sandbox in a background thread on a free port (``port=0``) and
    stops it on exit. ``scenario`` is a dict or a path to a scenario JSON file. ``vocabulary``:
    "tweet" / "post" speak spec 2.159 / 2.167 strictly (the other's parameters get X's 400),
    "both" accepts either and answers each request in its words, as live X does (``python -m
    xsandbox`` and ``make run`` default to it). ``vocabulary=None``: the environment variable
    ``XSANDBOX_VOCABULARY``, else "tweet", so a whole test run can be repeated in another mode
    (``make test-vocabularies``). ``problem_host`` puts every problem type under
    that host (default: as the mode's spec says; see ``shapes.Mode.problem_type``).

``SandboxClient(base_url)`` — a thin ``requests`` client of the control API (``/sandbox/api``).
Users are referred to by id or username everywhere. Every method returns the decoded JSON
and raises ``SandboxError`` (with ``.status`` and ``.body``) on a non-2xx answer.

    attribute ``base_url``                          e.g. ``"http://127.0.0.1:53117"`` — point X_API_BASE_URL here
    ``create_user(username, name=None, id=None, brand=False, **profile) -> dict``
    ``post_tweet(author, text, in_reply_to_tweet_id=None, quote_of=None, retweet_of=None, created_at=None,
    media=None) -> dict``  ``media``: e.g. ``["photo"]`` or ``[{"type": "video", "alt_text": "…"}]``, images
    served by the sandbox at ``/sandbox/media/<media key>.png``
    ``get_tweet(tweet_id) -> dict`` / ``delete_tweet(tweet_id) -> dict``
    ``send_dm(sender, text, recipient=None, conversation_id=None, media=None) -> dict``   (dm event incl. ``dm_conversation_id``)
    ``create_group(creator, participants, text=None) -> dict``                 (``{"dm_conversation_id", ...}``)
    ``leave_group(user, conversation_id) -> dict``
    ``like(user, tweet_id) -> dict`` / ``unlike(user, tweet_id) -> dict``
    ``mint_token(user, scopes=None, expires_in=None, refresh=False, access_token=None) -> dict``
        (``{"access_token", "refresh_token", "expires_at", "scopes", "user_id", ...}``; ``expires_in=None``
        never expires; ``scopes=None`` grants every scope)
    ``revoke_token(token) -> dict``
    ``timeline(user=None) -> dict``  everything the user (default: brand) posted, replies with parents, DMs
    ``thread(tweet_id) -> dict``     the conversation tree
    ``conversations(user=None) -> dict``
    ``set_clock(now=None, advance_seconds=None, frozen=None) -> dict`` / ``advance_clock(seconds) -> dict``
    ``add_fault(endpoint, kind, count=1, delay_seconds=None) -> dict`` / ``clear_faults(endpoint=None)``
    ``set_rate_limit(endpoint, limit) -> dict`` / ``set_rate_limit_profile(profile) -> dict``
    ``reset_rate_limit_windows() -> dict``
    ``configure(vocabulary=None, rate_limits=None, access_token_ttl=None, brand=None, problem_host=None) -> dict``
    ``load_scenario(scenario: dict | str | Path, reset=False, play=False) -> dict``
    ``reset() -> dict``  empty state, real clock, no faults, startup settings
    ``billing(day=None) -> dict`` / ``clear_billing()``  what X would bill (``billing.py``)
    ``state() -> dict``
    ``authorize(client_id, redirect_uri, user, scopes, code_challenge, state="s",
    code_challenge_method="S256") -> str``  approves the consent page as ``user``; returns the redirect URL
    ``auth_headers(token) -> dict``   ``{"Authorization": "Bearer ..."}``
    ``tweepy_client(token, **kwargs) -> tweepy.Client``  a real tweepy client whose requests go to the sandbox

Activity API (real time): ``activity_state()``, ``activity_events()``, ``configure_activity(consumer_secret=,
app_bearer_token=, keepalive_seconds=, delivery_timeout=, refused_event_types=, deliveries_per_webhook=,
batch_max_events=, batch_window_ms=)``, ``add_activity_fault(kind, count=1, delay_seconds=None)``
(drop | duplicate | out_of_order | bad_signature | stream_disconnect), ``clear_activity_faults()``,
``disconnect_streams()``; see ``xsandbox/activity.py``.

Endpoint names for faults and rate limits are X's route templates, e.g.
``"GET /2/users/:id/mentions"``, ``"POST /2/tweets"`` (``xsandbox.api.ENDPOINT_KEYS``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .app import create_app
from .sandbox import Sandbox, SandboxConfig

VOCABULARY_ENV = "XSANDBOX_VOCABULARY"

__all__ = ["SandboxClient", "SandboxError", "running_sandbox", "SandboxAdapter"]


class SandboxError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sandbox answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxClient:
    def __init__(self, base_url: str, sandbox: Sandbox | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.sandbox = sandbox  # the in-process object when started by running_sandbox (read-only use!)
        self.http = requests.Session()

    # ---- plumbing ------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict | None = None, params: dict | None = None) -> Any:
        r = self.http.request(method, f"{self.base_url}/sandbox/api{path}", json=body, params=params, timeout=30)
        try:
            data = r.json()
        except ValueError:
            data = r.text
        if not r.ok:
            raise SandboxError(r.status_code, data)
        return data

    @staticmethod
    def _clean(**kwargs: Any) -> dict:
        return {k: v for k, v in kwargs.items() if v is not None}

    # ---- acting as X users -----------------------------------------------------------
    def create_user(self, username: str, name: str | None = None, id: str | None = None, brand: bool = False,
                    **profile: Any) -> dict:
        return self._call("POST", "/users", self._clean(username=username, name=name, id=id,
                                                        brand=brand or None, **profile))

    def update_user(self, user: str, **fields: Any) -> dict:
        return self._call("PATCH", f"/users/{user}", fields)

    def post_tweet(self, author: str, text: str, in_reply_to_tweet_id: str | None = None,
                   quote_of: str | None = None, retweet_of: str | None = None,
                   created_at: str | float | None = None, media: list | None = None) -> dict:
        return self._call("POST", "/tweets", self._clean(
            author=author, text=text, in_reply_to_tweet_id=in_reply_to_tweet_id, quote_of=quote_of,
            retweet_of=retweet_of, created_at=created_at, media=media))

    def get_tweet(self, tweet_id: str) -> dict:
        return self._call("GET", f"/tweets/{tweet_id}")

    def delete_tweet(self, tweet_id: str) -> dict:
        return self._call("DELETE", f"/tweets/{tweet_id}")

    def send_dm(self, sender: str, text: str, recipient: str | None = None,
                conversation_id: str | None = None, media: list | None = None) -> dict:
        return self._call("POST", "/dms", self._clean(sender=sender, text=text, recipient=recipient,
                                                      conversation_id=conversation_id, media=media))

    def create_group(self, creator: str, participants: list[str], text: str | None = None) -> dict:
        return self._call("POST", "/groups", self._clean(creator=creator, participant_ids=participants, text=text))

    def leave_group(self, user: str, conversation_id: str) -> dict:
        return self._call("POST", f"/groups/{conversation_id}/leave", {"user": user})

    def like(self, user: str, tweet_id: str) -> dict:
        return self._call("POST", "/likes", {"user": user, "tweet_id": tweet_id})

    def unlike(self, user: str, tweet_id: str) -> dict:
        return self._call("DELETE", "/likes", {"user": user, "tweet_id": tweet_id})

    # ---- tokens ----------------------------------------------------------------------
    def mint_token(self, user: str, scopes: list[str] | None = None, expires_in: float | None = None,
                   refresh: bool = False, access_token: str | None = None) -> dict:
        return self._call("POST", "/tokens", self._clean(user=user, scopes=scopes, expires_in=expires_in,
                                                         refresh=refresh or None, access_token=access_token))

    def revoke_token(self, token: str) -> dict:
        return self._call("POST", "/tokens/revoke", {"token": token})

    def authorize(self, client_id: str, redirect_uri: str, user: str, scopes: list[str], code_challenge: str,
                  state: str = "s", code_challenge_method: str = "S256") -> str:
        """Do what a person does on the consent page; returns the redirect URL (with code & state)."""
        users = self._call("GET", "/users")["users"]
        uid = next(u["id"] for u in users if user in (u["id"], u["username"]))
        r = self.http.post(f"{self.base_url}/i/oauth2/authorize", allow_redirects=False, timeout=30, data={
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes),
            "state": state, "code_challenge": code_challenge, "code_challenge_method": code_challenge_method,
            "user_id": uid, "decision": "approve"})
        if r.status_code != 302:
            raise SandboxError(r.status_code, r.text)
        return r.headers["location"]

    # ---- views -----------------------------------------------------------------------
    def timeline(self, user: str | None = None) -> dict:
        return self._call("GET", "/timeline", params=self._clean(user_id=user))

    def thread(self, tweet_id: str) -> dict:
        return self._call("GET", f"/thread/{tweet_id}")

    def conversations(self, user: str | None = None) -> dict:
        return self._call("GET", "/conversations", params=self._clean(user_id=user))

    def state(self) -> dict:
        return self._call("GET", "/state")

    # ---- steering --------------------------------------------------------------------
    def set_clock(self, now: str | float | None = None, advance_seconds: float | None = None,
                  frozen: bool | None = None) -> dict:
        return self._call("POST", "/clock", self._clean(now=now, advance_seconds=advance_seconds, frozen=frozen))

    def advance_clock(self, seconds: float) -> dict:
        return self.set_clock(advance_seconds=seconds)

    def add_fault(self, endpoint: str, kind: str, count: int = 1, delay_seconds: float | None = None) -> dict:
        return self._call("POST", "/faults", self._clean(endpoint=endpoint, kind=kind, count=count,
                                                         delay_seconds=delay_seconds))

    def clear_faults(self, endpoint: str | None = None) -> dict:
        return self._call("DELETE", "/faults", params=self._clean(endpoint=endpoint))

    def set_rate_limit(self, endpoint: str, limit: int) -> dict:
        return self._call("POST", "/rate-limits", {"endpoint": endpoint, "limit": limit})

    def set_rate_limit_profile(self, profile: str) -> dict:
        return self._call("POST", "/rate-limits", {"profile": profile})

    def reset_rate_limit_windows(self) -> dict:
        return self._call("POST", "/rate-limits", {"reset_windows": True})

    def configure(self, vocabulary: str | None = None, rate_limits: str | None = None,
                  access_token_ttl: float | None = None, brand: str | None = None,
                  problem_host: str | None = None) -> dict:
        """problem_host: "" goes back to the mode's spec."""
        return self._call("POST", "/config", self._clean(vocabulary=vocabulary, rate_limits=rate_limits,
                                                         access_token_ttl=access_token_ttl, brand=brand,
                                                         problem_host=problem_host))

    def load_scenario(self, scenario: dict | str | Path, reset: bool = False, play: bool = False) -> dict:
        data = scenario if isinstance(scenario, dict) else json.loads(Path(scenario).read_text("utf-8"))
        return self._call("POST", "/scenario", {**data, "reset": reset, "play_now": play})

    def reset(self) -> dict:
        return self._call("POST", "/reset")

    def billing(self, day: str | None = None) -> dict:
        """What X would bill the app for one UTC day (default today): ``{"day", "total_usd",
        "by_user": {user_id: {"kinds": {kind: {"items", "usd"}}, "total_usd"}}}``."""
        return self._call("GET", "/billing", params={"day": day} if day else None)

    def clear_billing(self) -> dict:
        return self._call("DELETE", "/billing")

    # ---- the Activity API (real time; see xsandbox/activity.py) -----------------------
    def activity_state(self) -> dict:
        """Webhooks, subscriptions, event count, every delivery made, open streams, faults."""
        return self.http.get(f"{self.base_url}/sandbox/api/activity", timeout=30).json()

    def activity_events(self) -> list[dict]:
        return self.http.get(f"{self.base_url}/sandbox/api/activity/events", timeout=30).json()["events"]

    def configure_activity(self, consumer_secret: str | None = None, app_bearer_token: str | None = None,
                           keepalive_seconds: float | None = None, delivery_timeout: float | None = None,
                           refused_event_types: list[str] | None = None, deliveries_per_webhook: int | None = None,
                           batch_max_events: int | None = None, batch_window_ms: float | None = None) -> dict:
        """refused_event_types: subscription event types answered with X's 400 (e.g.
        ``["post.reply.create"]``, absent from X's spec enum though documented); [] accepts all again.
        deliveries_per_webhook, batch_max_events, batch_window_ms: how events that come fast are
        batched into one POST (see ``xsandbox/activity.py``)."""
        return self._call_activity("POST", "/config", self._clean(
            consumer_secret=consumer_secret, app_bearer_token=app_bearer_token,
            keepalive_seconds=keepalive_seconds, delivery_timeout=delivery_timeout,
            refused_event_types=refused_event_types, deliveries_per_webhook=deliveries_per_webhook,
            batch_max_events=batch_max_events, batch_window_ms=batch_window_ms))

    def add_activity_fault(self, kind: str, count: int = 1, delay_seconds: float | None = None) -> dict:
        """kind: drop | duplicate | out_of_order | bad_signature | stream_disconnect."""
        return self._call_activity("POST", "/faults", self._clean(kind=kind, count=count, delay_seconds=delay_seconds))

    def clear_activity_faults(self) -> dict:
        return self._call_activity("DELETE", "/faults")

    def disconnect_streams(self) -> dict:
        return self._call_activity("POST", "/streams/disconnect")

    def _call_activity(self, method: str, path: str, body: dict | None = None) -> Any:
        return self._call(method, "/activity" + path, body)

    # ---- talking X -------------------------------------------------------------------
    @staticmethod
    def auth_headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def tweepy_client(self, token: str, **kwargs: Any):
        """A tweepy.Client (OAuth 2.0 user token as bearer) whose requests reach this sandbox.

        Call user-context methods with ``user_auth=False``.
        """
        import tweepy

        client = tweepy.Client(bearer_token=token, **kwargs)
        mount_sandbox(client.session, self.base_url)
        return client


class SandboxAdapter(HTTPAdapter):
    """Sends requests addressed to api.twitter.com / api.x.com to the sandbox instead."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = urlsplit(base_url)

    def send(self, request, **kwargs):  # type: ignore[override]
        parts = urlsplit(request.url)
        request.url = parts._replace(scheme=self.target.scheme, netloc=self.target.netloc).geturl()
        return super().send(request, **kwargs)


def mount_sandbox(session: requests.Session, base_url: str) -> None:
    adapter = SandboxAdapter(base_url)
    for origin in ("https://api.twitter.com", "https://api.x.com"):
        session.mount(origin, adapter)


def _free_socket(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that say they are TCP,
    # and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@contextlib.contextmanager
def running_sandbox(*, vocabulary: str | None = None, rate_limits: str = "x", access_token_ttl: float = 7200.0,
                    scenario: dict | str | Path | None = None, state_file: str | None = None,
                    host: str = "127.0.0.1", port: int = 0, problem_host: str = "") -> Iterator[SandboxClient]:
    """A real HTTP sandbox on ``host`` (free port by default) for the duration of the block."""
    import uvicorn

    if vocabulary is None:
        vocabulary = os.environ.get(VOCABULARY_ENV) or "tweet"

    config = SandboxConfig(vocabulary=vocabulary, rate_limits=rate_limits, access_token_ttl=access_token_ttl,
                           state_file=state_file, problem_host=problem_host)
    sandbox = Sandbox(config)
    app = create_app(sandbox)
    sock = _free_socket(host, port)
    actual_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    # uvicorn installs signal handlers only in the main thread; in a thread it skips them.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="xsandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("xsandbox server did not start")
        time.sleep(0.005)
    client = SandboxClient(f"http://{host}:{actual_port}", sandbox)
    try:
        if scenario is not None:
            client.load_scenario(scenario)
        yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        client.http.close()
