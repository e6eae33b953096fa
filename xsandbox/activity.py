"""The X Activity API in the sandbox: webhooks, subscriptions, events, delivery and faults.

When a post mentions a user or replies to one of their posts, a user likes a post or a DM
arrives, X emits an event to every subscription that matches (`event_type`, `filter.user_id`,
`filter.direction`). Subscriptions naming a webhook get a signed POST to its URL; the others go
out on the app's `GET /2/activity/stream`. Every event is logged with its time, so the stream's
`backfill_minutes` and `POST /2/webhooks/replay` can send it again.

Shapes follow X's spec 2.167, the only one that defines these events' payloads, in every
vocabulary mode (tweet and both modes add 2.159's keys alongside, see `shapes.Mode`): the envelope `{"data": {"event_type", "event_uuid", "filter",
"tag", "payload", "includes"}}`; payload Post for post.*, LikeWithPostAuthor for like.create.
The spec leaves three shapes open, and the sandbox picks: a webhook body is one such envelope,
the dm.received / dm.sent payload is a DM event as `GET /2/dm_events` returns it, and events that
pile up while a webhook is slow come several to a POST.

Batching: X's webhooks batch events that come fast (its Account Activity API documents it:
one POST carries arrays of events, `{"for_user_id", "tweet_create_events": [...]}`); spec 2.167
defines the Activity API's event but no batch of them, so the sandbox sends a batch the way v2
sends any list, `{"data": [event, event, ...]}`, each element the `data` of a single delivery
(its own `includes` inside). A webhook takes at most `deliveries_per_webhook` POSTs at once;
events emitted while all are out wait, and the next free POST takes up to `batch_max_events`
of them. A quick webhook therefore sees one event per POST, shaped as before; a slow one, or
a burst, sees batches. `batch_window_ms` (default 0) makes each POST linger that long for
company, as a sender batching by time would. Faulted deliveries and replays go one by one.

Faults (control API): `drop` (logged, never delivered), `duplicate` (delivered twice),
`out_of_order` (held back `delay_seconds`, default 0.5, so later events overtake it),
`bad_signature` (signed with another secret), `stream_disconnect` (the stream closes instead
of sending the next event, which only backfill brings back).

The store stays plain data: `install` wraps the store's write methods on this sandbox's
instance to observe them, so no X route or control route needs to know about events.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import http.client
import itertools
import json
import logging
import secrets
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from .clock import SnowflakeIds, format_time
from .shapes import USER_FIELDS, Selection, Serializer, Vocabulary
from .store import DmEvent, Like, Tweet
from .webhook_posts import WebhookPosts

log = logging.getLogger("xsandbox.activity")

DEFAULT_CONSUMER_SECRET = "xsandbox-consumer-secret"
DEFAULT_APP_BEARER_TOKEN = "xsandbox-app-bearer-token"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
# X spec 2.167, CreateActivitySubscriptionRequest.event_type.
SPEC_EVENT_TYPES = (
    "profile.update.bio", "profile.update.profile_picture", "profile.update.banner_picture",
    "profile.update.screenname", "profile.update.geo", "profile.update.url", "profile.update.verified_badge",
    "profile.update.affiliate_badge", "profile.update.handle", "news.new", "follow.follow", "follow.unfollow",
    "spaces.start", "spaces.end", "chat.received", "chat.sent", "chat.conversation_join", "dm.sent", "dm.received",
    "dm.indicate_typing", "dm.read", "post.create", "post.delete", "post.mention.create", "like.create",
    "mute.mute", "mute.unmute", "block.block", "block.unblock",
)
# Documented by X (its Activity API docs; shared/x-api/README.md "Real time") and delivered by
# subscriptions, yet absent from the spec's enum: the sandbox accepts them as X's docs say.
# `Activity.refused_event_types` makes it refuse them instead, as a spec-strict X would.
DOCUMENTED_EVENT_TYPES = ("post.reply.create",)
EVENT_TYPES = SPEC_EVENT_TYPES + DOCUMENTED_EVENT_TYPES
FAULT_KINDS = ("drop", "duplicate", "out_of_order", "bad_signature", "stream_disconnect")
MAX_STREAMS = 2  # X: two connections per app
REPLAY_WINDOW_SECONDS = 24 * 3600
# Batching (see the module's docstring). X publishes neither figure; these keep a webhook that
# answers within a few ms at one event per POST up to a few hundred events a second.
DELIVERIES_PER_WEBHOOK = 4
BATCH_MAX_EVENTS = 100
CLOSE = object()  # sentinel put on a stream's queue to end it


@dataclass
class Webhook:
    id: str
    url: str
    created_at: float
    valid: bool = False

    def view(self) -> dict:
        return {"id": self.id, "url": self.url, "valid": self.valid, "created_at": format_time(self.created_at)}


@dataclass
class Subscription:
    id: str
    event_type: str
    user_id: str
    direction: str = ""
    webhook_id: str = ""
    tag: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0

    def view(self) -> dict:
        out: dict = {"subscription_id": self.id, "event_type": self.event_type,
                     "filter": {"user_id": self.user_id}, "created_at": format_time(self.created_at),
                     "updated_at": format_time(self.updated_at)}
        if self.direction:
            out["filter"]["direction"] = self.direction
        if self.webhook_id:
            out["webhook_id"] = self.webhook_id
        if self.tag:
            out["tag"] = self.tag
        return out


@dataclass
class LoggedEvent:
    event_id: str
    event_type: str
    user_id: str
    webhook_id: str  # empty: a stream event
    created_at: float
    body: dict = field(repr=False)


@dataclass
class ActivityFault:
    kind: str
    count: int | None = 1  # None: until cleared
    delay_seconds: float | None = None


class Activity:
    def __init__(self, sandbox) -> None:
        self.sb = sandbox
        self.ids = SnowflakeIds()
        self.consumer_secret = DEFAULT_CONSUMER_SECRET
        self.app_bearer_token = DEFAULT_APP_BEARER_TOKEN
        self.refused_event_types: set[str] = set()
        self.keepalive_seconds = 20.0
        self.delivery_timeout = 10.0
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="xsandbox-webhook")
        self.posts = WebhookPosts()  # kept-alive connections, straight to the URL
        self._lock = threading.Lock()  # deliveries are recorded from the pool's threads
        self.in_flight = 0  # events handed to delivery and not yet answered
        self.configure_batching()
        self.streams: set[asyncio.Queue] = set()
        self.clear()

    def clear(self) -> None:
        self.webhooks: dict[str, Webhook] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.events: list[LoggedEvent] = []
        self.deliveries: list[dict] = []
        self.faults: list[ActivityFault] = []
        self.emitted: set[tuple] = set()
        self.replay_jobs: list[dict] = []
        with self._lock:
            # Events no POST has taken yet are forgotten with their webhook (POSTs out now finish).
            self.in_flight -= sum(len(waiting) for waiting in getattr(self, "waiting", {}).values())
            self.waiting: dict[str, deque[LoggedEvent]] = {}  # per webhook: events no POST has taken yet
            self.posting: dict[str, int] = {}  # per webhook: POSTs out now
            self.lingering: set[str] = set()  # webhooks whose POST waits out batch_window_ms
        self.delivery_ids = itertools.count(1)
        self.close_streams()

    def configure_batching(self, *, deliveries_per_webhook: int = DELIVERIES_PER_WEBHOOK,
                           batch_max_events: int = BATCH_MAX_EVENTS, batch_window_ms: float = 0.0) -> None:
        self.deliveries_per_webhook = max(1, int(deliveries_per_webhook))
        self.batch_max_events = max(1, int(batch_max_events))
        self.batch_window_ms = max(0.0, float(batch_window_ms))

    def describe(self) -> dict:
        with self._lock:
            deliveries = list(self.deliveries)
        return {
            "config": {"consumer_secret": self.consumer_secret, "app_bearer_token": self.app_bearer_token,
                       "keepalive_seconds": self.keepalive_seconds, "delivery_timeout": self.delivery_timeout,
                       "refused_event_types": sorted(self.refused_event_types),
                       "deliveries_per_webhook": self.deliveries_per_webhook,
                       "batch_max_events": self.batch_max_events, "batch_window_ms": self.batch_window_ms},
            "webhooks": [w.view() for w in self.webhooks.values()],
            "subscriptions": [s.view() for s in self.subscriptions.values()],
            "events": len(self.events),
            "deliveries": deliveries,
            "deliveries_in_flight": self.in_flight,
            "open_streams": len(self.streams),
            "faults": [asdict(f) for f in self.faults],
            "replay_jobs": list(self.replay_jobs),
        }

    # ---- observing the store -----------------------------------------------------------
    def install(self) -> None:
        store, sb = self.sb.store, self.sb

        def observe(name: str, after) -> None:
            original = getattr(store, name)

            def wrapped(*args, **kwargs):
                result = original(*args, **kwargs)
                try:
                    after(result)
                except Exception:  # an event bug must never break the X API it observes
                    log.exception("could not emit activity for %s", name)
                return result

            setattr(store, name, wrapped)

        observe("create_tweet", self.on_tweet)
        observe("like", self.on_like)
        observe("send_dm", self.on_dm)
        observe("delete_tweet", self.on_delete)
        observe("update_profile", self.on_profile_update)
        reset = sb.reset

        def reset_with_activity() -> None:
            reset()
            self.clear()
            self.consumer_secret = DEFAULT_CONSUMER_SECRET
            self.app_bearer_token = DEFAULT_APP_BEARER_TOKEN
            self.refused_event_types = set()
            self.configure_batching()

        sb.reset = reset_with_activity

    def on_tweet(self, tweet: Tweet) -> None:
        if ("post", tweet.id) in self.emitted:
            return
        self.emitted.add(("post", tweet.id))
        # A reply to a user's post is both in their mentions (store.create_tweet) and, for
        # post.reply.create, a reply to them: X sends it once per matching subscription. As for
        # mentions, a user answering their own post is not a reply *to* them.
        answered = [tweet.in_reply_to_user_id] if tweet.in_reply_to_user_id not in (None, tweet.author_id) else []
        subs = (self._matching("post.mention.create", tweet.mention_ids)
                + self._matching("post.reply.create", answered)
                + self._matching("post.create", [tweet.author_id]))
        for sub in subs:
            self.emit(sub, self._post_payload(tweet), self._post_includes([tweet]))

    def on_delete(self, tweet: Tweet) -> None:
        """post.delete, payload `PostDeleteActivityResponsePayload` (`id`, `author_id`). The
        spec does not say whose subscriptions hear of it: the sandbox tells the author's and
        those of the users the post mentioned (it left their mentions), as for
        post.mention.create."""
        if ("delete", tweet.id) in self.emitted:
            return
        self.emitted.add(("delete", tweet.id))
        payload = {"id": tweet.id, "author_id": tweet.author_id}
        for sub in self._matching("post.delete", [tweet.author_id, *tweet.mention_ids]):
            self.emit(sub, payload, {})

    # profile.update.* (payload `ProfileUpdateActivityResponsePayload`: `before`, `after`), to
    # the subscriptions filtered on the user who changed their profile.
    PROFILE_EVENTS = {"name": "profile.update.screenname", "username": "profile.update.handle",
                      "profile_image_url": "profile.update.profile_picture", "description": "profile.update.bio",
                      "url": "profile.update.url", "location": "profile.update.geo"}

    def on_profile_update(self, result) -> None:
        user, changes = result
        for name, (before, after) in changes.items():
            event_type = self.PROFILE_EVENTS.get(name)
            if event_type is None:
                continue
            for sub in self._matching(event_type, [user.id]):
                self.emit(sub, {"before": str(before), "after": str(after)}, {})

    def on_like(self, like: Like) -> None:
        if ("like", like.seq) in self.emitted:
            return
        self.emitted.add(("like", like.seq))
        tweet = self.sb.store.tweets[like.tweet_id]
        payload = {"id": self.ids.make(like.created_at), "created_at": format_time(like.created_at),
                   "liked_tweet_id": tweet.id, "tweet_author_id": tweet.author_id,
                   "timestamp_ms": int(like.created_at * 1000)}
        includes = self._post_includes([tweet])
        users = {u["id"]: u for u in includes.get("users", [])}
        liker = self.sb.store.users[like.user_id]
        users.setdefault(liker.id, self._serializer().user(liker, self._selection()))
        includes["users"] = list(users.values())
        # The liked post itself rides along in includes (the payload only names it), under the
        # includes key of every vocabulary the events speak.
        liked = self._post_payload(tweet)
        for v in self._vocabularies():
            posts = [p for p in includes.get(v.includes, []) if p["id"] != tweet.id]
            includes[v.includes] = [liked, *posts]
        for sub in self._matching("like.create", [like.user_id], direction="outbound"):
            self.emit(sub, payload, includes)
        if tweet.author_id != like.user_id:
            for sub in self._matching("like.create", [tweet.author_id], direction="inbound"):
                self.emit(sub, payload, includes)

    def on_dm(self, event: DmEvent) -> None:
        if event.event_type != "MessageCreate" or ("dm", event.id) in self.emitted:
            return
        self.emitted.add(("dm", event.id))
        conversation = self.sb.store.conversations.get(event.dm_conversation_id)
        others = [p for p in (conversation.participant_ids if conversation else []) if p != event.sender_id]
        ser, sel = self._serializer(), self._selection()
        payload = ser.dm_event(event, sel)
        includes = ser.includes_for_dm_events([event], sel)
        for sub in self._matching("dm.received", others):
            self.emit(sub, payload, includes)
        for sub in self._matching("dm.sent", [event.sender_id] if event.sender_id else []):
            self.emit(sub, payload, includes)

    def _matching(self, event_type: str, user_ids: list[str], direction: str = "") -> list[Subscription]:
        wanted = set(user_ids)
        return [s for s in self.subscriptions.values()
                if s.event_type == event_type and s.user_id in wanted
                and (not s.direction or not direction or s.direction == direction)]

    def _vocabularies(self) -> tuple[Vocabulary, ...]:
        return self.sb.mode.activity_vocabularies

    def _serializer(self) -> Serializer:
        return Serializer(self.sb.store, self._vocabularies())

    def _selection(self) -> Selection:
        return _event_selection(self._vocabularies())

    def _post_payload(self, tweet: Tweet) -> dict:
        return self._serializer().tweet(tweet, self._selection())

    def _post_includes(self, tweets: list[Tweet]) -> dict:
        return self._serializer().includes_for_tweets(tweets, self._selection())

    # ---- emitting and delivering ---------------------------------------------------------
    def emit(self, sub: Subscription, payload: dict, includes: dict) -> LoggedEvent:
        now = self.sb.clock.now()
        event_id = self.ids.make(now)
        data: dict = {"event_type": sub.event_type, "event_uuid": event_id, "filter": {"user_id": sub.user_id},
                      "payload": payload}
        if sub.direction:
            data["filter"]["direction"] = sub.direction
        if sub.tag:
            data["tag"] = sub.tag
        if includes:
            data["includes"] = includes
        event = LoggedEvent(event_id, sub.event_type, sub.user_id, sub.webhook_id, now, {"data": data})
        self.events.append(event)
        self.sb.billing.event(sub.event_type, event_id, sub.user_id)
        if sub.webhook_id:
            self._deliver_with_faults(event)
        else:
            self._to_streams(event)
        return event

    def _take_fault(self, kinds: tuple[str, ...]) -> ActivityFault | None:
        for fault in self.faults:
            if fault.kind in kinds:
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def _deliver_with_faults(self, event: LoggedEvent) -> None:
        webhook = self.webhooks.get(event.webhook_id)
        if webhook is None:
            return
        fault = self._take_fault(("drop", "duplicate", "out_of_order", "bad_signature"))
        kind = fault.kind if fault else ""
        if kind == "drop":
            self._record([event], webhook, None, "dropped")
            return
        if not kind:
            self._queue(event, webhook)
            return
        body = json.dumps(event.body).encode()
        secret = "not-" + self.consumer_secret if kind == "bad_signature" else self.consumer_secret
        delay = (fault.delay_seconds if fault and fault.delay_seconds is not None else 0.5) if kind == "out_of_order" \
            else 0.0
        self._deliver(event, webhook, body, secret, delay, kind or "delivered")
        if kind == "duplicate":
            self._deliver(event, webhook, body, secret, 0.05, "duplicate")

    def replay(self, webhook_id: str, start: float, end: float) -> dict:
        job = {"job_id": self.ids.make(self.sb.clock.now()), "created_at": format_time(self.sb.clock.now()),
               "webhook_id": webhook_id, "events": 0}
        webhook = self.webhooks[webhook_id]
        for event in self.events:
            if event.webhook_id == webhook_id and start <= event.created_at <= end:
                job["events"] += 1
                self._deliver(event, webhook, json.dumps(event.body).encode(), self.consumer_secret, 0.0, "replayed")
        self.replay_jobs.append(job)
        return job

    def _queue(self, event: LoggedEvent, webhook: Webhook) -> None:
        """Hand an event to the webhook's POSTs: a free one takes it now, alone; else it waits
        for the next POST to come back and goes out with the others that waited (a POST
        lingering for `batch_window_ms` takes what comes meanwhile)."""
        with self._lock:
            self.in_flight += 1
            out = self.posting.get(webhook.id, 0)
            if out >= self.deliveries_per_webhook or webhook.id in self.lingering:
                self.waiting.setdefault(webhook.id, deque()).append(event)
                return
            self.posting[webhook.id] = out + 1
            if self.batch_window_ms:
                self.lingering.add(webhook.id)
        self.pool.submit(self._post_waiting, webhook, [event])

    def _post_waiting(self, webhook: Webhook, batch: list[LoggedEvent]) -> None:
        """One of the webhook's POSTs: sends `batch`, then, in batches, what waited meanwhile,
        until nothing waits."""
        if self.batch_window_ms:
            time.sleep(self.batch_window_ms / 1000)
            with self._lock:
                self.lingering.discard(webhook.id)
                batch += self._take_waiting(webhook, self.batch_max_events - len(batch))
        while batch:
            try:
                self._send(batch, webhook, delivery_body(batch), self.consumer_secret, 0.0, "delivered")
            except Exception:  # a sender bug must not strand the events behind it
                log.exception("could not deliver %d event(s) to %s", len(batch), webhook.url)
            finally:
                with self._lock:
                    self.in_flight -= len(batch)
                    batch = self._take_waiting(webhook, self.batch_max_events)
                    if not batch:
                        self.posting[webhook.id] = self.posting.get(webhook.id, 1) - 1

    def _take_waiting(self, webhook: Webhook, limit: int) -> list[LoggedEvent]:
        waiting = self.waiting.get(webhook.id)
        return [waiting.popleft() for _ in range(min(len(waiting), limit))] if waiting else []

    def _deliver(self, event: LoggedEvent, webhook: Webhook, body: bytes, secret: str, delay: float,
                 outcome: str) -> None:
        with self._lock:
            self.in_flight += 1
        self.pool.submit(self._post, event, webhook, body, secret, delay, outcome)

    def _post(self, event: LoggedEvent, webhook: Webhook, body: bytes, secret: str, delay: float,
              outcome: str) -> None:
        try:
            self._send([event], webhook, body, secret, delay, outcome)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _send(self, events: list[LoggedEvent], webhook: Webhook, body: bytes, secret: str, delay: float,
              outcome: str) -> None:
        if delay:
            time.sleep(delay)
        started = time.monotonic()
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(body, secret)}
        try:
            # A connection that broke before any answer is tried again once (WebhookPosts.post).
            status = self.posts.post(webhook.url, body, headers, self.delivery_timeout)
            self._record(events, webhook, status, outcome, ms=(time.monotonic() - started) * 1000)
        except (OSError, http.client.HTTPException) as exc:
            self._record(events, webhook, None, outcome, error=type(exc).__name__,
                         ms=(time.monotonic() - started) * 1000)

    def _record(self, events: list[LoggedEvent], webhook: Webhook, status: int | None, outcome: str,
                error: str = "", ms: float | None = None) -> None:
        """One row per event (what became of each), naming the POST that carried it and how many
        events that POST held."""
        with self._lock:
            delivery_id = next(self.delivery_ids)
            at = time.time()
            self.deliveries.extend({
                "event_id": event.event_id, "event_type": event.event_type, "webhook_id": webhook.id,
                "status": status, "outcome": outcome, "error": error, "at": at, "ms": ms,
                "delivery_id": delivery_id, "events_in_delivery": len(events)} for event in events)

    # ---- the stream --------------------------------------------------------------------
    def _to_streams(self, event: LoggedEvent) -> None:
        fault = self._take_fault(("stream_disconnect",)) if self.streams else None
        if fault is not None:
            self.close_streams()
            return
        line = json.dumps(event.body)
        for queue in list(self.streams):
            queue.put_nowait(line)

    def backlog(self, minutes: int) -> list[str]:
        since = self.sb.clock.now() - minutes * 60
        return [json.dumps(e.body) for e in self.events if not e.webhook_id and e.created_at >= since]

    def close_streams(self) -> None:
        for queue in list(getattr(self, "streams", ())):
            queue.put_nowait(CLOSE)

    # ---- webhooks ----------------------------------------------------------------------
    def crc_check(self, url: str) -> bool:
        """X's challenge: GET url?crc_token=..., expecting the HMAC of the token back."""
        token = secrets.token_urlsafe(24)
        try:
            r = requests.get(url, params={"crc_token": token}, timeout=self.delivery_timeout,
                             proxies={"http": "", "https": ""})
            answer = r.json().get("response_token") if r.ok else None
        except (requests.RequestException, ValueError, AttributeError):
            return False
        return isinstance(answer, str) and hmac.compare_digest(answer, sign(token.encode(), self.consumer_secret))

    def new_id(self) -> str:
        return self.ids.make(self.sb.clock.now())


@functools.cache  # nothing changes a Selection once built; building it per event cost as much as serializing the post
def _event_selection(vocabs: tuple[Vocabulary, ...]) -> Selection:
    """What an event's payload and includes carry, in the vocabularies its events speak."""
    return Selection(
        tweet_fields=frozenset(f for v in vocabs for f in v.tweet_fields) - {"public_metrics"},
        user_fields=frozenset(USER_FIELDS) & {"name", "username", "profile_image_url", "verified", "public_metrics"},
        dm_fields=frozenset(f for v in vocabs for f in v.dm_fields) | {
            "sender_id", "participant_ids", "dm_conversation_id", "created_at"},
        expansions=frozenset({"author_id", "entities.mentions.username", "sender_id", "attachments.media_keys"}
                             | {e for v in vocabs for e in v.reference_expansions}),
        media_fields=frozenset({"media_key", "type", "url", "preview_image_url", "width", "height", "alt_text"}),
    )


def delivery_body(events: list[LoggedEvent]) -> bytes:
    """One event as its envelope, `{"data": {...}}`; several as `{"data": [{...}, ...]}`."""
    if len(events) == 1:
        return json.dumps(events[0].body).encode()
    return json.dumps({"data": [event.body["data"] for event in events]}).encode()


def sign(message: bytes, secret: str) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def install(sandbox) -> Activity:
    activity = Activity(sandbox)
    activity.install()
    sandbox.activity = activity
    return activity


def stream_line(line: str) -> bytes:
    return line.encode() + b"\r\n"


def parse_yyyymmddhhmm(value: Any) -> float | None:
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        return None
    from datetime import UTC, datetime

    try:
        return datetime.strptime(value, "%Y%m%d%H%M").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
