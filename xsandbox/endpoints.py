"""The request pipeline every X API route goes through.

Order mirrors X: bearer token (401) → rate-limit window (429, headers from here on)
→ scopes (403) → query parameters (400) → injected faults → handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from . import problems
from .faults import Fault
from .ratelimits import Verdict
from .sandbox import Sandbox
from .shapes import MEDIA_FIELDS, USER_FIELDS, Selection, Serializer
from .store import Token, User


@dataclass(frozen=True)
class Endpoint:
    key: str  # "GET /2/users/:id/mentions": names rate-limit buckets and faults
    scopes: tuple[str, ...]
    path_params: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # plain query parameters
    objects: str | None = None  # "tweet" | "user" | "dm": which field/expansion params apply
    media_params: bool = True  # media.fields accepted (includes.media), poll/place.fields accepted and ignored


@dataclass
class Ctx:
    request: Request
    sandbox: Sandbox
    endpoint: Endpoint
    token: Token
    user: User
    selection: Selection = field(default_factory=Selection)
    fault: Fault | None = None

    @property
    def serializer(self) -> Serializer:
        return Serializer(self.sandbox.store, self.sandbox.mode.vocabularies, self.user.id)

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)


Handler = Callable[[Ctx], Awaitable[Response]]


def _allowed_params(ep: Endpoint, sb: Sandbox) -> list[str]:
    names = list(ep.path_params) + list(ep.params)
    fields_params = [v.fields_param for v in sb.mode.vocabularies]
    if ep.objects == "tweet":
        names += ["expansions", *fields_params, "user.fields"]
        if ep.media_params:
            names += ["media.fields", "poll.fields", "place.fields"]
    elif ep.objects == "user":
        names += ["expansions", *fields_params, "user.fields"]
    elif ep.objects == "dm":
        names += ["dm_event.fields", "expansions", "user.fields", *fields_params, "media.fields"]
    return names


def _union(*lists: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for names in lists for name in names))


def _parse_list(query, name: str, allowed: tuple[str, ...], errors: list[dict]) -> frozenset[str]:
    raw = query.get(name)
    if raw is None:
        return frozenset()
    values = [x for x in raw.split(",")]
    for value in values:
        if value not in allowed:
            errors.append(problems.bad_value(name, value, list(allowed)))
    return frozenset(values)


def parse_selection(request: Request, ep: Endpoint, sb: Sandbox) -> tuple[Selection, list[dict]]:
    """Check query parameter names and field values the way X does (400 lists every problem)."""
    allowed = _allowed_params(ep, sb)
    errors: list[dict] = []
    q = request.query_params
    for name in q.keys():
        if name not in allowed:
            errors.append(problems.unknown_param(name, q.get(name, ""), allowed))
    vocabs = sb.mode.vocabularies
    sel = Selection()
    if ep.objects:
        # Each vocabulary's fields parameter is checked against its own spec's enum; in the
        # "both" mode an expansion or DM field of either spec is accepted (as live X does).
        expansions = _union(*({"tweet": v.tweet_expansions, "user": v.user_expansions,
                                "dm": v.dm_expansions}[ep.objects] for v in vocabs))
        tweet_fields: frozenset[str] = frozenset()
        for v in vocabs:
            if v.fields_param in allowed:
                tweet_fields |= _parse_list(q, v.fields_param, v.tweet_fields, errors)
        sel = Selection(
            tweet_fields=tweet_fields,
            user_fields=_parse_list(q, "user.fields", USER_FIELDS, errors),
            dm_fields=_parse_list(q, "dm_event.fields", _union(*(v.dm_fields for v in vocabs)), errors)
            if ep.objects == "dm" else frozenset(),
            expansions=_parse_list(q, "expansions", expansions, errors),
            media_fields=_parse_list(q, "media.fields", MEDIA_FIELDS, errors) if "media.fields" in allowed
            else frozenset(),
        )
    return sel, errors


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def x_route(ep: Endpoint, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sb: Sandbox = request.app.state.sandbox
        raw = bearer(request)
        token = sb.store.valid_token(raw) if raw else None
        user = sb.store.users.get(token.user_id) if token else None
        if token is None or user is None:
            return problems.problem_response(problems.UNAUTHORIZED)
        verdict: Verdict = sb.limiter.hit(ep.key, user.id)
        headers = verdict.headers()
        if not verdict.allowed:
            return problems.problem_response(problems.TOO_MANY_REQUESTS, headers)
        if not set(ep.scopes) <= set(token.scopes):
            return problems.problem_response(problems.FORBIDDEN, headers)
        selection, errors = parse_selection(request, ep, sb)
        if errors:
            return problems.json_response(problems.invalid_request(sb.problem_type, errors), 400, headers)
        fault = sb.faults.take(ep.key)
        ctx = Ctx(request, sb, ep, token, user, selection, fault)
        if fault is not None:
            early = await _apply_fault_before(ctx, headers)
            if early is not None:
                return early
        response = await handler(ctx)
        response.headers.update(headers)
        response = _apply_fault_after(ctx, response, headers)
        sb.billing.answered(ep.key, user.id, request.path_params.get("id"), await request.body(),
                            response.status_code, bytes(response.body))
        return response

    return endpoint


async def _apply_fault_before(ctx: Ctx, headers: dict[str, str]) -> Response | None:
    fault = ctx.fault
    assert fault is not None
    if fault.kind == "status_500":
        return problems.problem_response(problems.INTERNAL_ERROR, headers)
    if fault.kind == "status_503":
        return problems.problem_response(problems.SERVICE_UNAVAILABLE, headers)
    if fault.kind in ("slow", "timeout"):
        await asyncio.sleep(fault.delay)
        if fault.kind == "timeout":
            return problems.problem_response(problems.blank_problem(504, "Gateway Timeout"), headers)
    if fault.kind == "repeated_page":
        previous = ctx.sandbox.last_bodies.get((ctx.endpoint.key, ctx.user.id))
        if previous is not None:
            return Response(previous, 200, headers, media_type=problems.JSON_TYPE)
    return None


def _apply_fault_after(ctx: Ctx, response: Response, headers: dict[str, str]) -> Response:
    if response.status_code == 200 and ctx.request.method == "GET":
        ctx.sandbox.last_bodies[(ctx.endpoint.key, ctx.user.id)] = bytes(response.body)
    if ctx.fault is not None and ctx.fault.kind == "malformed_json":
        body = bytes(response.body)
        return Response(body[: max(len(body) // 2, 1)], response.status_code, headers,
                        media_type=problems.JSON_TYPE)
    return response
