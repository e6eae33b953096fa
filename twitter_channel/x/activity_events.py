"""X Activity API events -> the channel's own types (XTweet, XDMEvent, XUser).

The envelope comes from X's spec (2.167, `ActivityStreamResponse`): `{"data": {"event_type",
"event_uuid", "filter": {"user_id", "direction"}, "tag", "payload", "includes"}}`. The spec
maps the payload of `post.mention.create` (and `post.create`) to a Post and of `like.create`
to `LikeWithPostAuthor` (`id`, `liked_tweet_id`, `tweet_author_id`, `created_at`). Two things
it does not pin down, and what we assume:
- the webhook body: the same envelope as one line of `GET /2/activity/stream`;
- the `dm.received` payload: a DM event as `GET /2/dm_events` returns it (`DmEvent`), with
  `event_type` defaulting to MessageCreate when absent.
`post.reply.create` (named in X's docs, not in the spec's subscription enum) is read as a
Post like a mention; X also delivers replies to the brand as mentions, which the store dedupes
(one `IncomingItem` per kind and post id). Its subscription is optional for that reason: if X
refuses it, replies to the brand's posts still arrive as mentions.
Payloads are parsed in both vocabularies by the adapter's own parsers (`parsing.py`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any

from twitter_channel.models import Stream
from twitter_channel.x.parsing import ParseError, decode_json, parse_dm_event, parse_media, parse_tweet, parse_user
from twitter_channel.x.types import Malformed, ReferencedTweet, XDMEvent, XMedia, XTweet, XUser

MENTION_EVENT = "post.mention.create"
REPLY_EVENT = "post.reply.create"
MENTION_EVENTS = (MENTION_EVENT, REPLY_EVENT)
LIKE_EVENT = "like.create"
DM_EVENT = "dm.received"
# A post was deleted on X (spec 2.167: payload `PostDeleteActivityResponsePayload`, `id` and
# `author_id`). Which posts a subscription filtered on the brand hears of, the spec does not
# say; we take (and the sandbox emits) the deletions of posts that were in the brand's
# mentions, as for post.mention.create, besides the brand's own. Compliance redacts them
# (`intake.deletions`); the batch compliance job catches whatever this misses.
POST_DELETE_EVENT = "post.delete"
# The brand's own profile changed on X (spec 2.167: payload `before`/`after`): the account's
# name, handle and picture here follow it. Requesters' profiles take the same events, on
# subscriptions of their own (`requester_profiles`).
PROFILE_EVENTS = {
    "profile.update.screenname": "display_name",
    "profile.update.handle": "username",
    "profile.update.profile_picture": "avatar_url",
}
# What the helpdesk subscribes to per stream: (event_type, direction).
SUBSCRIPTIONS = {
    Stream.MENTIONS: [(MENTION_EVENT, ""), (REPLY_EVENT, ""), (POST_DELETE_EVENT, ""),
                      *((event_type, "") for event_type in PROFILE_EVENTS)],
    Stream.LIKES: [(LIKE_EVENT, "outbound")],  # likes *by* the brand turn into tickets
    Stream.DMS: [(DM_EVENT, "")],
}
# Subscriptions real time does without when X refuses them (400). X's spec 2.167 leaves
# post.reply.create out of its subscription enum although X's docs list it; and X puts every
# reply in the mentions of the account it answers, so the mention subscription brings replies too.
# post.delete is optional too: without it deletions still reach us by the batch job.
# So are the profile updates: the account page's "Reconnect" refreshes the profile as well.
OPTIONAL_SUBSCRIPTIONS = {(REPLY_EVENT, ""), (POST_DELETE_EVENT, ""), *((t, "") for t in PROFILE_EVENTS)}


# X's events are a handful of levels deep (envelope, payload, entities, a list of them).
MAX_EVENT_NESTING = 64


def nested_deeper_than(text: str, limit: int = MAX_EVENT_NESTING) -> bool:
    """Whether JSON text opens more than `limit` arrays or objects inside one another; linear,
    and without parsing (the parser itself recurses once per level)."""
    brackets = _BRACKETS_ONLY.sub("", _JSON_STRING.sub("", text))
    depth = 0
    for char in brackets:
        depth += 1 if char in "[{" else -1
        if depth > limit:
            return True
    return False


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS_ONLY = re.compile(r"[^\[\]{}]+")


class Ignored(Exception):
    """An event the helpdesk does not take (another type, an inbound like); the reason is kept."""


@dataclass(frozen=True)
class Envelope:
    event_id: str
    event_type: str
    for_user_id: str
    direction: str
    payload: Any
    includes: dict = field(default_factory=dict, repr=False)


@dataclass
class Intake:
    """What one event brings to the intake: an item of one stream, with the users X included.
    A like whose post X did not include has `tweet=None` and `liked_tweet_id` to look it up."""

    stream: str
    item: XTweet | XDMEvent | None
    users: dict[str, XUser]
    included_tweets: dict[str, XTweet] = field(default_factory=dict)
    liked_tweet_id: str | None = None
    media: dict[str, XMedia] = field(default_factory=dict)  # includes.media, by media_key


def parse_envelope(body: str | bytes | dict) -> Envelope:
    if isinstance(body, str | bytes):
        try:
            body = decode_json(body)
        except ValueError as e:
            raise ParseError(f"event is not JSON: {e}") from e
    if not isinstance(body, dict):
        raise ParseError("event is not an object")
    if isinstance(body.get("errors"), list) and "data" not in body:
        raise ParseError(f"X sent an error instead of an event: {body['errors'][:1]}")
    data = body.get("data", body)
    if not isinstance(data, dict):
        raise ParseError("event data is not an object")
    event_id = data.get("event_uuid")
    if not isinstance(event_id, str | int) or isinstance(event_id, bool) or not str(event_id):
        raise ParseError("event has no event_uuid")
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise ParseError("event has no event_type")
    event_filter = data.get("filter") if isinstance(data.get("filter"), dict) else {}
    user_id = event_filter.get("user_id")
    includes = data.get("includes") if isinstance(data.get("includes"), dict) else {}
    return Envelope(
        event_id=str(event_id)[:80],
        event_type=event_type[:60],
        for_user_id=str(user_id) if isinstance(user_id, str | int) and not isinstance(user_id, bool) else "",
        direction=event_filter.get("direction") if isinstance(event_filter.get("direction"), str) else "",
        payload=data.get("payload"),
        includes=includes,
    )


def split_delivery(body: str) -> list[tuple[str, Any]]:
    """The events of a webhook delivery (X may batch them under one `data` list), each as an
    envelope's text with that text decoded (for `parse_envelope`, so no event is decoded
    twice), or None where the body could not be decoded; a single event stays as received."""
    if '"data"' not in body or not body.lstrip().startswith("{"):
        return [(body, None)]
    try:
        decoded = decode_json(body)
    except ValueError:
        return [(body, None)]  # kept failed by the store, with the reason parse_envelope gives
    if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), list) or not decoded["data"]:
        return [(body, decoded)]
    return [(json.dumps({"data": data}, ensure_ascii=False), {"data": data}) for data in decoded["data"]]


def malformed_payload(envelope: Envelope, reason: str) -> Malformed:
    """An event whose payload could not be read, kept for quarantine under its post or DM
    id when it has a usable one."""
    raw = envelope.payload if isinstance(envelope.payload, dict) else {"payload": envelope.payload}
    raw_id = raw.get("id") if isinstance(raw.get("id"), str) and raw["id"].isdigit() else None
    return Malformed(raw=raw, reason=reason, x_id=raw_id)


def intake_of(envelope: Envelope) -> Intake:
    """The item an event carries; raises Ignored for events the helpdesk does not take and
    ParseError for a payload of the wrong shape."""
    users = _included_users(envelope.includes)
    tweets = _included_tweets(envelope.includes)
    media = _included_media(envelope.includes)
    if envelope.event_type in MENTION_EVENTS:
        return Intake(Stream.MENTIONS, _post(envelope.payload), users, tweets, media=media)
    if envelope.event_type == LIKE_EVENT:
        if envelope.direction == "inbound":
            raise Ignored("a like of one of the brand's posts, not a like by the brand")
        return dataclasses.replace(_like(envelope, users, tweets), media=media)
    if envelope.event_type == DM_EVENT:
        payload = envelope.payload
        if isinstance(payload, dict) and "event_type" not in payload:
            payload = {**payload, "event_type": "MessageCreate"}
        return Intake(Stream.DMS, parse_dm_event(payload), users, tweets, media=media)
    raise Ignored(f"{envelope.event_type} events are not taken by the helpdesk")


def deleted_post_id(envelope: Envelope) -> str:
    """The id of the post a post.delete event says was deleted."""
    payload = envelope.payload
    post_id = payload.get("id") if isinstance(payload, dict) else None
    if not isinstance(post_id, str | int) or isinstance(post_id, bool) or not str(post_id).isdigit():
        raise ParseError("post.delete event has no post id")
    return str(post_id)


def profile_change(envelope: Envelope) -> tuple[str, str]:
    """(XAccount field, new value) of a profile.update.* event."""
    return PROFILE_EVENTS[envelope.event_type], profile_value(envelope)


def profile_value(envelope: Envelope) -> str:
    """The new value a profile.update.* event carries (`after`)."""
    payload = envelope.payload
    after = payload.get("after") if isinstance(payload, dict) else None
    if not isinstance(after, str):
        raise ParseError(f"{envelope.event_type} event has no 'after'")
    return after


def _post(payload: Any) -> XTweet:
    tweet = parse_tweet(payload)
    # Activity API posts may say what they answer with `in_reply_to_tweet_id` instead of
    # `referenced_tweets` (README "Fields that matter for threading"); conversion threads on it.
    reply_to = payload.get("in_reply_to_tweet_id") if isinstance(payload, dict) else None
    if tweet.replied_to_id is None and isinstance(reply_to, str) and reply_to.isdigit():
        tweet = dataclasses.replace(tweet, referenced=tweet.referenced + (ReferencedTweet("replied_to", reply_to),))
    return tweet


def _like(envelope: Envelope, users: dict[str, XUser], tweets: dict[str, XTweet]) -> Intake:
    payload = envelope.payload
    if not isinstance(payload, dict):
        raise ParseError("like payload is not an object")
    liked = payload.get("liked_tweet_id") or payload.get("liked_post_id")
    if not isinstance(liked, str | int) or isinstance(liked, bool) or not str(liked).isdigit():
        raise ParseError("like has no liked_tweet_id")
    liked = str(liked)
    tweet = tweets.get(liked)
    if tweet is not None and not tweet.author_id:
        tweet = None  # included without its author: look it up with the helpdesk's fields
    return Intake(Stream.LIKES, tweet, users, tweets, liked_tweet_id=liked)


def _included_users(includes: dict) -> dict[str, XUser]:
    return _parsed(includes.get("users"), parse_user, key=lambda user: user.id)


def _included_media(includes: dict) -> dict[str, XMedia]:
    return _parsed(includes.get("media"), parse_media, key=lambda media: media.media_key)


def _included_tweets(includes: dict) -> dict[str, XTweet]:
    def parse(raw):
        return parse_tweet(raw, complete=False)

    by_id = _parsed(includes.get("tweets"), parse, key=lambda tweet: tweet.id)
    return by_id | _parsed(includes.get("posts"), parse, key=lambda tweet: tweet.id)


def _parsed(raws, parse, *, key) -> dict:
    """The includes of one kind that parse, by `key`. They are context only: one that does
    not parse is left out, and the item still goes through without that profile, picture
    or quoted post."""
    found = {}
    for raw in raws if isinstance(raws, list) else []:
        try:
            parsed = parse(raw)
        except ParseError:
            continue
        found[key(parsed)] = parsed
    return found
