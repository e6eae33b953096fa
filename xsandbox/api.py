"""X API v2 routes served by the sandbox (paths, parameters and bodies as on api.twitter.com)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import paging, problems
from .clock import parse_time
from .endpoints import Ctx, Endpoint, x_route
from .store import StoreError, Tweet, one_to_one_id
from .text import MAX_WEIGHTED_LENGTH, weighted_length

READ_USERS = ("users.read", "tweet.read")
# X's words for a post over 280 weighted characters, in every vocabulary.
TEXT_TOO_LONG = ("Your Tweet text is too long. For more information on how Twitter determines text length see "
                 "https://github.com/twitter/twitter-text.")
TIME_PARAMS = ("start_time", "end_time")
EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")


def ok(body: dict, status: int = 200) -> Response:
    return problems.json_response(body, status)


def page_meta(count: int, next_token: str | None, previous_token: str | None, **ids: str) -> dict:
    """X's `meta` of a list page: tokens only when there is a page that way."""
    meta: dict = {"result_count": count, **ids}
    if next_token:
        meta["next_token"] = next_token
    if previous_token:
        meta["previous_token"] = previous_token
    return meta


def invalid(ctx: Ctx, *errors: dict) -> Response:
    return problems.json_response(problems.invalid_request(ctx.sandbox.problem_type, list(errors)), 400)


def _int_param(ctx: Ctx, name: str, lo: int, hi: int, default: int) -> int | Response:
    raw = ctx.query(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        return invalid(ctx, problems.bad_value(
            name, raw, message=f"The `{name}` query parameter value [{raw}] is not between {lo} and {hi}"))
    return int(raw)


def _id_param(ctx: Ctx, name: str) -> int | None | Response:
    raw = ctx.query(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19:
        return invalid(ctx, problems.bad_value(
            name, raw, message=f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$"))
    return int(raw)


def _token_param(ctx: Ctx) -> tuple[str, int] | None | Response:
    raw = ctx.query("pagination_token")
    if raw is None:
        return None
    decoded = paging.decode(raw)
    if decoded is None:
        return invalid(ctx, problems.bad_value(
            "pagination_token", raw, message=f"The `pagination_token` query parameter value [{raw}] is not valid"))
    return decoded


def _tweets_body(ctx: Ctx, tweets: list[Tweet]) -> dict:
    ser = ctx.serializer
    body: dict = {"data": [ser.tweet(t, ctx.selection) for t in tweets]}
    includes = ser.includes_for_tweets(tweets, ctx.selection)
    if includes:
        body["includes"] = includes
    return body


def _truncate(ctx: Ctx, keys: list[int], next_token: str | None) -> tuple[list[int], str | None]:
    """truncated_page fault: a short page that still points on to the rest."""
    if ctx.fault is not None and ctx.fault.kind == "truncated_page" and keys:
        keys = keys[: max(len(keys) // 2, 1)] if len(keys) > 1 else []
        cursor = keys[-1] if keys else None
        if cursor is not None:
            next_token = paging.encode("n", cursor)
    return keys, next_token


# ---- users ------------------------------------------------------------------------
async def users_me(ctx: Ctx) -> Response:
    return ok({"data": ctx.serializer.user(ctx.user, ctx.selection)})


async def user_by_id(ctx: Ctx) -> Response:
    uid = ctx.request.path_params["id"]
    user = ctx.sandbox.store.users.get(uid)
    if user is None:
        return ok({"errors": [problems.not_found(ctx.sandbox.problem_type, "user", "id", uid)]})
    return ok({"data": ctx.serializer.user(user, ctx.selection)})


async def user_by_username(ctx: Ctx) -> Response:
    name = ctx.request.path_params["username"]
    user = ctx.sandbox.store.user_by_username(name)
    if user is None:
        return ok({"errors": [problems.not_found(ctx.sandbox.problem_type, "user", "username", name)]})
    return ok({"data": ctx.serializer.user(user, ctx.selection)})


# ---- timelines ----------------------------------------------------------------------
async def mentions(ctx: Ctx) -> Response:
    store = ctx.sandbox.store
    uid = ctx.request.path_params["id"]
    if store.users.get(uid) is None:
        return ok({"errors": [problems.not_found(ctx.sandbox.problem_type, "user", "id", uid)]})
    limit = _int_param(ctx, "max_results", 5, 100, 10)
    since_id = _id_param(ctx, "since_id")
    until_id = _id_param(ctx, "until_id")
    token = _token_param(ctx)
    for value in (limit, since_id, until_id, token):
        if isinstance(value, Response):
            return value
    times: dict[str, float] = {}
    for name in TIME_PARAMS:
        raw = ctx.query(name)
        if raw is not None:
            try:
                times[name] = parse_time(raw)
            except ValueError:
                return invalid(ctx, problems.bad_value(
                    name, raw, message=f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 date"))
    start, end = times.get("start_time"), times.get("end_time")

    def accept(key: int) -> bool:
        created = store.tweets[str(key)].created_at
        # start_time is inclusive, end_time exclusive (X's documented semantics).
        return (start is None or created >= start) and (end is None or created < end)

    page = paging.page_newest_first(store.mention_ids_of(uid), limit, token, since_id, until_id,  # type: ignore[arg-type]
                                    accept if times else None)
    keys, next_token = _truncate(ctx, page.keys, page.next_token)
    if not keys:
        return ok({"meta": {"result_count": 0}})
    body = _tweets_body(ctx, [store.tweets[str(k)] for k in keys])
    body["meta"] = page_meta(len(keys), next_token, page.previous_token, newest_id=str(keys[0]), oldest_id=str(keys[-1]))
    return ok(body)


async def liked_tweets(ctx: Ctx) -> Response:
    store = ctx.sandbox.store
    uid = ctx.request.path_params["id"]
    if store.users.get(uid) is None:
        return ok({"errors": [problems.not_found(ctx.sandbox.problem_type, "user", "id", uid)]})
    limit = _int_param(ctx, "max_results", 5, 100, 100)
    token = _token_param(ctx)
    for value in (limit, token):
        if isinstance(value, Response):
            return value
    likes = store.likes_by(uid)  # newest like first
    by_seq = {lk.seq: lk for lk in likes}
    page = paging.page_newest_first(sorted(by_seq), limit, token)  # type: ignore[arg-type]
    keys, next_token = _truncate(ctx, page.keys, page.next_token)
    if not keys:
        return ok({"meta": {"result_count": 0}})
    body = _tweets_body(ctx, [store.tweets[by_seq[k].tweet_id] for k in keys])
    body["meta"] = page_meta(len(keys), next_token, page.previous_token)
    return ok(body)


# ---- posts --------------------------------------------------------------------------
async def tweet_by_id(ctx: Ctx) -> Response:
    tid = ctx.request.path_params["id"]
    if not tid.isdigit():
        return invalid(ctx, problems.bad_value("id", tid, message=f"The `id` query parameter value [{tid}] is not valid"))
    tweet = ctx.sandbox.store.get_tweet(tid)
    if tweet is None:
        return ok({"errors": [problems.not_found(ctx.sandbox.problem_type, "tweet", "id", tid)]})
    body = _tweets_body(ctx, [tweet])
    body["data"] = body["data"][0]
    return ok(body)


async def tweets_by_ids(ctx: Ctx) -> Response:
    raw = ctx.query("ids")
    ids = [x for x in (raw or "").split(",") if x]
    if not ids or len(ids) > 100:
        return invalid(ctx, problems.param_error("ids", [raw or ""], f"size [{len(ids)}] is not between 1 and 100"))
    bad = [x for x in ids if not x.isdigit()]
    if bad:
        return invalid(ctx, *[problems.bad_value("ids", x, message=f"The `ids` query parameter value [{x}] is not valid")
                         for x in bad])
    store = ctx.sandbox.store
    found = [t for t in (store.get_tweet(x) for x in ids) if t is not None]
    errors = [problems.not_found(ctx.sandbox.problem_type, "tweet", "ids", x) for x in ids if store.get_tweet(x) is None]
    body: dict = _tweets_body(ctx, found) if found else {}
    if errors:
        body["errors"] = errors
    return ok(body)


async def _json_body(ctx: Ctx) -> dict | Response:
    try:
        body = json.loads(await ctx.request.body() or b"null")
    except ValueError:
        return invalid(ctx, {"message": "Request body is not valid JSON"})
    if not isinstance(body, dict):
        return invalid(ctx, {"message": "Request body must be a JSON object"})
    return body


async def create_tweet(ctx: Ctx) -> Response:
    body = await _json_body(ctx)
    if isinstance(body, Response):
        return body
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return invalid(ctx, {"message": "$.text: must be a non-empty string when no media is attached"})
    if weighted_length(text) > MAX_WEIGHTED_LENGTH:
        return invalid(ctx, problems.param_error("text", [text], TEXT_TOO_LONG))
    reply = body.get("reply") or {}
    in_reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    store = ctx.sandbox.store
    if store.is_duplicate(ctx.user.id, text):
        return problems.problem_response(problems.DUPLICATE_CONTENT)
    try:
        tweet = store.create_tweet(ctx.user.id, text, in_reply_to=in_reply_to, quote_of=body.get("quote_tweet_id"))
    except StoreError as exc:
        if exc.kind in ("not_found", "deleted"):
            return problems.problem_response(problems.REPLY_TO_DELETED)
        return invalid(ctx, {"message": exc.message})
    ctx.sandbox.dirty = True
    return ok({"data": {"id": tweet.id, "text": tweet.text}}, 201)


async def delete_tweet(ctx: Ctx) -> Response:
    tid = ctx.request.path_params["id"]
    store = ctx.sandbox.store
    tweet = store.get_tweet(tid)
    if tweet is None:
        return ok({"data": {"deleted": False}})
    if tweet.author_id != ctx.user.id:
        return problems.problem_response(problems.blank_problem(
            403, "Forbidden", "You are not allowed to delete this Tweet."))
    store.delete_tweet(tid)
    ctx.sandbox.dirty = True
    return ok({"data": {"deleted": True}})


# ---- direct messages ----------------------------------------------------------------
async def _dm_events(ctx: Ctx, conversation_id: str | None) -> Response:
    store = ctx.sandbox.store
    limit = _int_param(ctx, "max_results", 1, 100, 100)
    token = _token_param(ctx)
    for value in (limit, token):
        if isinstance(value, Response):
            return value
    types = EVENT_TYPES
    raw_types = ctx.query("event_types")
    if raw_types is not None:
        types = tuple(raw_types.split(","))
        bad = [t for t in types if t not in EVENT_TYPES]
        if bad:
            return invalid(ctx, *[problems.bad_value("event_types", t, list(EVENT_TYPES)) for t in bad])
    keys = store.dm_event_ids_for(ctx.user.id, conversation_id)
    accept = None
    if raw_types is not None:
        def accept(key: int) -> bool:
            return store.dm_events[str(key)].event_type in types
    page = paging.page_newest_first(keys, limit, token, accept=accept, always_previous=True)  # type: ignore[arg-type]
    page_keys, next_token = _truncate(ctx, page.keys, page.next_token)
    if not page_keys:
        return ok({"meta": {"result_count": 0}})
    events = [store.dm_events[str(k)] for k in page_keys]
    ser = ctx.serializer
    body: dict = {"data": [ser.dm_event(e, ctx.selection) for e in events]}
    includes = ser.includes_for_dm_events(events, ctx.selection)
    if includes:
        body["includes"] = includes
    body["meta"] = page_meta(len(page_keys), next_token, page.previous_token)
    return ok(body)


async def dm_events(ctx: Ctx) -> Response:
    return await _dm_events(ctx, None)


async def dm_conversation_events(ctx: Ctx) -> Response:
    return await _dm_events(ctx, ctx.request.path_params["id"])


async def dm_with_events(ctx: Ctx) -> Response:
    other = ctx.request.path_params["participant_id"]
    return await _dm_events(ctx, one_to_one_id(ctx.user.id, other))


async def _send_dm(ctx: Ctx, recipient: str | None, conversation: str | None) -> Response:
    body = await _json_body(ctx)
    if isinstance(body, Response):
        return body
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return invalid(ctx, {"message": "$.text: must be a non-empty string when no attachments are given"})
    store = ctx.sandbox.store
    if recipient is not None and recipient not in store.users:
        return invalid(ctx, problems.bad_value(
            "participant_id", recipient, message=f"The `participant_id` value [{recipient}] is not a known user"))
    try:
        event = store.send_dm(ctx.user.id, text, recipient_id=recipient, conversation_id=conversation)
    except StoreError as exc:
        if exc.kind in ("forbidden", "not_found"):
            return problems.problem_response(problems.blank_problem(
                403, "Forbidden", "You are not permitted to send messages to this conversation."))
        return invalid(ctx, {"message": exc.message})
    ctx.sandbox.dirty = True
    return ok({"data": {"dm_conversation_id": event.dm_conversation_id, "dm_event_id": event.id}}, 201)


async def dm_send_with(ctx: Ctx) -> Response:
    return await _send_dm(ctx, ctx.request.path_params["participant_id"], None)


async def dm_send_conversation(ctx: Ctx) -> Response:
    return await _send_dm(ctx, None, ctx.request.path_params["dm_conversation_id"])


TWEET_READ = ("tweet.read", "users.read")
DM_READ = ("dm.read", "tweet.read", "users.read")
TIMELINE = ("since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time")

ENDPOINTS: list[tuple[str, str, Endpoint, object]] = [
    ("/2/users/me", "GET", Endpoint("GET /2/users/me", READ_USERS, objects="user", media_params=False), users_me),
    ("/2/users/by/username/{username}", "GET", Endpoint("GET /2/users/by/username/:username", READ_USERS,
                                                          ("username",), objects="user"), user_by_username),
    ("/2/users/{id}/mentions", "GET", Endpoint("GET /2/users/:id/mentions", TWEET_READ, ("id",), TIMELINE,
                                                objects="tweet"), mentions),
    ("/2/users/{id}/liked_tweets", "GET", Endpoint("GET /2/users/:id/liked_tweets", ("tweet.read", "like.read",
                                                    "users.read"), ("id",), ("max_results", "pagination_token"),
                                                    objects="tweet"), liked_tweets),
    ("/2/users/{id}", "GET", Endpoint("GET /2/users/:id", READ_USERS, ("id",), objects="user"), user_by_id),
    ("/2/tweets/{id}", "GET", Endpoint("GET /2/tweets/:id", TWEET_READ, ("id",), objects="tweet"), tweet_by_id),
    ("/2/tweets/{id}", "DELETE", Endpoint("DELETE /2/tweets/:id", ("tweet.read", "tweet.write", "users.read"),
                                          ("id",)), delete_tweet),
    ("/2/tweets", "GET", Endpoint("GET /2/tweets", TWEET_READ, (), ("ids",), objects="tweet"), tweets_by_ids),
    ("/2/tweets", "POST", Endpoint("POST /2/tweets", ("tweet.read", "tweet.write", "users.read")), create_tweet),
    ("/2/dm_events", "GET", Endpoint("GET /2/dm_events", DM_READ, (), ("max_results", "pagination_token",
                                     "event_types"), objects="dm"), dm_events),
    ("/2/dm_conversations/with/{participant_id}/dm_events", "GET",
     Endpoint("GET /2/dm_conversations/with/:participant_id/dm_events", DM_READ, ("participant_id",),
              ("max_results", "pagination_token", "event_types"), objects="dm"), dm_with_events),
    ("/2/dm_conversations/with/{participant_id}/messages", "POST",
     Endpoint("POST /2/dm_conversations/with/:participant_id/messages", ("dm.write", "tweet.read", "users.read"),
              ("participant_id",)), dm_send_with),
    ("/2/dm_conversations/{id}/dm_events", "GET",
     Endpoint("GET /2/dm_conversations/:id/dm_events", DM_READ, ("id",),
              ("max_results", "pagination_token", "event_types"), objects="dm"), dm_conversation_events),
    ("/2/dm_conversations/{dm_conversation_id}/messages", "POST",
     Endpoint("POST /2/dm_conversations/:dm_conversation_id/messages", ("dm.write", "tweet.read", "users.read"),
              ("dm_conversation_id",)), dm_send_conversation),
]

ENDPOINT_KEYS = [ep.key for _, _, ep, _ in ENDPOINTS]


def routes() -> list[Route]:
    out = []
    for path, method, ep, handler in ENDPOINTS:
        out.append(Route(path, x_route(ep, handler), methods=[method]))  # type: ignore[arg-type]
    return out


async def not_found_route(request: Request) -> Response:
    return problems.problem_response(problems.blank_problem(404, "Not Found Error", "Sorry, that page does not exist"))
