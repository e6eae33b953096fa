"""The X channel's own small types. The adapter (`x_api.py`) parses every X response into
these once, at the edge, in either vocabulary (tweet.* or post.*); nothing else in the
project digs in X's raw dicts or imports tweepy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class XUser:
    id: str
    username: str
    name: str
    profile_image_url: str = ""
    followers_count: int | None = None
    verified: bool = False


@dataclass(frozen=True)
class ReferencedTweet:
    type: str  # "replied_to" | "quoted" | "retweeted"
    id: str


@dataclass(frozen=True)
class XUrl:
    url: str  # the t.co link as it stands in the text
    expanded_url: str
    display_url: str = ""


@dataclass(frozen=True)
class XMedia:
    """A photo, video or GIF attached to a post or a DM (`includes.media`). X gives a photo's
    image as `url` and a video's or GIF's still as `preview_image_url`, both on its CDN
    (pbs.twimg.com): the agent's browser loads them, the helpdesk never fetches them."""

    media_key: str
    type: str  # "photo" | "video" | "animated_gif"
    url: str = ""
    preview_image_url: str = ""
    width: int | None = None
    height: int | None = None
    alt_text: str = ""

    @property
    def image_url(self) -> str:
        """The still to show: the photo itself, or a video's or GIF's preview."""
        return self.url if self.type == "photo" else self.preview_image_url or self.url

    def stored(self) -> dict[str, Any]:
        """What `IncomingItem.media` keeps of it."""
        return {"key": self.media_key, "type": self.type, "image_url": self.image_url,
                "width": self.width, "height": self.height, "alt": self.alt_text}


@dataclass(frozen=True)
class XTweet:
    id: str
    text: str  # full text: note_tweet.text when X cut `text`
    author_id: str
    created_at: datetime | None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    referenced: tuple[ReferencedTweet, ...] = ()
    mentioned_user_ids: tuple[str, ...] = ()
    mentioned_usernames: tuple[str, ...] = ()
    urls: tuple[XUrl, ...] = ()
    media_keys: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def referenced_id(self, kind: str) -> str | None:
        return next((r.id for r in self.referenced if r.type == kind), None)

    @property
    def replied_to_id(self) -> str | None:
        return self.referenced_id("replied_to")

    @property
    def is_retweet(self) -> bool:
        return self.referenced_id("retweeted") is not None

    @property
    def is_quote(self) -> bool:
        return self.referenced_id("quoted") is not None


@dataclass(frozen=True)
class XDMEvent:
    id: str
    event_type: str  # "MessageCreate" | "ParticipantsJoin" | "ParticipantsLeave"
    dm_conversation_id: str
    sender_id: str | None
    text: str
    created_at: datetime | None
    participant_ids: tuple[str, ...] = ()
    media_keys: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_group(self) -> bool:
        # A 1:1 conversation id is "<smaller id>-<larger id>"; group ids are opaque numbers.
        return "-" not in self.dm_conversation_id or len(self.participant_ids) > 2


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True)
class Malformed:
    """An item of a page that could not be parsed: kept for quarantine, never dropped."""

    raw: Any
    reason: str
    x_id: str | None = None


@dataclass
class Page:
    """One page of a list endpoint, parsed. `items` are XTweet or XDMEvent; `malformed`
    holds what could not be parsed; `users`/`tweets` come from `includes`."""

    items: list = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    users: dict[str, XUser] = field(default_factory=dict)
    tweets: dict[str, XTweet] = field(default_factory=dict)
    media: dict[str, XMedia] = field(default_factory=dict)  # by media_key
    next_token: str | None = None
    newest_id: str | None = None
    oldest_id: str | None = None
    result_count: int = 0
    rate_limit: RateLimit | None = None
    partial_errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PostedTweet:
    id: str
    text: str


@dataclass(frozen=True)
class SentDM:
    dm_conversation_id: str
    dm_event_id: str


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scope: tuple[str, ...]


# --- Errors, classified by what to do next -------------------------------------------


class XError(Exception):
    """Base of every error the adapter raises. `detail` is X's explanation, safe to show."""

    def __init__(self, detail: str = "", *, status: int | None = None):
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail
        self.status = status


class XAuthError(XError):
    """401, or a refresh token X no longer accepts: the account needs reconnecting."""


class XRateLimited(XError):
    """429: wait until `reset_at` (X sends no Retry-After)."""

    def __init__(self, detail: str = "", *, reset_at: datetime | None = None, status: int | None = 429):
        super().__init__(detail, status=status)
        self.reset_at = reset_at


class XTransientError(XError):
    """5xx, timeouts, connection errors, unparseable bodies: back off and retry."""


class XForbidden(XError):
    """403 other than duplicate content (missing scope, reply not allowed, ...)."""


class XDuplicateContent(XForbidden):
    """403 duplicate content: X already has this exact post from this account."""


class XBadRequest(XError):
    """400: the request itself is wrong. `parameter` names a refused query parameter."""

    def __init__(self, detail: str = "", *, parameter: str | None = None, status: int | None = 400):
        super().__init__(detail, status=status)
        self.parameter = parameter


class XNotFound(XError):
    """404, or a resource X reports missing (deleted tweet)."""
