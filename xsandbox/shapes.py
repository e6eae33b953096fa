"""Serializers for v2 objects (post, user, DM event) in X's two vocabularies.

X only sends the fields a request asks for (``tweet.fields``/``post.fields``,
``user.fields``, ``dm_event.fields``) plus a small default set, and puts expanded
objects in ``includes``; this module reproduces that.

A `Mode` is what one sandbox speaks: spec 2.159's tweet vocabulary strictly, spec 2.167's post
vocabulary strictly, or both at once as live X does today (shared/x-api/README.md "The
vocabulary is changing"). A serializer is given the vocabularies its answer speaks: keys a
request names (``referenced_tweets``, ``includes.tweets``) follow the names the request used, and
keys X always sends (edit history, public metrics) come in every spelling of the answer, which
both specs allow (no schema of theirs forbids additional properties).
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import format_time
from .store import DmEvent, Media, Store, Tweet, User


@dataclass(frozen=True)
class Vocabulary:
    name: str
    fields_param: str  # query parameter naming the post fields
    referenced: str  # referenced_tweets | referenced_posts
    edit_history: str  # edit_history_tweet_ids | edit_history_post_ids
    includes: str  # includes.tweets | includes.posts
    tweet_fields: tuple[str, ...]
    tweet_expansions: tuple[str, ...]
    reference_expansions: tuple[str, ...]  # expansions that put the referenced posts in includes
    user_expansions: tuple[str, ...]
    dm_fields: tuple[str, ...]
    dm_expansions: tuple[str, ...]
    posts_count: str = "tweet_count"  # user public_metrics key (2.167: post_count)
    reposts_count: str = "retweet_count"  # post public_metrics key (2.167: repost_count)


_COMMON_POST_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls", "entities", "geo", "id",
    "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "reply_settings", "scopes", "source",
    "suggested_source_links", "suggested_source_links_with_counts", "text", "withheld",
)

# Enums from openapi-2.159.json (tweet) and openapi.json 2.167 (post). 2.167's post.fields
# enum forgets author_id/in_reply_to_user_id/referenced_posts although its Post schema has
# them; clients need them, so they stay accepted.
TWEET = Vocabulary(
    name="tweet", fields_param="tweet.fields",
    referenced="referenced_tweets", edit_history="edit_history_tweet_ids", includes="tweets",
    tweet_fields=tuple(sorted(_COMMON_POST_FIELDS + ("edit_history_tweet_ids", "note_tweet", "referenced_tweets"))),
    tweet_expansions=(
        "article.cover_media", "article.media_entities", "attachments.media_keys",
        "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
        "entities.mentions.username", "geo.place_id", "in_reply_to_user_id",
        "entities.note.mentions.username", "referenced_tweets.id", "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id"),
    reference_expansions=("referenced_tweets.id", "referenced_tweets.id.author_id"),
    user_expansions=("affiliation.user_id", "most_recent_tweet_id", "pinned_tweet_id"),
    dm_fields=("attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id",
               "participant_ids", "referenced_tweets", "sender_id", "text"),
    dm_expansions=("attachments.media_keys", "participant_ids", "referenced_tweets.id", "sender_id"),
)
POST = Vocabulary(
    name="post", fields_param="post.fields",
    referenced="referenced_posts", edit_history="edit_history_post_ids", includes="posts",
    tweet_fields=tuple(sorted(_COMMON_POST_FIELDS + (
        "article_title", "edit_history_post_ids", "matched_media_notes", "note_post",
        "note_request_suggestions", "paid_partnership", "referenced_posts"))),
    tweet_expansions=(
        "article.cover_media", "article.media_entities", "attachments.media_keys",
        "attachments.media_source_tweet", "attachments.poll_ids", "author_id", "edit_history_post_ids",
        "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "referenced_posts", "username"),
    reference_expansions=("referenced_posts",),
    user_expansions=("affiliation", "most_recent_post_id", "pinned_post_id"),
    dm_fields=("attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id", "text"),
    dm_expansions=("attachments.media_keys", "participant_ids", "referenced_posts", "sender_id"),
    posts_count="post_count", reposts_count="repost_count",
)
TWITTER_PROBLEMS = "https://api.twitter.com/2/problems/"  # spec 2.159's problem types
X_PROBLEMS = "https://api.x.com/2/problems/"  # spec 2.167's
# The problem types spec 2.167 names (its Problem discriminator); the others it dropped.
SPEC_2167_PROBLEM_TYPES = frozenset({
    "disallowed-resource", "field-hydration-failure", "field-unauthorized", "internal-error", "invalid-request",
    "not-authorized-for-field", "not-authorized-for-resource", "resource-not-found", "resource-unavailable"})


@dataclass(frozen=True)
class Mode:
    """What the sandbox speaks: which vocabularies requests may use, and how answers are spelled."""

    name: str
    vocabularies: tuple[Vocabulary, ...]  # accepted in requests, spelled in answers
    # The Activity API's events exist only in spec 2.167 (2.159's stream has no post, like or DM
    # payloads), so they carry 2.167's keys in every mode, and the mode's own keys besides.
    activity_vocabularies: tuple[Vocabulary, ...]
    problems_2167_host: bool  # problem types 2.167 names are under api.x.com

    def problem_type(self, kind: str, host: str | None = None) -> str:
        """The `type` URI of problem `kind` ("resource-not-found"): under `host` when the sandbox
        is set to one, else as the mode's spec says. Live X is mid-migration the same way: the
        types 2.167 names moved to api.x.com, the ones it dropped (unsupported-authentication,
        streaming-connection, usage-capped) are still sent under api.twitter.com."""
        if host:
            return host.rstrip("/") + "/2/problems/" + kind
        if self.problems_2167_host and kind in SPEC_2167_PROBLEM_TYPES:
            return X_PROBLEMS + kind
        return TWITTER_PROBLEMS + kind


MODES = {
    "tweet": Mode("tweet", (TWEET,), (POST, TWEET), problems_2167_host=False),
    "post": Mode("post", (POST,), (POST,), problems_2167_host=True),
    "both": Mode("both", (TWEET, POST), (POST, TWEET), problems_2167_host=True),
}

USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
    "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
    "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
    "subscribes_to_you", "subscription", "subscription_type", "url", "username", "verified",
    "verified_followers_count", "verified_type", "withheld",
)


MEDIA_FIELDS = (
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics", "preview_image_url",
    "promoted_metrics", "public_metrics", "type", "url", "variants", "width",
)


@dataclass
class Selection:
    """What one request asked for."""

    tweet_fields: frozenset[str] = frozenset()
    user_fields: frozenset[str] = frozenset()
    dm_fields: frozenset[str] = frozenset()
    expansions: frozenset[str] = frozenset()
    media_fields: frozenset[str] = frozenset()


class Serializer:
    def __init__(self, store: Store, vocabularies: tuple[Vocabulary, ...], viewer_id: str | None = None) -> None:
        self.store = store
        self.vocabs = vocabularies
        self.viewer_id = viewer_id

    # ---- single objects ----------------------------------------------------------
    def tweet(self, t: Tweet, sel: Selection) -> dict:
        f = sel.tweet_fields
        out: dict = {"id": t.id, "text": t.text}
        for v in self.vocabs:
            out[v.edit_history] = [t.id]
        if "author_id" in f or "author_id" in sel.expansions:
            out["author_id"] = t.author_id
        if "created_at" in f:
            out["created_at"] = format_time(t.created_at)
        if "conversation_id" in f:
            out["conversation_id"] = t.conversation_id
        if t.in_reply_to_user_id and ("in_reply_to_user_id" in f or "in_reply_to_user_id" in sel.expansions):
            out["in_reply_to_user_id"] = t.in_reply_to_user_id
        for v in self.vocabs:
            if t.referenced and v.referenced in f:
                out[v.referenced] = [dict(r) for r in t.referenced]
        if "entities" in f:
            entities = {}
            if t.urls:
                entities["urls"] = [dict(u) for u in t.urls]
            if t.mentions:
                entities["mentions"] = [dict(m) for m in t.mentions]
            if t.hashtags:
                entities["hashtags"] = [dict(h) for h in t.hashtags]
            if entities:
                out["entities"] = entities
        if t.media_keys and "attachments" in f:
            out["attachments"] = {"media_keys": list(t.media_keys)}
        if "lang" in f:
            out["lang"] = "en"
        if "possibly_sensitive" in f:
            out["possibly_sensitive"] = False
        if "reply_settings" in f:
            out["reply_settings"] = "everyone"
        if "source" in f:
            out["source"] = t.source
        if "display_text_range" in f:
            out["display_text_range"] = [0, len(t.text)]
        if "edit_controls" in f:
            out["edit_controls"] = {"edits_remaining": 5, "is_edit_eligible": False,
                                    "editable_until": format_time(t.created_at + 3600)}
        if "public_metrics" in f:
            out["public_metrics"] = self._tweet_metrics(t)
        return out

    def _tweet_metrics(self, t: Tweet) -> dict:
        counts = {"replied_to": 0, "quoted": 0, "retweeted": 0}
        for other in self.store.tweets.values():
            if not other.deleted:
                for ref in other.referenced:
                    if ref["id"] == t.id:
                        counts[ref["type"]] += 1
        likes = sum(1 for lk in self.store.likes if lk.tweet_id == t.id)
        metrics = {v.reposts_count: counts["retweeted"] for v in self.vocabs}
        return {**metrics, "reply_count": counts["replied_to"], "like_count": likes, "quote_count": counts["quoted"],
                "bookmark_count": 0, "impression_count": 0}

    def user(self, u: User, sel: Selection) -> dict:
        f = sel.user_fields
        out: dict = {"id": u.id, "name": u.name, "username": u.username}
        if "created_at" in f:
            out["created_at"] = format_time(u.created_at)
        for name in ("description", "location", "url", "profile_image_url"):
            if name in f:
                out[name] = getattr(u, name)
        if "protected" in f:
            out["protected"] = u.protected
        if "verified" in f:
            out["verified"] = u.verified
        if "verified_type" in f:
            out["verified_type"] = "blue" if u.verified else "none"
        if "public_metrics" in f:
            tweets = self.store.live_posts_by.get(u.id, 0)
            likes = self.store.likes_given.get(u.id, 0)
            posts = {v.posts_count: tweets for v in self.vocabs}
            out["public_metrics"] = {"followers_count": 0, "following_count": 0, **posts,
                                     "listed_count": 0, "like_count": likes, "media_count": 0}
        return out

    def dm_event(self, e: DmEvent, sel: Selection) -> dict:
        f = sel.dm_fields
        out: dict = {"id": e.id, "event_type": e.event_type}
        if e.text is not None:
            out["text"] = e.text
        if "created_at" in f:
            out["created_at"] = format_time(e.created_at)
        if "dm_conversation_id" in f:
            out["dm_conversation_id"] = e.dm_conversation_id
        if e.sender_id and ("sender_id" in f or "sender_id" in sel.expansions):
            out["sender_id"] = e.sender_id
        if e.participant_ids and ("participant_ids" in f or "participant_ids" in sel.expansions):
            out["participant_ids"] = list(e.participant_ids)
        if "entities" in f and e.urls:
            out["entities"] = {"urls": [dict(u) for u in e.urls]}
        if e.media_keys and "attachments" in f:
            out["attachments"] = {"media_keys": list(e.media_keys)}
        return out

    def media(self, m: Media, sel: Selection) -> dict:
        """An entry of `includes.media`: media_key and type always, the rest when asked
        (`media.fields`); X sends `url` for photos only, `preview_image_url` for videos and GIFs."""
        f = sel.media_fields
        out: dict = {"media_key": m.media_key, "type": m.type}
        if "url" in f and m.url:
            out["url"] = m.url
        if "preview_image_url" in f and m.preview_image_url:
            out["preview_image_url"] = m.preview_image_url
        if "width" in f:
            out["width"] = m.width
        if "height" in f:
            out["height"] = m.height
        if "alt_text" in f and m.alt_text:
            out["alt_text"] = m.alt_text
        return out

    def _media(self, keys: list[str], sel: Selection) -> list[dict]:
        return [self.media(self.store.media[k], sel) for k in dict.fromkeys(keys) if k in self.store.media]

    # ---- includes ------------------------------------------------------------------
    def includes_for_tweets(self, tweets: list[Tweet], sel: Selection) -> dict:
        ex = sel.expansions
        user_ids: list[str] = []
        ref_tweets: list[Tweet] = []
        # The referenced posts go under the includes key of each vocabulary whose expansion asked.
        ref_keys = [v.includes for v in self.vocabs if ex & set(v.reference_expansions)]
        want_refs = bool(ref_keys)
        for t in tweets:
            if "author_id" in ex:
                user_ids.append(t.author_id)
            if "in_reply_to_user_id" in ex and t.in_reply_to_user_id:
                user_ids.append(t.in_reply_to_user_id)
            if "entities.mentions.username" in ex:
                user_ids.extend(m["id"] for m in t.mentions if "id" in m)
            if want_refs:
                for ref in t.referenced:
                    rt = self.store.get_tweet(ref["id"])
                    if rt is not None:
                        ref_tweets.append(rt)
                        if "referenced_tweets.id.author_id" in ex:
                            user_ids.append(rt.author_id)
        includes: dict = {}
        users = self._users(user_ids, sel)
        if users:
            includes["users"] = users
        if "attachments.media_keys" in ex:
            media = self._media([k for t in tweets for k in t.media_keys], sel)
            if media:
                includes["media"] = media
        if ref_tweets:
            seen: set[str] = set()
            posts = [self.tweet(rt, sel) for rt in ref_tweets if not (rt.id in seen or seen.add(rt.id))]
            for key in ref_keys:
                includes[key] = posts
        return includes

    def includes_for_dm_events(self, events: list[DmEvent], sel: Selection) -> dict:
        ex = sel.expansions
        user_ids: list[str] = []
        for e in events:
            if "sender_id" in ex and e.sender_id:
                user_ids.append(e.sender_id)
            if "participant_ids" in ex and e.participant_ids:
                user_ids.extend(e.participant_ids)
        includes: dict = {}
        users = self._users(user_ids, sel)
        if users:
            includes["users"] = users
        if "attachments.media_keys" in ex:
            media = self._media([k for e in events for k in e.media_keys], sel)
            if media:
                includes["media"] = media
        return includes

    def _users(self, ids: list[str], sel: Selection) -> list[dict]:
        out = []
        for uid in dict.fromkeys(ids):
            u = self.store.users.get(uid)
            if u is not None:
                out.append(self.user(u, sel))
        return out
