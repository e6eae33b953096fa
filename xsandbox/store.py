"""In-memory sandbox state: users, posts, likes, DM conversations/events, OAuth tokens.

Pure data and queries, no HTTP: the X routes and the control API both call it.
All access happens on the server's event loop thread, so no locking is needed.
The whole state round-trips through JSON (``dump``/``load``) for ``--state`` files.
"""

from __future__ import annotations

import bisect
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from .clock import Clock, SnowflakeIds
from .text import parse_text


class StoreError(Exception):
    """A rejected state change; ``kind`` lets callers pick the HTTP answer."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # not_found | conflict | invalid | forbidden | duplicate | deleted
        self.message = message


@dataclass
class User:
    id: str
    username: str
    name: str
    created_at: float
    description: str = ""
    location: str = ""
    url: str = ""
    protected: bool = False
    verified: bool = False
    profile_image_url: str = "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"


# X's media key prefixes: 3_ a photo, 7_ a video, 16_ an animated GIF.
MEDIA_KEY_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}


@dataclass
class Media:
    """A photo, video or GIF a user attached. As on X, a photo has `url`, a video or a GIF
    only a still (`preview_image_url`); the sandbox serves the images itself."""

    media_key: str
    type: str  # photo | video | animated_gif
    width: int
    height: int
    url: str = ""
    preview_image_url: str = ""
    alt_text: str = ""


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    original_text: str
    created_at: float
    conversation_id: str
    in_reply_to_user_id: str | None = None
    referenced: list[dict] = field(default_factory=list)  # [{"type": "replied_to", "id": ...}]
    urls: list[dict] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)  # with "id" when the user exists
    hashtags: list[dict] = field(default_factory=list)
    mention_ids: list[str] = field(default_factory=list)  # whose mentions timeline it is in
    media_keys: list[str] = field(default_factory=list)
    deleted: bool = False
    source: str = "xsandbox"


@dataclass
class Like:
    seq: int
    user_id: str
    tweet_id: str
    created_at: float


@dataclass
class DmConversation:
    id: str
    participant_ids: list[str]
    group: bool


@dataclass
class DmEvent:
    id: str
    event_type: str  # MessageCreate | ParticipantsJoin | ParticipantsLeave
    dm_conversation_id: str
    created_at: float
    sender_id: str | None = None
    text: str | None = None
    participant_ids: list[str] | None = None
    urls: list[dict] = field(default_factory=list)
    media_keys: list[str] = field(default_factory=list)


@dataclass
class Token:
    access_token: str
    user_id: str
    scopes: list[str]
    created_at: float
    expires_at: float | None  # None: never expires (control-API / demo tokens)
    client_id: str = "sandbox"
    refresh_token: str | None = None
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    used: bool = False


def one_to_one_id(a: str, b: str) -> str:
    """X's 1:1 conversation id: both user ids, numerically smaller first, joined by '-'."""
    lo, hi = sorted([a, b], key=lambda v: (len(v), v))
    return f"{lo}-{hi}"


class Store:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.ids = SnowflakeIds()
        self.clear()

    def clear(self) -> None:
        self.ids.clear()
        self.users: dict[str, User] = {}
        self.usernames: dict[str, str] = {}  # lower-case username -> id
        self.tweets: dict[str, Tweet] = {}
        self.media: dict[str, Media] = {}
        self.mention_index: dict[str, list[int]] = {}  # user id -> sorted tweet ids
        self.texts: dict[tuple[str, str], int] = {}  # (author, text) -> live count, for duplicates
        # Counts a user's public_metrics show, kept as the posts and likes change: every event
        # the Activity API sends carries its users' metrics, and counting them by scanning
        # every post made each event cost more the longer the sandbox ran.
        self.live_posts_by: dict[str, int] = {}  # author id -> posts not deleted
        self.likes_given: dict[str, int] = {}  # user id -> likes kept (of any post)
        self.likes: list[Like] = []
        self.like_seq = 0
        self.conversations: dict[str, DmConversation] = {}
        self.dm_events: dict[str, DmEvent] = {}
        self.dm_index: dict[str, list[int]] = {}  # conversation id -> sorted event ids
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> access token it belongs to
        self.codes: dict[str, AuthCode] = {}
        self.brand_user_id: str | None = None

    # ---- users -----------------------------------------------------------------
    def create_user(self, username: str, name: str | None = None, id: str | None = None,
                    created_at: float | None = None, **profile: Any) -> User:
        username = username.lstrip("@")
        if not username or len(username) > 15 or not username.replace("_", "").isalnum():
            raise StoreError("invalid", f"invalid username: {username!r}")
        if username.lower() in self.usernames:
            raise StoreError("conflict", f"username already taken: {username}")
        ts = self.clock.now() if created_at is None else created_at
        if id is None:
            id = self.ids.make(ts)
        elif id in self.users:
            raise StoreError("conflict", f"user id already taken: {id}")
        else:
            self.ids.reserve(id)
        known = {k: v for k, v in profile.items() if k in User.__dataclass_fields__}
        user = User(id=str(id), username=username, name=name or username, created_at=ts, **known)
        self.users[user.id] = user
        self.usernames[username.lower()] = user.id
        return user

    def update_profile(self, user_id: str, **fields: Any) -> tuple[User, dict[str, tuple[Any, Any]]]:
        """Change a user's profile as they would on X; returns the user and what changed
        (field -> (before, after)). The Activity API observes this for profile.update.*."""
        user = self.resolve_user(user_id)
        changes: dict[str, tuple[Any, Any]] = {}
        for name in ("name", "username", "profile_image_url", "description", "url", "location", "protected"):
            if name not in fields or fields[name] == getattr(user, name):
                continue
            if name == "username":
                new = str(fields[name]).lstrip("@")
                if not new or len(new) > 15 or not new.replace("_", "").isalnum():
                    raise StoreError("invalid", f"invalid username: {new!r}")
                if new.lower() in self.usernames and self.usernames[new.lower()] != user.id:
                    raise StoreError("conflict", f"username already taken: {new}")
                del self.usernames[user.username.lower()]
                self.usernames[new.lower()] = user.id
                fields[name] = new
            changes[name] = (getattr(user, name), fields[name])
            setattr(user, name, fields[name])
        return user, changes

    def user_by_username(self, username: str) -> User | None:
        uid = self.usernames.get(username.lstrip("@").lower())
        return self.users.get(uid) if uid else None

    def resolve_user(self, ref: str | int | None) -> User:
        """Accept a user id, a username or an '@username'."""
        if ref is None:
            raise StoreError("invalid", "user reference missing")
        ref = str(ref)
        user = self.users.get(ref) or self.user_by_username(ref)
        if user is None:
            raise StoreError("not_found", f"unknown user: {ref}")
        return user

    # ---- posts -----------------------------------------------------------------
    def is_duplicate(self, author_id: str, text: str) -> bool:
        return self.texts.get((author_id, text), 0) > 0

    # ---- media -----------------------------------------------------------------
    def add_media(self, kind: str, image_url: str, *, width: int = 1200, height: int = 800,
                  alt_text: str = "", media_key: str | None = None) -> Media:
        """Media to attach to a post or a DM (`media_keys`). `image_url`: where the image is
        served (the photo, or a video's or GIF's still); `{key}` in it is the media key."""
        if kind not in MEDIA_KEY_PREFIX:
            raise StoreError("invalid", f"unknown media type: {kind}")
        key = media_key or f"{MEDIA_KEY_PREFIX[kind]}_{self.ids.make(self.clock.now())}"
        url = image_url.replace("{key}", key)
        media = Media(key, kind, width, height, url=url if kind == "photo" else "",
                      preview_image_url="" if kind == "photo" else url, alt_text=alt_text)
        self.media[key] = media
        return media

    def _media_keys(self, keys: list[str] | None) -> list[str]:
        for key in keys or ():
            if key not in self.media:
                raise StoreError("invalid", f"unknown media key: {key}")
        return list(keys or ())

    def create_tweet(self, author_id: str, text: str, in_reply_to: str | None = None,
                     quote_of: str | None = None, retweet_of: str | None = None,
                     created_at: float | None = None, id: str | None = None,
                     media_keys: list[str] | None = None) -> Tweet:
        author = self.resolve_user(author_id)
        ts = self.clock.now() if created_at is None else created_at
        parent = self._live_tweet(in_reply_to) if in_reply_to else None
        quoted = self._live_tweet(quote_of) if quote_of else None
        retweeted = self._live_tweet(retweet_of) if retweet_of else None
        if retweeted is not None:
            text = f"RT @{self.users[retweeted.author_id].username}: {retweeted.text}"
        if id is None:
            id = self.ids.make(ts)
        elif id in self.tweets:
            raise StoreError("conflict", f"tweet id already taken: {id}")
        else:
            self.ids.reserve(id)
        parsed = parse_text(text, salt=id)
        mentions = []
        for m in parsed.mentions:
            u = self.user_by_username(m["username"])
            mentions.append({**m, "id": u.id} if u else dict(m))
        tweet = Tweet(id=id, author_id=author.id, text=parsed.text, original_text=text, created_at=ts,
                      conversation_id=id, urls=parsed.urls, mentions=mentions, hashtags=parsed.hashtags,
                      media_keys=self._media_keys(media_keys))
        targets = {m["id"] for m in mentions if "id" in m}
        if parent is not None:
            tweet.conversation_id = parent.conversation_id
            tweet.in_reply_to_user_id = parent.author_id
            tweet.referenced.append({"type": "replied_to", "id": parent.id})
            # X puts a reply in the mentions of everyone in the thread it answers
            # (it prefixes their @handles), not only of those typed in the text.
            targets.add(parent.author_id)
            targets.update(parent.mention_ids)
        if quoted is not None:
            tweet.referenced.append({"type": "quoted", "id": quoted.id})
        if retweeted is not None:
            tweet.referenced = [{"type": "retweeted", "id": retweeted.id}]
        targets.discard(author.id)
        tweet.mention_ids = sorted(targets)
        self.tweets[id] = tweet
        for uid in tweet.mention_ids:
            bisect.insort(self.mention_index.setdefault(uid, []), int(id))
        key = (author.id, text)
        self.texts[key] = self.texts.get(key, 0) + 1
        self.live_posts_by[author.id] = self.live_posts_by.get(author.id, 0) + 1
        return tweet

    def _live_tweet(self, tweet_id: str) -> Tweet:
        tweet = self.tweets.get(str(tweet_id))
        if tweet is None:
            raise StoreError("not_found", f"unknown tweet: {tweet_id}")
        if tweet.deleted:
            raise StoreError("deleted", f"tweet deleted: {tweet_id}")
        return tweet

    def get_tweet(self, tweet_id: str) -> Tweet | None:
        tweet = self.tweets.get(tweet_id)
        return None if tweet is None or tweet.deleted else tweet

    def delete_tweet(self, tweet_id: str) -> Tweet:
        tweet = self._live_tweet(tweet_id)
        tweet.deleted = True
        for uid in tweet.mention_ids:
            ids = self.mention_index.get(uid, [])
            i = bisect.bisect_left(ids, int(tweet.id))
            if i < len(ids) and ids[i] == int(tweet.id):
                ids.pop(i)
        key = (tweet.author_id, tweet.original_text)
        self.texts[key] = max(self.texts.get(key, 1) - 1, 0)
        self.live_posts_by[tweet.author_id] -= 1
        return tweet

    def mention_ids_of(self, user_id: str) -> list[int]:
        """Ascending tweet ids (as ints) of live posts mentioning the user."""
        return self.mention_index.get(user_id, [])

    def thread(self, conversation_id: str) -> list[Tweet]:
        return sorted((t for t in self.tweets.values() if t.conversation_id == conversation_id),
                      key=lambda t: int(t.id))

    # ---- likes -----------------------------------------------------------------
    def like(self, user_id: str, tweet_id: str, created_at: float | None = None) -> Like:
        user = self.resolve_user(user_id)
        tweet = self._live_tweet(tweet_id)
        for like in self.likes:
            if like.user_id == user.id and like.tweet_id == tweet.id:
                return like
        self.like_seq += 1
        like = Like(self.like_seq, user.id, tweet.id, self.clock.now() if created_at is None else created_at)
        self.likes.append(like)
        self.likes_given[user.id] = self.likes_given.get(user.id, 0) + 1
        return like

    def unlike(self, user_id: str, tweet_id: str) -> bool:
        before = len(self.likes)
        self.likes = [lk for lk in self.likes if not (lk.user_id == user_id and lk.tweet_id == tweet_id)]
        if len(self.likes) != before:
            self.likes_given[user_id] -= before - len(self.likes)
        return len(self.likes) != before

    def likes_by(self, user_id: str) -> list[Like]:
        """Newest like first (ordered by when the like happened, as X does)."""
        return [lk for lk in reversed(self.likes)
                if lk.user_id == user_id and lk.tweet_id in self.tweets and not self.tweets[lk.tweet_id].deleted]

    # ---- direct messages -------------------------------------------------------
    def _add_event(self, event: DmEvent) -> DmEvent:
        self.dm_events[event.id] = event
        bisect.insort(self.dm_index.setdefault(event.dm_conversation_id, []), int(event.id))
        return event

    def create_group(self, creator_id: str, participant_ids: list[str], text: str | None = None,
                     id: str | None = None, created_at: float | None = None) -> DmConversation:
        creator = self.resolve_user(creator_id)
        members = [creator.id] + [self.resolve_user(p).id for p in participant_ids]
        members = list(dict.fromkeys(members))
        if len(members) < 2:
            raise StoreError("invalid", "a group needs at least two participants")
        ts = self.clock.now() if created_at is None else created_at
        conv_id = id or self.ids.make(ts)
        if conv_id in self.conversations:
            raise StoreError("conflict", f"conversation id already taken: {conv_id}")
        self.ids.reserve(conv_id)
        conv = DmConversation(conv_id, members, group=True)
        self.conversations[conv_id] = conv
        self._add_event(DmEvent(self.ids.make(ts), "ParticipantsJoin", conv_id, ts,
                                sender_id=creator.id, participant_ids=list(members)))
        if text:
            self.send_dm(creator.id, text, conversation_id=conv_id, created_at=ts)
        return conv

    def leave_group(self, user_id: str, conversation_id: str) -> DmEvent:
        conv = self.conversations.get(conversation_id)
        if conv is None or not conv.group or user_id not in conv.participant_ids:
            raise StoreError("not_found", "not a member of that group conversation")
        conv.participant_ids.remove(user_id)
        ts = self.clock.now()
        return self._add_event(DmEvent(self.ids.make(ts), "ParticipantsLeave", conversation_id, ts,
                                       sender_id=user_id, participant_ids=[user_id]))

    def send_dm(self, sender_id: str, text: str, recipient_id: str | None = None,
                conversation_id: str | None = None, created_at: float | None = None,
                media_keys: list[str] | None = None) -> DmEvent:
        sender = self.resolve_user(sender_id)
        ts = self.clock.now() if created_at is None else created_at
        if recipient_id is not None:
            recipient = self.resolve_user(recipient_id)
            if recipient.id == sender.id:
                raise StoreError("invalid", "cannot send a DM to yourself")
            conversation_id = one_to_one_id(sender.id, recipient.id)
            if conversation_id not in self.conversations:
                self.conversations[conversation_id] = DmConversation(
                    conversation_id, sorted([sender.id, recipient.id], key=lambda v: (len(v), v)), group=False)
        if conversation_id is None:
            raise StoreError("invalid", "recipient or conversation required")
        conv = self.conversations.get(conversation_id)
        if conv is None:
            parts = conversation_id.split("-")
            if len(parts) == 2 and sender.id in parts:
                other = parts[1] if parts[0] == sender.id else parts[0]
                return self.send_dm(sender.id, text, recipient_id=other, created_at=created_at,
                                    media_keys=media_keys)
            raise StoreError("not_found", f"unknown conversation: {conversation_id}")
        if sender.id not in conv.participant_ids:
            raise StoreError("forbidden", "sender is not a participant of the conversation")
        event_id = self.ids.make(ts)
        parsed = parse_text(text, salt=event_id)
        return self._add_event(DmEvent(event_id, "MessageCreate", conversation_id, ts, sender_id=sender.id,
                                       text=parsed.text, urls=parsed.urls, media_keys=self._media_keys(media_keys)))

    def conversations_of(self, user_id: str) -> list[DmConversation]:
        return [c for c in self.conversations.values() if user_id in c.participant_ids]

    def dm_event_ids_for(self, user_id: str, conversation_id: str | None = None) -> list[int]:
        """Ascending event ids visible to the user (in one conversation, or all of theirs)."""
        if conversation_id is not None:
            conv = self.conversations.get(conversation_id)
            if conv is None or conv not in self.conversations_of(user_id):
                return []
            return list(self.dm_index.get(conversation_id, []))
        ids: list[int] = []
        for conv in self.conversations_of(user_id):
            ids.extend(self.dm_index.get(conv.id, []))
        ids.sort()
        return ids

    # ---- OAuth tokens ----------------------------------------------------------
    def mint_token(self, user_id: str, scopes: list[str], ttl: float | None, client_id: str = "sandbox",
                   with_refresh: bool = False, access_token: str | None = None) -> Token:
        user = self.resolve_user(user_id)
        now = self.clock.now()
        token = Token(access_token=access_token or secrets.token_urlsafe(40), user_id=user.id,
                      scopes=sorted(set(scopes)), created_at=now,
                      expires_at=None if ttl is None else now + ttl, client_id=client_id)
        if with_refresh:
            token.refresh_token = secrets.token_urlsafe(40)
            self.refresh_tokens[token.refresh_token] = token.access_token
        self.tokens[token.access_token] = token
        return token

    def valid_token(self, access_token: str) -> Token | None:
        token = self.tokens.get(access_token)
        if token is None or token.revoked:
            return None
        if token.expires_at is not None and self.clock.now() >= token.expires_at:
            return None
        return token

    def revoke(self, value: str) -> bool:
        """Revoke an access or refresh token (either kind; X's revoke accepts both)."""
        token = self.tokens.get(value)
        if token is None and value in self.refresh_tokens:
            token = self.tokens.get(self.refresh_tokens.pop(value))
            if token is not None:
                token.refresh_token = None
        if token is None:
            return False
        token.revoked = True
        if token.refresh_token:
            self.refresh_tokens.pop(token.refresh_token, None)
        return True

    # ---- persistence -----------------------------------------------------------
    def dump(self) -> dict:
        return {
            "users": [asdict(u) for u in self.users.values()],
            "tweets": [asdict(t) for t in self.tweets.values()],
            "media": [asdict(m) for m in self.media.values()],
            "likes": [asdict(lk) for lk in self.likes],
            "conversations": [asdict(c) for c in self.conversations.values()],
            "dm_events": [asdict(e) for e in self.dm_events.values()],
            "tokens": [asdict(t) for t in self.tokens.values()],
            "brand_user_id": self.brand_user_id,
        }

    def load(self, data: dict) -> None:
        self.clear()
        for u in data.get("users", []):
            user = User(**u)
            self.users[user.id] = user
            self.usernames[user.username.lower()] = user.id
            self.ids.reserve(user.id)
        for m in data.get("media", []):
            self.media[m["media_key"]] = Media(**m)
        for t in data.get("tweets", []):
            tweet = Tweet(**t)
            self.tweets[tweet.id] = tweet
            self.ids.reserve(tweet.id)
            if not tweet.deleted:
                for uid in tweet.mention_ids:
                    bisect.insort(self.mention_index.setdefault(uid, []), int(tweet.id))
                key = (tweet.author_id, tweet.original_text)
                self.texts[key] = self.texts.get(key, 0) + 1
                self.live_posts_by[tweet.author_id] = self.live_posts_by.get(tweet.author_id, 0) + 1
        self.likes = [Like(**lk) for lk in data.get("likes", [])]
        for lk in self.likes:
            self.likes_given[lk.user_id] = self.likes_given.get(lk.user_id, 0) + 1
        self.like_seq = max((lk.seq for lk in self.likes), default=0)
        for c in data.get("conversations", []):
            conv = DmConversation(**c)
            self.conversations[conv.id] = conv
            self.ids.reserve(conv.id)
        for e in data.get("dm_events", []):
            self._add_event(DmEvent(**e))
            self.ids.reserve(e["id"])
        for t in data.get("tokens", []):
            token = Token(**t)
            self.tokens[token.access_token] = token
            if token.refresh_token and not token.revoked:
                self.refresh_tokens[token.refresh_token] = token.access_token
        self.brand_user_id = data.get("brand_user_id")
