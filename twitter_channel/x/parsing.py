"""X API v2 payloads -> the channel's own types (`types.py`), in either vocabulary.

X is renaming tweet -> post (README "The vocabulary is changing"): every parser here reads
both spellings (`referenced_tweets`/`referenced_posts`, `note_tweet`/`note_post`,
`includes.tweets`/`includes.posts`), whatever the request asked for, so a server that
switches vocabulary between two polls never loses a field.

Every item of a page is parsed on its own: one odd item becomes a `Malformed` entry with its
raw dict and the reason, and the rest of the page still goes through.

Every JSON body from X, polled or pushed, is decoded by `decode_json`, which makes every
string storable in PostgreSQL (no U+0000, no lone surrogate).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from twitter_channel.x.types import (
    Malformed,
    Page,
    PostedTweet,
    RateLimit,
    ReferencedTweet,
    SentDM,
    XAuthError,
    XBadRequest,
    XDMEvent,
    XDuplicateContent,
    XError,
    XForbidden,
    XMedia,
    XNotFound,
    XRateLimited,
    XTransientError,
    XTweet,
    XUrl,
    XUser,
)

log = logging.getLogger(__name__)

DM_EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")


class ParseError(ValueError):
    """A payload that does not have the shape the helpdesk relies on."""


# --- decoding -----------------------------------------------------------------------------

# X sends a NUL in a post, a name or a DM as the valid JSON escape "\u0000", and a lone half
# of a surrogate pair as "\ud800"; PostgreSQL stores neither in a text column nor in jsonb:
# one such item would fail the insert of its whole page or batch on every retry and block
# everything behind it. Strict JSON has no other way to carry them (a raw control character is
# a syntax error; a surrogate arrives as an escape, or as bytes only "surrogatepass" decodes),
# so a body without any of these needs no walk.
_UNSTORABLE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|[\ud800-\udfff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_json(raw: str | bytes) -> Any:
    """X's JSON text as Python, every string storable: U+0000 removed and a lone surrogate
    replaced by U+FFFD, keys included.

    Raises ValueError (json.JSONDecodeError, UnicodeDecodeError) for a body that is not JSON."""
    # Bytes are decoded as json.loads decodes them (UTF-8, or UTF-16/32 by their byte pattern),
    # so the escapes are looked for in the very text that is parsed.
    text = raw.decode(json.detect_encoding(raw), "surrogatepass") if isinstance(raw, bytes) else raw
    try:
        body = json.loads(text)
        return _storable(body) if _UNSTORABLE.search(text) else body
    except RecursionError:
        # json.loads recurses once per level: `[[[[…` a few thousand deep (any sender, signed
        # or not) would otherwise escape every `except ValueError` and crash the caller.
        raise ValueError("nested too deeply to be read") from None


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        # A valid pair was already joined into one character by json.loads: what is left of
        # U+D800..U+DFFF is a lone half, which UTF-8 cannot encode.
        return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


# --- scalar helpers ---------------------------------------------------------------------


def _id(value: Any, what: str) -> str:
    # X sends ids as strings; an int is tolerated (no precision lost), a float or a bool is
    # not: a 19-digit id that went through a float is already wrong.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParseError(f"{what} is not an id: {value!r}")
    text = str(value)
    if not text.isdigit():
        raise ParseError(f"{what} is not an id: {value!r}")
    return text


def _optional_id(value: Any, what: str) -> str | None:
    return None if value is None else _id(value, what)


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ParseError(f"{what} is not a string: {value!r}")
    return value


def _dict(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ParseError(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{what} is not a list")
    return value


def parse_datetime(value: Any, what: str = "created_at") -> datetime | None:
    """X's ISO 8601 UTC timestamps ("2020-06-17T19:10:19.000Z") as aware datetimes."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"{what} is not a timestamp: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise ParseError(f"{what} is not a timestamp: {value!r}") from e
    # A timestamp without an offset is UTC in X's API; never hand out a naive datetime.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _either(raw: dict, *names: str) -> Any:
    """The first of `names` present in `raw`: the tweet.* and post.* spellings of one field."""
    for name in names:
        if name in raw:
            return raw[name]
    return None


# --- objects ------------------------------------------------------------------------------


def parse_user(raw: Any) -> XUser:
    raw = _dict(raw, "user")
    metrics = raw.get("public_metrics") or {}
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
    return XUser(
        id=_id(raw.get("id"), "user id"),
        username=_str(raw.get("username"), "username"),
        name=_str(raw.get("name", ""), "name"),
        profile_image_url=_str(raw.get("profile_image_url") or "", "profile_image_url"),
        followers_count=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        verified=raw.get("verified") is True,
    )


def parse_media(raw: Any) -> XMedia:
    """An entry of `includes.media`: photos carry `url`, videos and GIFs `preview_image_url`."""
    raw = _dict(raw, "media")
    kind = _str(raw.get("type"), "media type")
    url = _str(raw.get("url") or "", "media url")
    preview = _str(raw.get("preview_image_url") or "", "preview_image_url")
    if not (url or preview):
        raise ParseError(f"{kind} media has neither url nor preview_image_url")

    def size(name: str) -> int | None:
        value = raw.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    return XMedia(media_key=_str(raw.get("media_key"), "media_key"), type=kind, url=url,
                  preview_image_url=preview, width=size("width"), height=size("height"),
                  alt_text=_str(raw.get("alt_text") or "", "alt_text"))


def _media_keys(raw: dict) -> tuple[str, ...]:
    attachments = _dict(raw.get("attachments") or {}, "attachments")
    return tuple(_str(k, "media key") for k in _list(attachments.get("media_keys"), "media_keys"))


def parse_tweet(raw: Any, *, complete: bool = True) -> XTweet:
    """`complete`: the request asked for the helpdesk's fields, so a post without an author
    cannot be used (nobody to answer). Default payloads (no fields requested, as in the
    recordings) only carry id and text: parse them with complete=False."""
    raw = _dict(raw, "post")
    tweet_id = _id(raw.get("id"), "post id")
    text = _str(raw.get("text"), "text")
    # Posts longer than 280 characters come with a cut `text` and the whole in the note.
    note = _either(raw, "note_tweet", "note_post")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
        text = note["text"]

    author_id = raw.get("author_id")
    created_at = parse_datetime(raw.get("created_at"))
    if complete and author_id is None:
        raise ParseError("post has no author_id")

    referenced = []
    for ref in _list(_either(raw, "referenced_tweets", "referenced_posts"), "referenced_tweets"):
        ref = _dict(ref, "referenced post")
        referenced.append(ReferencedTweet(type=_str(ref.get("type"), "reference type"),
                                          id=_id(ref.get("id"), "referenced post id")))

    entities = raw.get("entities") or {}
    entities = _dict(entities, "entities")
    mentions = [_dict(m, "mention") for m in _list(entities.get("mentions"), "mentions")]
    urls = []
    for u in _list(entities.get("urls"), "urls"):
        u = _dict(u, "url")
        short = _str(u.get("url"), "url")
        urls.append(XUrl(url=short, expanded_url=_str(u.get("expanded_url") or short, "expanded_url"),
                         display_url=_str(u.get("display_url") or "", "display_url")))
    return XTweet(
        id=tweet_id,
        text=text,
        author_id=_id(author_id, "author_id") if author_id is not None else "",
        created_at=created_at,
        conversation_id=_optional_id(raw.get("conversation_id"), "conversation_id"),
        in_reply_to_user_id=_optional_id(raw.get("in_reply_to_user_id"), "in_reply_to_user_id"),
        referenced=tuple(referenced),
        mentioned_user_ids=tuple(_id(m["id"], "mention id") for m in mentions if m.get("id") is not None),
        mentioned_usernames=tuple(_str(m.get("username"), "mention username") for m in mentions),
        urls=tuple(urls),
        media_keys=_media_keys(raw),
        raw=raw,
    )


def parse_dm_event(raw: Any, *, complete: bool = True) -> XDMEvent:
    """`complete` as for `parse_tweet`: when the request asked for them, a DM event needs its
    conversation, and a message its sender."""
    raw = _dict(raw, "dm event")
    event_type = _str(raw.get("event_type"), "event_type")
    if event_type not in DM_EVENT_TYPES:
        raise ParseError(f"unknown DM event type {event_type!r}")
    conversation_id = raw.get("dm_conversation_id")
    sender_id = raw.get("sender_id")
    created_at = parse_datetime(raw.get("created_at"))
    if complete:
        if conversation_id is None:
            raise ParseError("DM event has no dm_conversation_id")
        if event_type == "MessageCreate" and sender_id is None:
            raise ParseError("DM message has no sender_id")
    # 1:1 conversation ids are "<id>-<id>", so not a single id: checked as a string.
    conversation_id = _str(conversation_id, "dm_conversation_id") if conversation_id is not None else ""
    return XDMEvent(
        id=_id(raw.get("id"), "DM event id"),
        event_type=event_type,
        dm_conversation_id=conversation_id,
        sender_id=_optional_id(sender_id, "sender_id"),
        text=_str(raw.get("text") or "", "text"),
        created_at=created_at,
        participant_ids=tuple(_id(p, "participant id") for p in _list(raw.get("participant_ids"), "participant_ids")),
        media_keys=_media_keys(raw),
        raw=raw,
    )


def parse_posted_tweet(body: Any) -> PostedTweet:
    data = _dict(_dict(body, "response").get("data"), "data")
    return PostedTweet(id=_id(data.get("id"), "post id"), text=_str(data.get("text", ""), "text"))


def parse_sent_dm(body: Any) -> SentDM:
    data = _dict(_dict(body, "response").get("data"), "data")
    return SentDM(dm_conversation_id=_str(data.get("dm_conversation_id"), "dm_conversation_id"),
                  dm_event_id=_id(data.get("dm_event_id"), "dm_event_id"))


# --- pages --------------------------------------------------------------------------------


def parse_page(body: Any, parse_item: Callable[[Any], Any], *, rate_limit: RateLimit | None = None) -> Page:
    """A list response (`data` list, `includes`, `meta`, partial `errors`) as a Page.

    An empty page has no `data` at all (`{"meta": {"result_count": 0}}`)."""
    body = _dict(body, "response")
    page = Page(rate_limit=rate_limit)
    for raw in _list(body.get("data"), "data"):
        try:
            page.items.append(parse_item(raw))
        except ParseError as e:
            page.malformed.append(Malformed(raw=raw, reason=str(e), x_id=_raw_id(raw)))

    includes = body.get("includes") or {}
    if isinstance(includes, dict):
        for raw in _list(includes.get("users"), "includes.users"):
            _include(page.users, raw, parse_user)
        for key in ("tweets", "posts"):
            for raw in _list(includes.get(key), f"includes.{key}"):
                # Included posts are context (the post replied to): they may legitimately
                # lack fields, so they are parsed leniently.
                _include(page.tweets, raw, lambda r: parse_tweet(r, complete=False))
        for raw in _list(includes.get("media"), "includes.media"):
            _include(page.media, raw, parse_media, key=lambda m: m.media_key)

    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    page.next_token = meta.get("next_token") or None
    page.newest_id = _raw_id(meta, "newest_id")
    page.oldest_id = _raw_id(meta, "oldest_id")
    # Lookups by id (GET /2/tweets?ids=) have no meta: count what came.
    count = meta.get("result_count")
    page.result_count = count if isinstance(count, int) else len(page.items) + len(page.malformed)
    page.partial_errors = [e for e in _list(body.get("errors"), "errors") if isinstance(e, dict)]
    return page


def _include(target: dict, raw: Any, parse: Callable[[Any], Any], key: Callable[[Any], str] = lambda o: o.id) -> None:
    try:
        obj = parse(raw)
    except ParseError as e:
        # An included object is only context for the items; losing it must not lose them.
        log.warning("skipped a malformed included object %s: %s", _raw_id(raw), e)
        return
    target[key(obj)] = obj


def _raw_id(raw: Any, key: str = "id") -> str | None:
    value = raw.get(key) if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


# --- headers and error bodies -------------------------------------------------------------


def parse_rate_limit(headers: Any) -> RateLimit | None:
    """`x-rate-limit-*` headers (requests' headers are case-insensitive); None when absent."""

    def number(name: str) -> int | None:
        value = headers.get(name)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    limit = number("x-rate-limit-limit")
    remaining = number("x-rate-limit-remaining")
    reset = number("x-rate-limit-reset")
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimit(limit=limit, remaining=remaining,
                     reset_at=datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None)


def problem_text(body: Any) -> str:
    """The safe-to-show explanation of an error body: a v2 problem (`detail`/`title`), a
    v1.1-style `{"errors": [{"message"}]}`, or an OAuth `error_description`."""
    if isinstance(body, dict):
        for key in ("detail", "error_description", "title", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
        for err in body.get("errors") or []:
            if isinstance(err, dict):
                for key in ("message", "detail", "title"):
                    if isinstance(err.get(key), str) and err[key]:
                        return err[key]
    if isinstance(body, str):
        # A body that is not JSON did not go through decode_json: its NULs are dropped here.
        return body.replace("\x00", "").strip()[:500]
    return ""


def problem_parameters(body: Any) -> dict[str, list]:
    """Parameters a 400 refused, from `errors[].parameters` ({"name": [values]}) and from
    partial-style errors that carry `parameter`/`value`."""
    found: dict[str, list] = {}
    if not isinstance(body, dict):
        return found
    for err in body.get("errors") or []:
        if not isinstance(err, dict):
            continue
        params = err.get("parameters")
        if isinstance(params, dict):
            for name, values in params.items():
                found.setdefault(name, []).extend(values if isinstance(values, list) else [values])
        elif isinstance(err.get("parameter"), str):
            found.setdefault(err["parameter"], []).append(err.get("value"))
    return found


def is_duplicate_content(body: Any) -> bool:
    text = problem_text(body).lower()
    kind = body.get("type", "") if isinstance(body, dict) else ""
    return "duplicate" in text or (isinstance(kind, str) and "duplicate" in kind.lower())


# X names its problem types under two hosts while it migrates (README "Errors"): spec 2.159
# and most live answers under api.twitter.com, spec 2.167 (and live X's resource-not-found
# since 2026) under api.x.com. Both name the same problem.
PROBLEM_TYPE_PREFIXES = ("https://api.twitter.com/2/problems/", "https://api.x.com/2/problems/")


def problem_kind(problem: Any) -> str:
    """The kind of an X problem ("resource-not-found", "usage-capped"), whichever of X's hosts
    names its type; "" for `about:blank`, another host's URI or anything that is not a problem."""
    kind = problem.get("type") if isinstance(problem, dict) else None
    if isinstance(kind, str):
        for prefix in PROBLEM_TYPE_PREFIXES:
            if kind.startswith(prefix):
                return kind[len(prefix):]
    return ""


def is_rate_limit_body(body: Any) -> bool:
    """v1.1-style code 88 ("Rate limit exceeded") or the v2 `usage-capped` problem, which X
    may send with another status than 429."""
    if not isinstance(body, dict):
        return False
    if problem_kind(body) == "usage-capped":
        return True
    return any(isinstance(e, dict) and e.get("code") == 88 for e in body.get("errors") or [])


def is_connection_limit_body(body: Any) -> bool:
    """X's ConnectionException problem for a stream at its connection limit:
    `{"title": "ConnectionException", "connection_issue": "TooManyConnections",
    "type": "https://api.twitter.com/2/problems/streaming-connection", ...}`."""
    return isinstance(body, dict) and body.get("connection_issue") == "TooManyConnections"


def error_from_response(response: Any) -> XError:
    """The project's error for a failed X response (requests.Response), classified by what
    the caller should do next. v2 problems are read from the body itself: tweepy only fills
    `api_codes` from v1.1-style bodies."""
    status = response.status_code
    try:
        body = decode_json(response.content)
    except ValueError:
        body = response.text
    detail = problem_text(body) or f"HTTP {status}"
    if status == 429 and is_connection_limit_body(body):
        # A stream refusing one connection too many: X answers 429 with requests left in the
        # window, so waiting for its reset (up to 15 minutes) would idle the stream for nothing;
        # the other connection may be on its way out. Back off and try again.
        return XTransientError(detail, status=status)
    if status == 429 or is_rate_limit_body(body):
        limit = parse_rate_limit(response.headers)
        return XRateLimited(detail, reset_at=limit.reset_at if limit else None, status=status)
    if status == 401:
        return XAuthError(detail, status=status)
    if status == 403:
        if is_duplicate_content(body):
            return XDuplicateContent(detail, status=status)
        return XForbidden(detail, status=status)
    if status == 400:
        refused = problem_parameters(body)
        return XBadRequest(detail, parameter=next(iter(refused), None), status=status)
    if status == 404:
        return XNotFound(detail, status=status)
    if status >= 500 or status == 408:
        return XTransientError(detail, status=status)
    return XError(detail, status=status)
