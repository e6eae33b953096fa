"""Activity API events for the real-time tests, in the envelope X's spec gives
(`{"data": {"event_type", "event_uuid", "filter", "payload", "includes"}}`), built from the
same X-shaped posts and DM events the polling tests use (`intake_helpers`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json

from django.urls import reverse

from .intake_helpers import BRAND_ID

_event_ids = itertools.count(1_900_000_000_000_000_000)


def event(event_type: str, payload: dict, *, users: list[dict] = (), posts: list[dict] = (),
          for_user: str = BRAND_ID, direction: str | None = None, event_id: str | None = None) -> dict:
    event_filter = {"user_id": for_user}
    if direction:
        event_filter["direction"] = direction
    includes: dict = {}
    if users:
        includes["users"] = list(users)
    if posts:
        includes["tweets"] = list(posts)
    return {"data": {"event_type": event_type, "event_uuid": event_id or str(next(_event_ids)),
                     "filter": event_filter, "payload": payload, "includes": includes}}


def mention_event(post: dict, *, users: list[dict] = (), posts: list[dict] = (), **kw) -> dict:
    return event("post.mention.create", post, users=users, posts=posts, **kw)


def reply_event(post: dict, *, users: list[dict] = (), posts: list[dict] = (), **kw) -> dict:
    """`post.reply.create`: a reply to one of the brand's posts (X sends it as a mention too)."""
    return event("post.reply.create", post, users=users, posts=posts, **kw)


def like_event(post: dict, *, users: list[dict] = (), direction: str = "outbound", include_post: bool = True,
               **kw) -> dict:
    payload = {"id": str(next(_event_ids)), "liked_tweet_id": post["id"], "tweet_author_id": post["author_id"],
               "created_at": "2026-11-20T10:00:05.000Z"}
    return event("like.create", payload, users=users, posts=[post] if include_post else [], direction=direction, **kw)


def dm_event(dm: dict, *, users: list[dict] = (), **kw) -> dict:
    return event("dm.received", dm, users=users, **kw)


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(client, body: dict | bytes, *, secret: str | None = None, signed: bool = True, headers: dict | None = None):
    """POST one delivery to the webhook as X does: the raw body, signed with the consumer secret."""
    from django.conf import settings

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    extra = dict(headers or {})
    if signed:
        extra.setdefault("HTTP_X_TWITTER_WEBHOOKS_SIGNATURE",
                         signature(raw, secret if secret is not None else settings.X_WEBHOOK_CONSUMER_SECRET))
    return client.post(reverse("twitter_channel:x_webhook"), raw, content_type="application/json", **extra)
