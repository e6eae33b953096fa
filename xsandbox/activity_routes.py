"""HTTP side of the sandbox's Activity API: X's routes (`/2/webhooks*`, `/2/activity/*`) and
their control API (`/sandbox/api/activity/*`). State and delivery live in `activity.py`.

Authentication as in X's spec: webhooks, replay, the stream and subscription deletion take
the app's bearer token (`Activity.app_bearer_token`); creating and listing subscriptions also
accept a user's OAuth 2.0 token holding the scope of the event type (dm.read for dm.*,
like.read for like.*, tweet.read otherwise). Every route has X's rate-limit window and headers
(`ratelimits.ACTIVITY_LIMITS`), counted per app for the app's token and per user for a user's.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import problems
from .activity import (
    CLOSE,
    EVENT_TYPES,
    FAULT_KINDS,
    MAX_STREAMS,
    REPLAY_WINDOW_SECONDS,
    Activity,
    ActivityFault,
    Subscription,
    Webhook,
    parse_yyyymmddhhmm,
    stream_line,
)
from .endpoints import bearer
from .ratelimits import APP_KEY
from .store import Token

NOT_FOUND = problems.blank_problem(404, "Not Found Error", "Sorry, that page does not exist")


def _activity(request: Request) -> Activity:
    return request.app.state.sandbox.activity


Auth = tuple[str, Token | None]  # ("app", None) or ("user", token)
Handler = Callable[[Request, Auth], Awaitable[Response]]


def x_activity_route(key: str, handler: Handler, *,
                     user_allowed: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """The pipeline of every Activity API route, in X's order (as `endpoints.x_route`): bearer
    token (401), rate-limit window of `key` (429, headers from here on: per app for the app's
    token, per user for a user's), app-only (403), then the handler with who is calling."""

    async def endpoint(request: Request) -> Response:
        act = _activity(request)
        raw = bearer(request)
        token = None
        if not (raw and raw == act.app_bearer_token):
            token = act.sb.store.valid_token(raw) if raw else None
            if token is None:
                return problems.problem_response(problems.UNAUTHORIZED)
        verdict = act.sb.limiter.hit(key, APP_KEY if token is None else token.user_id)
        headers = verdict.headers()
        if not verdict.allowed:
            return problems.problem_response(problems.TOO_MANY_REQUESTS, headers)
        if token is not None and not user_allowed:
            return problems.problem_response(problems.unsupported_authentication(
                act.sb.problem_type, "OAuth 2.0 User Context", "OAuth 2.0 Application-Only"), headers)
        auth: Auth = ("app", None) if token is None else ("user", token)
        response = await handler(request, auth)
        response.headers.update(headers)
        return response

    return endpoint


def _invalid(request: Request, message: str) -> Response:
    return _invalid_errors(request, [{"message": message}])


def _invalid_errors(request: Request, errors: list[dict]) -> Response:
    return problems.json_response(problems.invalid_request(_activity(request).sb.problem_type, errors), 400)


async def _body(request: Request) -> dict | Response:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return _invalid(request, "Request body is not valid JSON")
    if not isinstance(body, dict):
        return _invalid(request, "Request body must be a JSON object")
    return body


def _ok(body: dict, status: int = 200) -> Response:
    return problems.json_response(body, status)


# ---- webhooks -------------------------------------------------------------------------------
async def list_webhooks(request: Request, auth: Auth) -> Response:
    hooks = [w.view() for w in _activity(request).webhooks.values()]
    return _ok({"data": hooks, "meta": {"result_count": len(hooks)}} if hooks else {"meta": {"result_count": 0}})


async def create_webhook(request: Request, auth: Auth) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    url = body.get("url")
    if not isinstance(url, str) or not 1 <= len(url) <= 200:
        return _invalid(request, "$.url: must be a string of 1 to 200 characters")
    act = _activity(request)
    if any(w.url == url for w in act.webhooks.values()):
        return _invalid(request, f"A webhook with the url {url} already exists (DuplicateUrlFailed)")
    # The CRC request goes out while X's answer waits, as on X; off the event loop.
    if not await asyncio.to_thread(act.crc_check, url):
        return _invalid(request, f"The webhook at {url} did not answer the CRC check correctly (CrcValidationFailed)")
    hook = Webhook(act.new_id(), url, act.sb.clock.now(), valid=True)
    act.webhooks[hook.id] = hook
    return _ok({"data": hook.view()})


async def validate_webhook(request: Request, auth: Auth) -> Response:
    act = _activity(request)
    hook = act.webhooks.get(request.path_params["webhook_id"])
    if hook is None:
        return problems.problem_response(NOT_FOUND)
    hook.valid = await asyncio.to_thread(act.crc_check, hook.url)
    return _ok({"data": {"valid": hook.valid}})


async def delete_webhook(request: Request, auth: Auth) -> Response:
    act = _activity(request)
    hook = act.webhooks.pop(request.path_params["webhook_id"], None)
    if hook is None:
        return problems.problem_response(NOT_FOUND)
    for sub in [s for s in act.subscriptions.values() if s.webhook_id == hook.id]:
        del act.subscriptions[sub.id]
    return _ok({"data": {"deleted": True}})


async def replay(request: Request, auth: Auth) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    act = _activity(request)
    start, end = parse_yyyymmddhhmm(body.get("from_date")), parse_yyyymmddhhmm(body.get("to_date"))
    if start is None or end is None:
        return _invalid(request, "from_date and to_date must be UTC timestamps in yyyymmddhhmm format")
    if body.get("webhook_id") not in act.webhooks:
        return _invalid(request, f"Unknown webhook_id {body.get('webhook_id')}")
    now = act.sb.clock.now()
    if start > end or start < now - REPLAY_WINDOW_SECONDS - 60:
        return _invalid(request, "Replay covers at most the past 24 hours, from_date before to_date")
    job = act.replay(body["webhook_id"], start, end + 59.999)  # to_date is inclusive of its minute
    return _ok({"data": {"job_id": job["job_id"], "created_at": job["created_at"]}})


# ---- subscriptions -------------------------------------------------------------------------
SCOPE_FOR = {"dm": "dm.read", "chat": "dm.read", "like": "like.read", "mute": "mute.read", "block": "block.read"}


async def create_subscription(request: Request, auth: Auth) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    unknown = set(body) - {"event_type", "filter", "tag", "webhook_id"}
    if unknown:
        return _invalid(request, f"$: unknown properties {sorted(unknown)}")
    event_type, event_filter = body.get("event_type"), body.get("filter")
    act = _activity(request)
    accepted = [t for t in EVENT_TYPES if t not in act.refused_event_types]
    if event_type not in accepted:
        return _invalid_errors(request, [problems.bad_value("event_type", str(event_type), accepted)])
    if not isinstance(event_filter, dict) or set(event_filter) - {"user_id", "direction", "keyword"}:
        return _invalid(request, "$.filter: must be an object with user_id, direction or keyword")
    user_id = event_filter.get("user_id")
    direction = event_filter.get("direction") or ""
    if not isinstance(user_id, str) or user_id not in act.sb.store.users:
        return _invalid(request, f"$.filter.user_id: unknown user {user_id!r}")
    if direction not in ("", "inbound", "outbound"):
        return _invalid(request, "$.filter.direction: must be inbound or outbound")
    webhook_id = body.get("webhook_id") or ""
    if webhook_id and webhook_id not in act.webhooks:
        return _invalid(request, f"$.webhook_id: unknown webhook {webhook_id}")
    kind, token = auth
    if kind == "user":
        needed = SCOPE_FOR.get(event_type.split(".")[0], "tweet.read")
        if needed not in token.scopes:
            return problems.problem_response(problems.FORBIDDEN)
        if event_type.startswith(("dm.", "chat.", "mute.", "block.")) and user_id != token.user_id:
            return problems.problem_response(problems.blank_problem(
                403, "Forbidden", "filter.user_id must identify the authenticated user for this event type"))
    now = act.sb.clock.now()
    sub = Subscription(act.new_id(), event_type, user_id, direction, webhook_id, str(body.get("tag") or ""), now, now)
    act.subscriptions[sub.id] = sub
    return _ok({"data": {"subscription": sub.view()}})


async def list_subscriptions(request: Request, auth: Auth) -> Response:
    kind, token = auth
    subs = [s for s in _activity(request).subscriptions.values() if kind == "app" or s.user_id == token.user_id]
    return _ok({"data": [s.view() for s in subs]})


async def delete_subscription(request: Request, auth: Auth) -> Response:
    sub = _activity(request).subscriptions.pop(request.path_params["subscription_id"], None)
    if sub is None:
        return problems.problem_response(NOT_FOUND)
    return _ok({"data": {"deleted": True}})


async def delete_subscriptions(request: Request, auth: Auth) -> Response:
    act = _activity(request)
    ids = [i for i in (request.query_params.get("ids") or "").split(",") if i]
    if not 1 <= len(ids) <= 100:
        return _invalid(request, "ids: between 1 and 100 subscription ids")
    data, errors = [], []
    for sid in ids:
        if act.subscriptions.pop(sid, None) is None:
            errors.append({"subscription_id": sid, "reason": "not_found", "message": "No such subscription"})
        else:
            data.append({"subscription_id": sid, "deleted": True})
    body: dict = {"data": data, "meta": {"total_subscriptions": len(act.subscriptions)}}
    if errors:
        body["errors"] = errors
    return _ok(body)


async def update_subscription(request: Request, auth: Auth) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    act = _activity(request)
    sub = act.subscriptions.get(request.path_params["subscription_id"])
    if sub is None:
        return problems.problem_response(NOT_FOUND)
    if "webhook_id" in body:
        if body["webhook_id"] and body["webhook_id"] not in act.webhooks:
            return _invalid(request, f"$.webhook_id: unknown webhook {body['webhook_id']}")
        sub.webhook_id = body["webhook_id"] or ""
    if "tag" in body:
        sub.tag = str(body["tag"] or "")
    sub.updated_at = act.sb.clock.now()
    return _ok({"data": {"subscription": sub.view(), "total_subscriptions": len(act.subscriptions)}})


# ---- the stream ------------------------------------------------------------------------------
async def stream(request: Request, auth: Auth) -> Response:
    act = _activity(request)
    raw = request.query_params.get("backfill_minutes", "0")
    if not raw.isdigit() or not 0 <= int(raw) <= 5:
        return _invalid_errors(request, [problems.bad_value(
            "backfill_minutes", raw, message=f"The `backfill_minutes` query parameter value [{raw}] is not between 0 and 5")])
    if len(act.streams) >= MAX_STREAMS:
        return problems.json_response(problems.too_many_connections(act.sb.problem_type), 429,
                                     media_type=problems.PROBLEM_TYPE)
    queue: asyncio.Queue = asyncio.Queue()
    # Registered before the backlog is read: nothing emitted in between is lost or sent twice.
    act.streams.add(queue)
    backlog = act.backlog(int(raw))

    async def lines():
        try:
            for line in backlog:
                yield stream_line(line)
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), act.keepalive_seconds)
                except TimeoutError:
                    yield b"\r\n"  # keep-alive, as X sends on an idle stream
                    continue
                if item is CLOSE:
                    return
                yield stream_line(item)
        finally:
            act.streams.discard(queue)

    return StreamingResponse(lines(), media_type="application/json")


# ---- control API -----------------------------------------------------------------------------
async def control_state(request: Request) -> Response:
    return JSONResponse(_activity(request).describe())


async def control_events(request: Request) -> Response:
    act = _activity(request)
    return JSONResponse({"events": [{"event_id": e.event_id, "event_type": e.event_type, "user_id": e.user_id,
                                     "webhook_id": e.webhook_id, "body": e.body} for e in act.events]})


async def control_config(request: Request) -> Response:
    act = _activity(request)
    if request.method == "POST":
        data = json.loads(await request.body() or b"{}")
        for name in ("consumer_secret", "app_bearer_token"):
            if isinstance(data.get(name), str) and data[name]:
                setattr(act, name, data[name])
        for name in ("keepalive_seconds", "delivery_timeout"):
            if name in data:
                setattr(act, name, float(data[name]))
        if isinstance(data.get("refused_event_types"), list):
            act.refused_event_types = {str(t) for t in data["refused_event_types"]}
        batching = ("deliveries_per_webhook", "batch_max_events", "batch_window_ms")
        if any(name in data for name in batching):
            try:
                act.configure_batching(**{name: getattr(act, name) for name in batching}
                                       | {name: float(data[name]) for name in batching if name in data})
            except (TypeError, ValueError):
                return JSONResponse({"error": f"{', '.join(batching)} are numbers"}, 400)
    return JSONResponse(act.describe()["config"])


async def control_faults(request: Request) -> Response:
    act = _activity(request)
    if request.method == "POST":
        data = json.loads(await request.body() or b"{}")
        if data.get("kind") not in FAULT_KINDS:
            return JSONResponse({"error": f"kind must be one of {list(FAULT_KINDS)}"}, 400)
        count = int(data.get("count", 1))
        act.faults.append(ActivityFault(data["kind"], count if count > 0 else None, data.get("delay_seconds")))
    elif request.method == "DELETE":
        act.faults.clear()
    return JSONResponse({"faults": act.describe()["faults"]})


async def control_disconnect_streams(request: Request) -> Response:
    act = _activity(request)
    closed = len(act.streams)
    act.close_streams()
    return JSONResponse({"closed": closed})


# X's routes: (method, path, handler, whether a user's OAuth 2.0 token is accepted besides the app's).
X_ROUTES: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/2/webhooks", list_webhooks, False),
    ("POST", "/2/webhooks", create_webhook, False),
    ("POST", "/2/webhooks/replay", replay, False),
    ("PUT", "/2/webhooks/{webhook_id}", validate_webhook, True),
    ("DELETE", "/2/webhooks/{webhook_id}", delete_webhook, True),
    ("POST", "/2/activity/subscriptions", create_subscription, True),
    ("GET", "/2/activity/subscriptions", list_subscriptions, True),
    ("DELETE", "/2/activity/subscriptions", delete_subscriptions, False),
    ("DELETE", "/2/activity/subscriptions/{subscription_id}", delete_subscription, False),
    ("PUT", "/2/activity/subscriptions/{subscription_id}", update_subscription, False),
    ("GET", "/2/activity/stream", stream, False),
]


def endpoint_key(method: str, path: str) -> str:
    """X's route template, as rate limits name it: "PUT /2/webhooks/:webhook_id"."""
    return f"{method} " + re.sub(r"\{(\w+)\}", r":\1", path)


def routes() -> list[Route]:
    return [
        *(Route(path, x_activity_route(endpoint_key(method, path), handler, user_allowed=user_allowed),
                methods=[method])
          for method, path, handler, user_allowed in X_ROUTES),
        Route("/sandbox/api/activity", control_state, methods=["GET"]),
        Route("/sandbox/api/activity/events", control_events, methods=["GET"]),
        Route("/sandbox/api/activity/config", control_config, methods=["GET", "POST"]),
        Route("/sandbox/api/activity/faults", control_faults, methods=["GET", "POST", "DELETE"]),
        Route("/sandbox/api/activity/streams/disconnect", control_disconnect_streams, methods=["POST"]),
    ]
