"""JSON control API under /sandbox/api/: act as X users and steer the sandbox from tests.

Answers are plain JSON (not X's wire format); failures are ``{"error": "..."}``
with 400 (bad input), 404 (unknown thing) or 409 (already exists).
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media_images
from .clock import format_time, parse_time
from .faults import KINDS
from .sandbox import ALL_SCOPES, Sandbox
from .scenarios import Scenario, read_scenario
from .shapes import USER_FIELDS, Selection, Serializer, Vocabulary
from .store import DmEvent, StoreError, Tweet

STATUS = {"not_found": 404, "conflict": 409, "invalid": 400, "forbidden": 403, "deleted": 410, "duplicate": 409}


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def body_of(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def handler(fn):
    """Turn StoreError/ValueError/KeyError into JSON errors and mark state dirty."""

    async def wrapped(request: Request) -> Response:
        sb: Sandbox = request.app.state.sandbox
        try:
            response = await fn(request, sb)
        except StoreError as exc:
            return error(exc.message, STATUS.get(exc.kind, 400))
        except KeyError as exc:
            return error(f"missing field: {exc.args[0]}")
        except (ValueError, TypeError) as exc:
            return error(str(exc))
        if request.method != "GET":
            sb.dirty = True
        return response

    return wrapped


def full_selection(sb: Sandbox) -> Selection:
    return _full_selection(sb.mode.vocabularies)


@functools.cache  # nothing changes a Selection once built; every post and DM the control API makes is shown in it
def _full_selection(vocabs: tuple[Vocabulary, ...]) -> Selection:
    return Selection(tweet_fields=frozenset(f for v in vocabs for f in v.tweet_fields) - {"public_metrics"},
                     user_fields=frozenset(USER_FIELDS), dm_fields=frozenset(f for v in vocabs for f in v.dm_fields) | {
                         "sender_id", "participant_ids"})


def tweet_view(sb: Sandbox, t: Tweet) -> dict:
    view = Serializer(sb.store, sb.mode.vocabularies).tweet(t, full_selection(sb))
    view["author_id"] = t.author_id
    view["author_username"] = sb.store.users[t.author_id].username
    view["deleted"] = t.deleted
    view["media"] = [asdict(sb.store.media[k]) for k in t.media_keys]
    return view


def dm_view(sb: Sandbox, e: DmEvent) -> dict:
    view = Serializer(sb.store, sb.mode.vocabularies).dm_event(e, full_selection(sb))
    view["dm_conversation_id"] = e.dm_conversation_id
    view["media"] = [asdict(sb.store.media[k]) for k in e.media_keys]
    if e.sender_id:
        view["sender_username"] = sb.store.users[e.sender_id].username
    return view


def user_view(sb: Sandbox, user) -> dict:
    view = Serializer(sb.store, sb.mode.vocabularies).user(user, Selection(user_fields=frozenset(
        {"created_at", "description", "location", "url", "protected", "verified", "profile_image_url"})))
    view["tokens"] = [t.access_token for t in sb.store.tokens.values()
                      if t.user_id == user.id and sb.store.valid_token(t.access_token)]
    view["is_brand"] = user.id == sb.store.brand_user_id
    return view


# ---- users & content -----------------------------------------------------------------
@handler
async def list_users(request: Request, sb: Sandbox) -> Response:
    return JSONResponse({"users": [user_view(sb, u) for u in sb.store.users.values()]})


@handler
async def create_user(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    user = sb.store.create_user(**{k: v for k, v in data.items() if k != "brand"})
    if data.get("brand"):
        sb.store.brand_user_id = user.id
    return JSONResponse(user_view(sb, user), 201)


@handler
async def update_user(request: Request, sb: Sandbox) -> Response:
    """Change a user's profile as they would on X (name, username, picture, protected...):
    profile.update.* events go out; compliance jobs see the account protected."""
    data = await body_of(request)
    user, _ = sb.store.update_profile(request.path_params["id"], **data)
    sb.dirty = True
    return JSONResponse(user_view(sb, user))


def attached_media(request: Request, sb: Sandbox, data: dict) -> list[str]:
    """Media a post or a DM carries: `"media": ["photo", {"type": "video", "alt_text": …}]`,
    each served by the sandbox (media_images). Returns their media keys."""
    keys = []
    for entry in data.get("media") or ():
        spec = {"type": entry} if isinstance(entry, str) else dict(entry)
        media = sb.store.add_media(spec.get("type", "photo"), media_images.image_url(request),
                                   width=int(spec.get("width", 1200)), height=int(spec.get("height", 800)),
                                   alt_text=spec.get("alt_text", ""))
        keys.append(media.media_key)
    return keys


@handler
async def create_tweet(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    author = sb.store.resolve_user(data.get("author_id") or data.get("username") or data.get("author"))
    created = parse_time(data["created_at"]) if data.get("created_at") else None
    tweet = sb.store.create_tweet(author.id, data.get("text", ""),
                                  in_reply_to=data.get("in_reply_to_tweet_id") or data.get("in_reply_to"),
                                  quote_of=data.get("quote_of"), retweet_of=data.get("retweet_of"),
                                  created_at=created, id=data.get("id"),
                                  media_keys=attached_media(request, sb, data))
    return JSONResponse(tweet_view(sb, tweet), 201)


@handler
async def get_tweet(request: Request, sb: Sandbox) -> Response:
    tweet = sb.store.tweets.get(request.path_params["id"])
    if tweet is None:
        return error("unknown tweet", 404)
    return JSONResponse(tweet_view(sb, tweet))


@handler
async def delete_tweet(request: Request, sb: Sandbox) -> Response:
    tweet = sb.store.delete_tweet(request.path_params["id"])
    return JSONResponse({"deleted": True, "id": tweet.id})


@handler
async def send_dm(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    sender = sb.store.resolve_user(data.get("sender_id") or data.get("sender"))
    recipient = data.get("recipient_id") or data.get("recipient")
    event = sb.store.send_dm(sender.id, data["text"],
                             recipient_id=sb.store.resolve_user(recipient).id if recipient else None,
                             conversation_id=data.get("conversation_id"),
                             media_keys=attached_media(request, sb, data))
    return JSONResponse(dm_view(sb, event), 201)


@handler
async def create_group(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    conv = sb.store.create_group(data.get("creator_id") or data["creator"], data.get("participant_ids", []),
                                 text=data.get("text"))
    return JSONResponse({"dm_conversation_id": conv.id, "participant_ids": conv.participant_ids}, 201)


@handler
async def leave_group(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    user = sb.store.resolve_user(data.get("user_id") or data.get("user"))
    event = sb.store.leave_group(user.id, request.path_params["id"])
    return JSONResponse(dm_view(sb, event), 201)


@handler
async def like(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    user = sb.store.resolve_user(data.get("user_id") or data.get("user") or sb.store.brand_user_id)
    if request.method == "DELETE":
        sb.store.unlike(user.id, data["tweet_id"])
        return JSONResponse({"liked": False, "user_id": user.id, "tweet_id": data["tweet_id"]})
    sb.store.like(user.id, data["tweet_id"])
    return JSONResponse({"liked": True, "user_id": user.id, "tweet_id": data["tweet_id"]}, 201)


# ---- tokens --------------------------------------------------------------------------
@handler
async def mint_token(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    user = sb.store.resolve_user(data.get("user_id") or data.get("user") or data.get("username"))
    scopes = data.get("scopes") or list(ALL_SCOPES)
    if isinstance(scopes, str):
        scopes = scopes.split()
    ttl = data.get("expires_in", None)
    token = sb.store.mint_token(user.id, scopes, None if ttl is None else float(ttl),
                                with_refresh=bool(data.get("refresh", "offline.access" in scopes and ttl is not None)),
                                access_token=data.get("access_token"))
    return JSONResponse(token_view(token), 201)


def token_view(token) -> dict:
    view = asdict(token)
    view["expires_at"] = None if token.expires_at is None else format_time(token.expires_at)
    view["created_at"] = format_time(token.created_at)
    return view


@handler
async def list_tokens(request: Request, sb: Sandbox) -> Response:
    return JSONResponse({"tokens": [{**token_view(t), "valid": sb.store.valid_token(t.access_token) is not None}
                                    for t in sb.store.tokens.values()]})


@handler
async def revoke_token(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    return JSONResponse({"revoked": sb.store.revoke(data["token"])})


# ---- views ---------------------------------------------------------------------------
@handler
async def timeline(request: Request, sb: Sandbox) -> Response:
    """Everything a user (default: the brand) posted — replies with their parents, and DMs."""
    ref = request.query_params.get("user_id") or request.query_params.get("username") or sb.store.brand_user_id
    user = sb.store.resolve_user(ref)
    items: list[dict] = []
    for t in sb.store.tweets.values():
        if t.author_id == user.id:
            view = {"kind": "tweet", **tweet_view(sb, t)}
            parent_ref = next((r["id"] for r in t.referenced if r["type"] == "replied_to"), None)
            if parent_ref and parent_ref in sb.store.tweets:
                view["in_reply_to"] = tweet_view(sb, sb.store.tweets[parent_ref])
            items.append(view)
    for e in sb.store.dm_events.values():
        if e.sender_id == user.id and e.event_type == "MessageCreate":
            items.append({"kind": "dm", **dm_view(sb, e)})
    items.sort(key=lambda v: int(v["id"]), reverse=True)
    return JSONResponse({"user_id": user.id, "username": user.username, "items": items})


@handler
async def thread(request: Request, sb: Sandbox) -> Response:
    """A whole conversation as a tree (each tweet with its 'replies'), as X threads it."""
    tweet = sb.store.tweets.get(request.path_params["id"])
    if tweet is None:
        return error("unknown tweet", 404)
    tweets = sb.store.thread(tweet.conversation_id)
    views = {t.id: {**tweet_view(sb, t), "replies": []} for t in tweets}
    roots = []
    for t in tweets:
        parent = next((r["id"] for r in t.referenced if r["type"] == "replied_to"), None)
        (views[parent]["replies"] if parent in views else roots).append(views[t.id])
    return JSONResponse({"conversation_id": tweet.conversation_id, "thread": roots})


@handler
async def list_tweets(request: Request, sb: Sandbox) -> Response:
    return JSONResponse({"tweets": [tweet_view(sb, t) for t in sorted(
        sb.store.tweets.values(), key=lambda t: int(t.id), reverse=True)]})


@handler
async def conversations(request: Request, sb: Sandbox) -> Response:
    ref = request.query_params.get("user_id") or sb.store.brand_user_id
    convs = sb.store.conversations_of(sb.store.resolve_user(ref).id) if ref else sb.store.conversations.values()
    return JSONResponse({"conversations": [
        {"dm_conversation_id": c.id, "participant_ids": c.participant_ids, "group": c.group,
         "events": [dm_view(sb, sb.store.dm_events[str(k)]) for k in sb.store.dm_index.get(c.id, [])]}
        for c in convs]})


# ---- sandbox settings -----------------------------------------------------------------
@handler
async def reset(request: Request, sb: Sandbox) -> Response:
    sb.reset()
    return JSONResponse({"reset": True, **sb.describe_config()})


@handler
async def billing(request: Request, sb: Sandbox) -> Response:
    """What X would bill the app for the calls answered: one UTC day (`?day=`, default today)."""
    if request.method == "DELETE":
        sb.billing.clear()
    return JSONResponse(sb.billing.describe(request.query_params.get("day")))


@handler
async def config(request: Request, sb: Sandbox) -> Response:
    if request.method == "POST":
        data = await body_of(request)
        if "vocabulary" in data:
            sb.set_vocabulary(data["vocabulary"])
        if "problem_host" in data:
            sb.set_problem_host(data["problem_host"] or "")
        if "rate_limits" in data:
            sb.limiter.set_profile(data["rate_limits"])
        if "access_token_ttl" in data:
            sb.access_token_ttl = float(data["access_token_ttl"])
        if "brand" in data:
            sb.store.brand_user_id = sb.store.resolve_user(data["brand"]).id if data["brand"] else None
    return JSONResponse(sb.describe_config())


@handler
async def clock(request: Request, sb: Sandbox) -> Response:
    if request.method == "POST":
        data = await body_of(request)
        if data.get("reset"):
            sb.clock.reset()
        if "now" in data:
            sb.clock.set(parse_time(data["now"]), frozen=data.get("frozen"))
        elif "frozen" in data:
            sb.clock.freeze(bool(data["frozen"]))
        if "advance_seconds" in data:
            sb.clock.advance(float(data["advance_seconds"]))
    return JSONResponse(sb.clock.describe())


@handler
async def faults(request: Request, sb: Sandbox) -> Response:
    if request.method == "POST":
        data = await body_of(request)
        from .api import ENDPOINT_KEYS
        endpoint = data["endpoint"]
        if endpoint != "*" and endpoint not in ENDPOINT_KEYS:
            return error(f"unknown endpoint {endpoint!r}; one of {ENDPOINT_KEYS} or '*'")
        fault = sb.faults.add(endpoint, data["kind"], data.get("count", 1), data.get("delay_seconds"))
        return JSONResponse({**asdict(fault), "kinds": list(KINDS)}, 201)
    if request.method == "DELETE":
        sb.faults.clear(request.query_params.get("endpoint"))
    return JSONResponse({"faults": sb.faults.describe(), "kinds": list(KINDS)})


@handler
async def rate_limits(request: Request, sb: Sandbox) -> Response:
    if request.method == "POST":
        data = await body_of(request)
        if "profile" in data:
            sb.limiter.set_profile(data["profile"])
        if "endpoint" in data:
            sb.limiter.set_limit(data["endpoint"], int(data["limit"]))
        for endpoint, limit in (data.get("limits") or {}).items():
            sb.limiter.set_limit(endpoint, int(limit))
        if data.get("reset_windows"):
            sb.limiter.reset_windows()
    return JSONResponse(sb.limiter.describe())


@handler
async def scenario(request: Request, sb: Sandbox) -> Response:
    data = await body_of(request)
    if "path" in data:
        data = {**read_scenario(data["path"]), **{k: v for k, v in data.items() if k != "path"}}
    if data.pop("reset", False):
        sb.reset()
    runner = Scenario(sb, image_url=media_images.image_url(request))
    result = runner.load(data)
    if data.get("play_now") and data.get("play"):
        task = asyncio.get_running_loop().create_task(runner.play(data["play"]))
        request.app.state.background.add(task)
        task.add_done_callback(request.app.state.background.discard)
    return JSONResponse(result, 201)


@handler
async def state(request: Request, sb: Sandbox) -> Response:
    if request.method == "POST":
        data = await body_of(request)
        sb.store.load(data.get("store", data))
    return JSONResponse({"store": sb.store.dump(), "clock": sb.clock.describe(), "config": sb.describe_config(),
                         "faults": sb.faults.describe()})


def routes() -> list[Route]:
    p = "/sandbox/api"
    return [
        Route(f"{p}/users", list_users, methods=["GET"]),
        Route(f"{p}/users", create_user, methods=["POST"]),
        Route(f"{p}/users/{{id}}", update_user, methods=["PATCH"]),
        Route(f"{p}/tweets", list_tweets, methods=["GET"]),
        Route(f"{p}/tweets", create_tweet, methods=["POST"]),
        Route(f"{p}/tweets/{{id}}", get_tweet, methods=["GET"]),
        Route(f"{p}/tweets/{{id}}", delete_tweet, methods=["DELETE"]),
        Route(f"{p}/dms", send_dm, methods=["POST"]),
        Route(f"{p}/groups", create_group, methods=["POST"]),
        Route(f"{p}/groups/{{id}}/leave", leave_group, methods=["POST"]),
        Route(f"{p}/likes", like, methods=["POST", "DELETE"]),
        Route(f"{p}/tokens", list_tokens, methods=["GET"]),
        Route(f"{p}/tokens", mint_token, methods=["POST"]),
        Route(f"{p}/tokens/revoke", revoke_token, methods=["POST"]),
        Route(f"{p}/timeline", timeline, methods=["GET"]),
        Route(f"{p}/thread/{{id}}", thread, methods=["GET"]),
        Route(f"{p}/conversations", conversations, methods=["GET"]),
        Route(f"{p}/reset", reset, methods=["POST"]),
        Route(f"{p}/billing", billing, methods=["GET", "DELETE"]),
        Route(f"{p}/config", config, methods=["GET", "POST"]),
        Route(f"{p}/clock", clock, methods=["GET", "POST"]),
        Route(f"{p}/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{p}/rate-limits", rate_limits, methods=["GET", "POST"]),
        Route(f"{p}/scenario", scenario, methods=["POST"]),
        Route(f"{p}/state", state, methods=["GET", "POST"]),
        Route("/sandbox/media/{name}", media_images.serve, methods=["GET"]),
    ]
