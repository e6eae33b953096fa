"""A small in-memory X for the intake's unit tests.

It answers XClient's list methods with pages built from X-shaped JSON and parsed by the
adapter's real parser (`x_parsing.parse_page`), so the intake sees exactly the types it
sees in production. Errors can be queued per endpoint. End-to-end tests use the real
adapter against the sandbox over HTTP instead.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from twitter_channel.models import XAccount
from twitter_channel.x import parsing as x_parsing
from twitter_channel.x.types import RateLimit

BRAND_ID = "900000000000000001"
_ids = itertools.count(1_800_000_000_000_000_000)


def next_id() -> str:
    return str(next(_ids))


def user(uid: str, username: str, name: str = "", followers: int = 10, verified: bool = False) -> dict:
    return {"id": uid, "username": username, "name": name or username.title(),
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{uid}.jpg",
            "public_metrics": {"followers_count": followers}, "verified": verified}


def tweet(text: str, author_id: str, *, id: str | None = None, reply_to: str | None = None,
          conversation_id: str | None = None, retweet_of: str | None = None, urls: list | None = None,
          mentions: tuple[str, ...] = ("AcmeHelp",)) -> dict:
    tid = id or next_id()
    raw: dict[str, Any] = {
        "id": tid, "text": text, "author_id": author_id, "created_at": "2026-11-20T10:00:00.000Z",
        "conversation_id": conversation_id or tid, "edit_history_tweet_ids": [tid],
        "entities": {"mentions": [{"start": 0, "end": len(m) + 1, "username": m, "id": "1"} for m in mentions]},
    }
    refs = []
    if reply_to:
        refs.append({"type": "replied_to", "id": reply_to})
    if retweet_of:
        refs.append({"type": "retweeted", "id": retweet_of})
    if refs:
        raw["referenced_tweets"] = refs
    if urls:
        raw["entities"]["urls"] = [{"url": u, "expanded_url": e, "display_url": e[:20]} for u, e in urls]
    return raw


def dm(text: str, sender_id: str, conversation_id: str, *, id: str | None = None,
       participants: tuple[str, ...] = ()) -> dict:
    raw = {"id": id or next_id(), "event_type": "MessageCreate", "text": text, "sender_id": sender_id,
           "dm_conversation_id": conversation_id, "created_at": "2026-11-20T10:00:00.000Z"}
    if participants:
        raw["participant_ids"] = list(participants)
    return raw


class FakeX:
    """What X holds for one brand: mentions, the brand's likes and its DM events (raw JSON)."""

    def __init__(self, brand_id: str = BRAND_ID, page_size: int = 100):
        self.brand_id = brand_id
        self.page_size = page_size
        self.mentions: list[dict] = []
        self.likes: list[dict] = []  # newest like first, as X orders liked_tweets
        self.dm_events: list[dict] = []
        self.users: dict[str, dict] = {brand_id: user(brand_id, "AcmeHelp", "Acme Help")}
        self.errors: dict[str, list[Exception]] = {"mentions": [], "likes": [], "dms": []}
        self.calls: list[tuple[str, dict]] = []
        self.remaining = 299
        self.limit = 300
        self.reset_at = datetime.now(UTC) + timedelta(minutes=15)
        self.last_rate_limit: RateLimit | None = None
        self.malformed: list[dict] = []  # served on the next mentions page, then gone

    # The intake asks for a client per account: this fake serves them all.
    def client_for(self, account: XAccount) -> FakeX:
        self.token_used = account.access_token
        return self

    def add_user(self, uid: str, username: str, **kw) -> dict:
        self.users[uid] = user(uid, username, **kw)
        return self.users[uid]

    def _call(self, endpoint: str, **params) -> None:
        self.calls.append((endpoint, params))
        if self.errors[endpoint]:
            raise self.errors[endpoint].pop(0)
        self.remaining = max(self.remaining - 1, 0)
        self.last_rate_limit = RateLimit(limit=self.limit, remaining=self.remaining, reset_at=self.reset_at)

    def _page(self, items: list[dict], token: str | None, parse) -> Any:
        start = int(token or 0)
        chunk = items[start:start + self.page_size]
        body: dict[str, Any] = {"meta": {"result_count": len(chunk)}}
        if chunk:
            body["data"] = chunk
            authors = {i.get("author_id") or i.get("sender_id") for i in chunk}
            body["includes"] = {"users": [self.users[a] for a in authors if a in self.users]}
            body["meta"]["newest_id"] = chunk[0]["id"]
        if start + self.page_size < len(items):
            body["meta"]["next_token"] = str(start + self.page_size)
        return x_parsing.parse_page(body, parse, rate_limit=self.last_rate_limit)

    def get_mentions(self, user_id: str, *, since_id: str | None = None, pagination_token: str | None = None):
        self._call("mentions", since_id=since_id, pagination_token=pagination_token)
        items = [t for t in self.mentions if since_id is None or int(t["id"]) > int(since_id)]
        items.sort(key=lambda t: int(t["id"]), reverse=True)
        if self.malformed and pagination_token is None:
            items = self.malformed + items
            self.malformed = []
        return self._page(items, pagination_token, x_parsing.parse_tweet)

    def get_liked_tweets(self, user_id: str, *, pagination_token: str | None = None):
        self._call("likes", pagination_token=pagination_token)
        return self._page(self.likes, pagination_token, x_parsing.parse_tweet)

    def get_dm_events(self, *, pagination_token: str | None = None):
        self._call("dms", pagination_token=pagination_token)
        items = sorted(self.dm_events, key=lambda e: int(e["id"]), reverse=True)
        return self._page(items, pagination_token, x_parsing.parse_dm_event)
