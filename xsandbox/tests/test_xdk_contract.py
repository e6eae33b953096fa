"""Contract: X's own Python SDK, `xdk` 0.10.6 (generated from spec 2.167, typed pydantic models),
drives the running sandbox in every vocabulary mode with zero validation errors and no
dropped stream events.

xdk raises on any answer its models refuse (pydantic's ValidationError) and drops, silently,
any stream line they refuse; so every call below either returns typed objects or fails the test,
and the stream test counts what xdk yields against what the sandbox sent.

Strict tweet mode is spec 2.159: xdk's `post.fields`, `referenced_posts` and the 2.167 keys of
public metrics are not part of it (that mode refuses the parameters with X's 400, which the
negotiation tests rely on), nor are problem types under api.x.com. There xdk runs every call
that does not name them; the "both" mode (what live X speaks, and `make run`'s default) and
the post mode run all of them.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import pytest
import requests

from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN, DEFAULT_CONSUMER_SECRET

from .webhook_receiver import running_receiver

xdk = pytest.importorskip("xdk")
from xdk import Client  # noqa: E402
from xdk.activity.models import CreateSubscriptionRequest  # noqa: E402
from xdk.direct_messages.models import (  # noqa: E402
    CreateByConversationIdRequest,
    CreateByParticipantIdRequest,
)
from xdk.posts.models import CreateRequest as CreatePostRequest  # noqa: E402
from xdk.schemas import ActivityStreamResponse, InvalidRequestProblem, ResourceNotFoundProblem  # noqa: E402
from xdk.streaming import StreamConfig, StreamError  # noqa: E402
from xdk.webhooks.models import CreateRequest as CreateWebhookRequest  # noqa: E402
from xdk.webhooks.models import CreateWebhookReplayJobRequest  # noqa: E402

MODES = ["both", "post", "tweet"]
FULL = ("both", "post")  # the modes that speak xdk's vocabulary
POST_FIELDS = ["author_id", "conversation_id", "created_at", "entities", "in_reply_to_user_id", "lang",
               "public_metrics", "referenced_posts", "edit_controls", "possibly_sensitive", "reply_settings"]
USER_FIELDS = ["created_at", "description", "profile_image_url", "protected", "verified"]
TOO_LONG = ("Your Tweet text is too long. For more information on how Twitter determines text length see "
            "https://github.com/twitter/twitter-text.")


def fields(mode: str) -> dict:
    """What xdk asks for in `mode`: everything 2.167 offers where the sandbox speaks it, the
    names both specs share in strict tweet mode."""
    if mode in FULL:
        return {"post_fields": POST_FIELDS, "user_fields": USER_FIELDS + ["public_metrics"],
                "expansions": ["author_id", "referenced_posts", "in_reply_to_user_id", "entities.mentions.username"]}
    return {"user_fields": USER_FIELDS, "expansions": ["author_id", "in_reply_to_user_id", "entities.mentions.username"]}


@pytest.fixture
def world(sandbox, brand):
    """Mentions over several pages (a thread, a quote, a URL), likes, 1:1 and group DMs, a deleted post."""
    sandbox.configure(rate_limits="unlimited")
    alice = sandbox.create_user("alice", name="Alice", description="hi")
    bob = sandbox.create_user("bob")
    root = sandbox.post_tweet("alice", "@AcmeSupport my order https://example.com/o/1 is late #help")
    answer = sandbox.post_tweet(brand["id"], "@alice sorry!", in_reply_to_tweet_id=root["id"])
    follow = sandbox.post_tweet("alice", "@AcmeSupport thanks", in_reply_to_tweet_id=answer["id"])
    quote = sandbox.post_tweet("bob", "@AcmeSupport look", quote_of=root["id"])
    pings = [sandbox.post_tweet("bob", f"@AcmeSupport ping {i}") for i in range(10)]
    gone = sandbox.post_tweet("bob", "@AcmeSupport oops")
    sandbox.delete_tweet(gone["id"])
    for t in (root, follow, quote, *pings[:4]):
        sandbox.like(brand["id"], t["id"])
    for i in range(3):
        sandbox.send_dm("alice", f"Order {i}?", recipient=brand["id"])
        sandbox.send_dm(brand["id"], f"Looking {i}", recipient="alice")
    group = sandbox.create_group("alice", ["bob", brand["id"]], text="group hello")
    return {"brand": brand, "alice": alice, "bob": bob, "root": root, "gone": gone, "group": group["dm_conversation_id"],
            "mentions": {t["id"] for t in (root, follow, quote, *pings)},
            "likes": {t["id"] for t in (root, follow, quote, *pings[:4])}}


def user_client(sandbox, token: str) -> Client:
    return Client(base_url=sandbox.base_url, access_token=token)


def app_client(sandbox) -> Client:
    return Client(base_url=sandbox.base_url, bearer_token=DEFAULT_APP_BEARER_TOKEN)


def walk(pages) -> list:
    return list(pages)


# ---- reads ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_users_parse(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    x = user_client(sandbox, world["brand"]["token"])
    me = x.users.get_me(user_fields=fields(mode)["user_fields"])
    assert me.data.id == world["brand"]["id"] and me.data.username == "AcmeSupport"
    if mode in FULL:
        assert me.data.public_metrics.post_count >= 1  # 2.167's key, required by xdk
    assert x.users.get_by_id(world["alice"]["id"], user_fields=USER_FIELDS).data.description == "hi"
    assert x.users.get_by_username("bob").data.id == world["bob"]["id"]


@pytest.mark.parametrize("mode", MODES)
def test_mentions_every_page_with_expansions(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    x = user_client(sandbox, world["brand"]["token"])
    pages = walk(x.users.get_mentions(world["brand"]["id"], max_results=5, **fields(mode)))
    ids = [post.id for page in pages for post in page.data]
    assert len(pages) >= 3 and len(ids) == len(set(ids)) and set(ids) == world["mentions"]
    authors = {u.id for page in pages for u in page.includes.users}
    assert {world["alice"]["id"], world["bob"]["id"]} <= authors
    if mode in FULL:
        replies = [p for page in pages for p in page.data if p.referenced_posts]
        assert replies and all(ref.type in ("replied_to", "quoted") for p in replies for ref in p.referenced_posts)
        included = {p.id for page in pages for p in (page.includes.posts or [])}
        assert world["root"]["id"] in included
        assert all(p.public_metrics.repost_count == 0 for page in pages for p in page.data)


@pytest.mark.parametrize("mode", MODES)
def test_liked_posts_every_page(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    x = user_client(sandbox, world["brand"]["token"])
    pages = walk(x.users.get_liked_posts(world["brand"]["id"], max_results=5, **fields(mode)))
    ids = [post.id for page in pages for post in page.data]
    assert len(pages) >= 2 and len(ids) == len(set(ids)) and set(ids) == world["likes"]


@pytest.mark.parametrize("mode", FULL)
def test_lookups_with_a_deleted_post_type_its_partial_error(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    x = user_client(sandbox, world["brand"]["token"])
    many = x.posts.get_by_ids([world["root"]["id"], world["gone"]["id"]], **fields(mode))
    assert [p.id for p in many.data] == [world["root"]["id"]]
    assert isinstance(many.errors[0], ResourceNotFoundProblem) and many.errors[0].value == world["gone"]["id"]
    one = x.posts.get_by_id(world["gone"]["id"])
    assert one.data is None and isinstance(one.errors[0], ResourceNotFoundProblem)
    unknown = x.users.get_by_id("999")
    assert isinstance(unknown.errors[0], ResourceNotFoundProblem) and unknown.errors[0].resource_type == "user"


@pytest.mark.parametrize("mode", MODES)
def test_dm_events_list_conversation_and_participant(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    x = user_client(sandbox, world["brand"]["token"])
    wanted = {"dm_event_fields": ["created_at", "dm_conversation_id", "entities", "event_type", "id", "text"],
              "expansions": ["sender_id", "participant_ids"], "user_fields": fields(mode)["user_fields"]}
    pages = walk(x.direct_messages.get_events(max_results=3, **wanted))
    events = [e for page in pages for e in page.data]
    assert len(pages) >= 3 and len({e.id for e in events}) == len(events) == 8  # 6 messages, group join + hello
    assert {e.event_type for e in events} == {"MessageCreate", "ParticipantsJoin"}
    with_alice = walk(x.direct_messages.get_events_by_participant_id(world["alice"]["id"], **wanted))
    assert sum(len(page.data) for page in with_alice) == 6
    group = walk(x.direct_messages.get_events_by_conversation_id(world["group"], **wanted))
    assert {e.dm_conversation_id for page in group for e in page.data} == {world["group"]}


# ---- writes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_create_and_delete_a_post_and_send_dms(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    x = user_client(sandbox, world["brand"]["token"])
    reply = x.posts.create(CreatePostRequest(text=f"@alice on it ({mode})",
                                             reply={"in_reply_to_tweet_id": world["root"]["id"]}))
    assert reply.data.text == f"@alice on it ({mode})"
    assert x.posts.delete(reply.data.id).data.deleted is True
    dm = x.direct_messages.create_by_participant_id(world["alice"]["id"], CreateByParticipantIdRequest(text="hi"))
    assert dm.data.dm_conversation_id == "-".join(sorted([world["alice"]["id"], world["brand"]["id"]], key=int))
    in_group = x.direct_messages.create_by_conversation_id(world["group"], CreateByConversationIdRequest(text="yo"))
    assert in_group.data.dm_conversation_id == world["group"] and in_group.data.dm_event_id


# ---- the Activity API -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_webhooks_crc_subscriptions_and_replay(sandbox, world, mode):
    sandbox.configure(vocabulary=mode)
    app = app_client(sandbox)
    brand = world["brand"]["id"]
    with running_receiver(DEFAULT_CONSUMER_SECRET) as receiver:
        hook = app.webhooks.create(CreateWebhookRequest(url=receiver.url)).data  # X's CRC on create
        assert hook.valid is True
        listed = app.webhooks.get()
        assert [w.id for w in listed.data] == [hook.id]
        assert app.webhooks.validate(hook.id).data.valid is True  # and on demand
        sub = app.activity.create_subscription(CreateSubscriptionRequest(
            event_type="post.mention.create", filter={"user_id": brand}, webhook_id=hook.id, tag="helpdesk"))
        sub_id = sub.data.subscription.subscription_id
        assert [s.subscription_id for page in walk(app.activity.get_subscriptions()) for s in page.data] == [sub_id]
        post = sandbox.post_tweet("alice", "@AcmeSupport over the webhook")
        delivered = receiver.wait_for(1)
        assert len(delivered) == 1
        event = ActivityStreamResponse.model_validate(delivered[0])
        assert event.data.event_type == "post.mention.create" and event.data.payload.id == post["id"]
        now = sandbox.set_clock()["unix"]
        minute = [datetime.fromtimestamp(t, UTC).strftime("%Y%m%d%H%M") for t in (now - 60, now)]
        job = app.webhooks.create_webhook_replay_job(CreateWebhookReplayJobRequest(
            from_date=minute[0], to_date=minute[1], webhook_id=hook.id))
        assert job.data.job_id
        assert len(receiver.wait_for(2)) == 2  # the replayed delivery
        ActivityStreamResponse.model_validate(receiver.bodies()[1])
        assert app.activity.delete_subscription(sub_id).data.deleted is True
        assert app.webhooks.delete(hook.id).data.deleted is True


@pytest.mark.parametrize("mode", MODES)
def test_activity_stream_every_event_parsed_none_dropped(sandbox, world, mode, caplog):
    sandbox.configure(vocabulary=mode)
    app = app_client(sandbox)
    brand, alice = world["brand"]["id"], world["alice"]["id"]
    for event_type, direction in (("post.mention.create", None), ("like.create", "outbound"),
                                  ("dm.received", None), ("post.create", None)):
        event_filter = {"user_id": alice if event_type == "post.create" else brand}
        if direction:
            event_filter["direction"] = direction
        app.activity.create_subscription(CreateSubscriptionRequest(event_type=event_type, filter=event_filter))
    mention = sandbox.post_tweet("alice", "@AcmeSupport streaming, with a link https://example.com/x")
    sandbox.post_tweet("alice", "@AcmeSupport a reply", in_reply_to_tweet_id=mention["id"])
    sandbox.like(brand, mention["id"])
    sandbox.send_dm("alice", "a DM on the stream", recipient=brand)
    sent = [e["body"] for e in sandbox.activity_events() if not e["webhook_id"]]
    assert len(sent) == 6  # per post of alice: a mention and a post.create; the like; the DM

    received, ended = [], threading.Event()

    def consume() -> None:
        config = StreamConfig(max_retries=0, timeout=2.0, initial_backoff=0.01, jitter=False)
        try:
            for item in app.stream.activity(backfill_minutes=5, stream_config=config):
                received.append(item)
                if len(received) == len(sent):
                    break
        except StreamError:
            pass  # the read timeout after the backlog: what xdk yielded by then is all it will
        finally:
            ended.set()

    with caplog.at_level(logging.DEBUG, logger="xdk.streaming"):
        threading.Thread(target=consume, daemon=True).start()
        assert ended.wait(30)
    refused = [r.getMessage() for r in caplog.records if "Error processing line" in r.getMessage()]
    assert refused == [] and len(received) == len(sent), refused
    assert [r.data.event_uuid for r in received] == [e["data"]["event_uuid"] for e in sent]
    assert {r.data.event_type for r in received} == {"post.mention.create", "like.create", "dm.received", "post.create"}
    like = next(r for r in received if r.data.event_type == "like.create")
    assert like.data.payload.liked_tweet_id == mention["id"]
    assert any(u.public_metrics is None or u.public_metrics.post_count is not None for u in like.data.includes.users)


# ---- errors -----------------------------------------------------------------------------------
def http_error(call) -> requests.Response:
    with pytest.raises(requests.HTTPError) as caught:
        call()
    return caught.value.response


@pytest.mark.parametrize("mode", MODES)
def test_error_cases(sandbox, world, mode):
    sandbox.configure(vocabulary=mode, rate_limits="x")
    x = user_client(sandbox, world["brand"]["token"])
    unauthorized = http_error(lambda: user_client(sandbox, "not-a-token").users.get_me())
    assert unauthorized.status_code == 401 and unauthorized.json()["title"] == "Unauthorized"

    bad = http_error(lambda: walk(x.users.get_mentions(world["brand"]["id"], max_results=1)))
    assert bad.status_code == 400 and bad.json()["errors"][0]["parameters"] == {"max_results": ["1"]}

    x.posts.create(CreatePostRequest(text="We are looking into it"))
    duplicate = http_error(lambda: x.posts.create(CreatePostRequest(text="We are looking into it")))
    assert duplicate.status_code == 403
    assert duplicate.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."

    too_long = http_error(lambda: x.posts.create(CreatePostRequest(text="b" * 281)))
    assert too_long.status_code == 400 and too_long.json()["errors"][0]["message"] == TOO_LONG
    if mode in FULL:  # problem types 2.167 names come under its host, which xdk's models require
        InvalidRequestProblem.model_validate(bad.json())
        InvalidRequestProblem.model_validate(too_long.json())

    sandbox.set_rate_limit("GET /2/users/me", 1)
    x.users.get_me()
    limited = http_error(lambda: x.users.get_me())
    assert limited.status_code == 429 and limited.json()["title"] == "Too Many Requests"
    assert limited.headers["x-rate-limit-limit"] == "1" and limited.headers["x-rate-limit-remaining"] == "0"
    assert 0 < int(limited.headers["x-rate-limit-reset"]) - time.time() <= 900
