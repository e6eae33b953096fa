"""What X bills for each call: the pricing rules, apart from any storage.

Since 2026 X bills per use (`shared/x-api/README.md`, "Prices"):
- reads per item returned: a post $0.005, a user $0.010, a DM event $0.010; the mentions
  and liked posts of the account's own user are "owned reads" at $0.001;
- the same item read again within a UTC day is billed once (the meter applies this rule
  with a per-day table of seen items, `costs/meter.py`);
- writes per request: a post $0.015, a post containing a URL $0.200, a DM $0.015;
- X Activity API events: post events $0.005, like $0.001, `dm.received` $0.010.

Items returned means everything the body carries: `data` and the expanded `includes`
(authors as users, referenced posts as posts). Failed calls (4xx, 5xx) return nothing and
cost nothing; managing webhooks and subscriptions and OAuth are not priced.

Amounts are kept as integer micro-dollars (1 = $0.000001), so sums are exact.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models

from twitter_channel.x.text_length import extract_urls

MICROS = 1_000_000


class Kind(models.TextChoices):
    POST_READ = "post_read", "Posts read"
    OWNED_READ = "owned_read", "Owned reads (own mentions and likes)"
    USER_READ = "user_read", "Users read"
    DM_EVENT_READ = "dm_event_read", "DM events read"
    POST_WRITE = "post_write", "Posts"
    POST_WITH_URL_WRITE = "post_url_write", "Posts with a URL"
    DM_WRITE = "dm_write", "DMs sent"
    POST_EVENT = "post_event", "Activity API post events"
    LIKE_EVENT = "like_event", "Activity API like events"
    DM_EVENT = "dm_event", "Activity API DM events"


class CostStream(models.TextChoices):
    """What the money went on, as the account page shows it."""

    MENTIONS = "mentions", "Mentions"
    LIKES = "likes", "Likes"
    DMS = "dms", "Direct messages"
    LOOKUPS = "lookups", "Lookups (posts, users)"
    REPLIES = "replies", "Replies"
    LINKS = "links", "Links in replies"
    DM_REPLIES = "dm_replies", "DM replies"


# Setting name and today's price of each kind (dollars).
PRICE_SETTINGS = {
    Kind.POST_READ: ("X_PRICE_POST_READ", "0.005"),
    Kind.OWNED_READ: ("X_PRICE_OWNED_READ", "0.001"),
    Kind.USER_READ: ("X_PRICE_USER_READ", "0.010"),
    Kind.DM_EVENT_READ: ("X_PRICE_DM_EVENT_READ", "0.010"),
    Kind.POST_WRITE: ("X_PRICE_POST", "0.015"),
    Kind.POST_WITH_URL_WRITE: ("X_PRICE_POST_WITH_URL", "0.200"),
    Kind.DM_WRITE: ("X_PRICE_DM", "0.015"),
    Kind.POST_EVENT: ("X_PRICE_POST_EVENT", "0.005"),
    Kind.LIKE_EVENT: ("X_PRICE_LIKE_EVENT", "0.001"),
    Kind.DM_EVENT: ("X_PRICE_DM_EVENT", "0.010"),
}


def price(kind: str) -> Decimal:
    """Dollars X bills for one item of `kind`, from the settings (today's price by default)."""
    name, default = PRICE_SETTINGS[Kind(kind)]
    return Decimal(str(getattr(settings, name, default)))


def usd(kind: str) -> str:
    """A price as people write it: "$0.20", "$0.015"."""
    text = f"{price(kind):.3f}".rstrip("0")
    return "$" + (text + "0" if len(text.split(".")[1]) < 2 else text)


def price_micros(kind: str) -> int:
    return int(price(kind) * MICROS)


def dollars(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class Charge:
    """One billable thing. `item` names what X dedupes on within a UTC day ("post:123");
    writes have none: each one is billed."""

    kind: str
    stream: str
    item: str | None = None


# --- reads -------------------------------------------------------------------------------

_MENTIONS = re.compile(r"^/2/users/(?P<user>\d+)/mentions$")
_LIKED = re.compile(r"^/2/users/(?P<user>\d+)/liked_tweets$")
_USERS = re.compile(r"^/2/users/(me|\d+|by/username/[^/]+)$")
_POSTS = re.compile(r"^/2/tweets(/\d+)?$")
_DM_READS = re.compile(r"^/2/(dm_events|dm_conversations/.+/dm_events)$")
_DM_WRITES = re.compile(r"^/2/dm_conversations/.+/messages$")


def charges_for(method: str, path: str, status: int, request_body: bytes | str | None, response_body: bytes,
                *, own_user_id: str | None) -> list[Charge]:
    """What one answered X call is billed for. `own_user_id` is the X user of the token:
    reading its own mentions or likes is an owned read."""
    if status >= 300:
        return []
    method = method.upper()
    if method == "GET":
        return _read_charges(path, response_body, own_user_id)
    if method == "POST" and path == "/2/tweets":
        text = _json_field(request_body, "text")
        if has_url(text):
            return [Charge(Kind.POST_WITH_URL_WRITE, CostStream.LINKS)]
        return [Charge(Kind.POST_WRITE, CostStream.REPLIES)]
    if method == "POST" and _DM_WRITES.match(path):
        return [Charge(Kind.DM_WRITE, CostStream.DM_REPLIES)]
    return []


def has_url(text: str) -> bool:
    """Whether X would see a link in `text` (its own twitter-text rules, bare domains too)."""
    return bool(text) and bool(extract_urls(text))


def _read_charges(path: str, response_body: bytes, own_user_id: str | None) -> list[Charge]:
    if path == "/2/activity/stream":
        return []  # events are billed when they are stored (`event_charge`)
    if (m := _MENTIONS.match(path)) or (m := _LIKED.match(path)):
        stream = CostStream.MENTIONS if "mentions" in path else CostStream.LIKES
        data_kind = Kind.OWNED_READ if own_user_id and m["user"] == own_user_id else Kind.POST_READ
        return _body_charges(response_body, stream, data_kind=data_kind, data_prefix="post")
    if _POSTS.match(path):
        return _body_charges(response_body, CostStream.LOOKUPS, data_kind=Kind.POST_READ, data_prefix="post")
    if _USERS.match(path):
        return _body_charges(response_body, CostStream.LOOKUPS, data_kind=Kind.USER_READ, data_prefix="user")
    if _DM_READS.match(path):
        return _body_charges(response_body, CostStream.DMS, data_kind=Kind.DM_EVENT_READ, data_prefix="dm")
    return []


def _body_charges(raw: bytes, stream: str, *, data_kind: str, data_prefix: str) -> list[Charge]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(body, dict):
        return []
    data = body.get("data")
    objects = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    charges = [Charge(data_kind, stream, f"{data_prefix}:{o['id']}") for o in objects if _has_id(o)]
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    for key, kind, prefix in (("users", Kind.USER_READ, "user"), ("tweets", Kind.POST_READ, "post"),
                              ("posts", Kind.POST_READ, "post")):
        values = includes.get(key)
        if isinstance(values, list):
            charges += [Charge(kind, stream, f"{prefix}:{o['id']}") for o in values if _has_id(o)]
    return charges


def _has_id(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str | int)


def _json_field(raw: bytes | str | None, name: str) -> str:
    try:
        value = json.loads(raw or b"{}").get(name)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    return value if isinstance(value, str) else ""


# --- X Activity API events ---------------------------------------------------------------

EVENT_KINDS = {
    "post.mention.create": (Kind.POST_EVENT, CostStream.MENTIONS),
    "post.reply.create": (Kind.POST_EVENT, CostStream.MENTIONS),
    "post.create": (Kind.POST_EVENT, CostStream.MENTIONS),
    "like.create": (Kind.LIKE_EVENT, CostStream.LIKES),
    "dm.received": (Kind.DM_EVENT, CostStream.DMS),
}


def event_charge(event_type: str, event_id: str) -> Charge | None:
    """One pushed event (webhook or stream); a redelivery of the same event is billed once."""
    if event_type not in EVENT_KINDS:
        return None
    kind, stream = EVENT_KINDS[event_type]
    return Charge(kind, stream, f"event:{event_id}")
