"""The sandbox's X Activity API: webhooks with CRC, subscriptions, signed deliveries of the
events X sends (mentions, likes by direction, DMs), replay, and the delivery faults."""

from __future__ import annotations

import time

import pytest

from xsandbox.activity import DEFAULT_APP_BEARER_TOKEN, DEFAULT_CONSUMER_SECRET

from .webhook_receiver import running_receiver, sign

APP = {"Authorization": f"Bearer {DEFAULT_APP_BEARER_TOKEN}"}


@pytest.fixture
def receiver(sandbox):
    with running_receiver(DEFAULT_CONSUMER_SECRET) as r:
        yield r


@pytest.fixture
def alice(sandbox):
    return sandbox.create_user("alice")


@pytest.fixture
def app(sandbox):
    def call(method, path, **kw):
        return sandbox.http.request(method, sandbox.base_url + path, headers=APP, timeout=30, **kw)

    return call


@pytest.fixture
def webhook(app, receiver):
    r = app("POST", "/2/webhooks", json={"url": receiver.url})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def subscribe(x, event_type, user_id, token=None, **extra):
    body = {"event_type": event_type, "filter": {"user_id": user_id, **extra.pop("filter", {})}, **extra}
    return x("POST", "/2/activity/subscriptions", token=token, json=body)


# --- webhooks ----------------------------------------------------------------------------------


def test_creating_a_webhook_runs_the_crc_check(webhook, receiver, app):
    assert webhook["url"] == receiver.url and webhook["valid"] is True
    listed = app("GET", "/2/webhooks").json()
    assert [w["id"] for w in listed["data"]] == [webhook["id"]] and listed["meta"]["result_count"] == 1


def test_webhook_answering_the_crc_wrongly_is_refused(app, receiver):
    receiver.crc_answers_wrong = True

    r = app("POST", "/2/webhooks", json={"url": receiver.url})

    assert r.status_code == 400 and "CRC" in r.text
    assert app("GET", "/2/webhooks").json()["meta"]["result_count"] == 0


def test_revalidating_a_webhook_reports_the_crc_outcome(app, webhook, receiver):
    assert app("PUT", f"/2/webhooks/{webhook['id']}").json() == {"data": {"valid": True}}
    receiver.crc_answers_wrong = True
    assert app("PUT", f"/2/webhooks/{webhook['id']}").json() == {"data": {"valid": False}}


def test_webhooks_need_the_app_token_not_a_user_token(x, receiver):
    assert x("GET", "/2/webhooks").status_code == 403
    assert x("POST", "/2/webhooks", json={"url": receiver.url}).status_code == 403
    assert x("GET", "/2/webhooks", token="nonsense").status_code == 401


# --- subscriptions ---------------------------------------------------------------------------------


def test_subscription_is_created_listed_and_deleted(x, app, brand, webhook):
    r = subscribe(x, "post.mention.create", brand["id"], webhook_id=webhook["id"], tag="helpdesk:1")
    assert r.status_code == 200, r.text
    sub = r.json()["data"]["subscription"]
    assert (sub["event_type"], sub["filter"], sub["webhook_id"], sub["tag"]) == (
        "post.mention.create", {"user_id": brand["id"]}, webhook["id"], "helpdesk:1")

    assert [s["subscription_id"] for s in x("GET", "/2/activity/subscriptions").json()["data"]] == [
        sub["subscription_id"]]
    assert x("DELETE", f"/2/activity/subscriptions/{sub['subscription_id']}").status_code == 403  # app only
    assert app("DELETE", f"/2/activity/subscriptions/{sub['subscription_id']}").json() == {"data": {"deleted": True}}
    assert app("GET", "/2/activity/subscriptions").json() == {"data": []}
    assert app("DELETE", f"/2/activity/subscriptions/{sub['subscription_id']}").status_code == 404


def test_subscription_request_is_validated_as_x_does(x, brand, sandbox, webhook):
    assert subscribe(x, "post.nonsense", brand["id"]).status_code == 400
    assert subscribe(x, "post.mention.create", "123").status_code == 400
    assert subscribe(x, "like.create", brand["id"], filter={"direction": "sideways"}).status_code == 400
    assert subscribe(x, "post.mention.create", brand["id"], webhook_id="42").status_code == 400
    assert subscribe(x, "post.mention.create", brand["id"], extra_field=1).status_code == 400


def test_reply_events_are_accepted_though_absent_from_the_spec_enum(x, brand):
    r = subscribe(x, "post.reply.create", brand["id"])

    assert r.status_code == 200, r.text
    assert r.json()["data"]["subscription"]["event_type"] == "post.reply.create"


def test_sandbox_can_refuse_reply_events_as_a_spec_strict_x_would(x, sandbox, brand):
    sandbox.configure_activity(refused_event_types=["post.reply.create"])

    r = subscribe(x, "post.reply.create", brand["id"])

    assert r.status_code == 400
    assert r.json()["errors"][0]["parameters"] == {"event_type": ["post.reply.create"]}
    assert subscribe(x, "post.mention.create", brand["id"]).status_code == 200
    sandbox.reset()
    assert sandbox.activity_state()["config"]["refused_event_types"] == []


def test_subscription_needs_the_scope_of_its_event_type(x, sandbox, brand):
    token = sandbox.mint_token(brand["id"], scopes=["tweet.read", "users.read"])["access_token"]

    assert subscribe(x, "dm.received", brand["id"], token=token).status_code == 403
    assert subscribe(x, "like.create", brand["id"], token=token).status_code == 403
    assert subscribe(x, "post.mention.create", brand["id"], token=token).status_code == 200


def test_dm_subscription_only_for_the_authenticated_user(x, brand, alice):
    assert subscribe(x, "dm.received", alice["id"]).status_code == 403
    assert subscribe(x, "dm.received", brand["id"]).status_code == 200


# --- events delivered ------------------------------------------------------------------------------


def test_mention_is_delivered_signed_in_the_activity_envelope(x, sandbox, brand, alice, webhook, receiver):
    subscribe(x, "post.mention.create", brand["id"], webhook_id=webhook["id"])

    tweet = sandbox.post_tweet("alice", "@AcmeSupport my order is late")

    [body] = receiver.wait_for(1)
    raw, signature = receiver.deliveries[0]
    assert signature == sign(raw, DEFAULT_CONSUMER_SECRET)
    data = body["data"]
    assert (data["event_type"], data["filter"]) == ("post.mention.create", {"user_id": brand["id"]})
    assert data["event_uuid"].isdigit() and len(data["event_uuid"]) <= 19
    post = data["payload"]
    assert (post["id"], post["author_id"], post["text"]) == (tweet["id"], alice["id"], "@AcmeSupport my order is late")
    assert post["conversation_id"] == tweet["id"] and post["entities"]["mentions"][0]["username"] == "AcmeSupport"
    assert {u["username"] for u in data["includes"]["users"]} >= {"alice"}


def test_reply_event_includes_the_post_it_answers(x, sandbox, brand, alice, webhook, receiver):
    subscribe(x, "post.mention.create", brand["id"], webhook_id=webhook["id"])
    root = sandbox.post_tweet("alice", "@AcmeSupport help")
    reply = sandbox.post_tweet("alice", "anyone?", in_reply_to_tweet_id=root["id"])

    bodies = receiver.wait_for(2)

    by_post = {b["data"]["payload"]["id"]: b["data"] for b in bodies}
    assert by_post[reply["id"]]["payload"]["referenced_tweets"] == [{"type": "replied_to", "id": root["id"]}]
    assert [t["id"] for t in by_post[reply["id"]]["includes"]["tweets"]] == [root["id"]]


def test_reply_to_the_users_post_is_delivered_as_post_reply_create(x, sandbox, brand, alice, webhook, receiver):
    subscribe(x, "post.reply.create", brand["id"], webhook_id=webhook["id"])
    sandbox.create_user("bob")
    ours = sandbox.post_tweet("AcmeSupport", "We are open on Sunday")
    theirs = sandbox.post_tweet("alice", "a post by alice")
    # Not replies to the brand's posts: a plain mention, a reply to alice, the brand answering
    # alice and the brand answering itself.
    sandbox.post_tweet("alice", "@AcmeSupport hello")
    sandbox.post_tweet("bob", "@alice agreed", in_reply_to_tweet_id=theirs["id"])
    sandbox.post_tweet("AcmeSupport", "@alice thanks", in_reply_to_tweet_id=theirs["id"])
    sandbox.post_tweet("AcmeSupport", "and Monday too", in_reply_to_tweet_id=ours["id"])

    reply = sandbox.post_tweet("alice", "great, see you then", in_reply_to_tweet_id=ours["id"])

    [body] = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.deliveries) == 1
    data = body["data"]
    assert (data["event_type"], data["filter"]) == ("post.reply.create", {"user_id": brand["id"]})
    post = data["payload"]
    assert (post["id"], post["author_id"], post["in_reply_to_user_id"]) == (reply["id"], alice["id"], brand["id"])
    assert post["referenced_tweets"] == [{"type": "replied_to", "id": ours["id"]}]
    assert [t["id"] for t in data["includes"]["tweets"]] == [ours["id"]]
    assert {u["username"] for u in data["includes"]["users"]} >= {"alice", "AcmeSupport"}


def test_reply_to_the_brand_comes_as_mention_and_as_reply_with_one_payload(x, sandbox, brand, alice, webhook,
                                                                            receiver):
    subscribe(x, "post.mention.create", brand["id"], webhook_id=webhook["id"])
    subscribe(x, "post.reply.create", brand["id"], webhook_id=webhook["id"])
    ours = sandbox.post_tweet("AcmeSupport", "Any questions about the sale?")

    reply = sandbox.post_tweet("alice", "yes, when does it end?", in_reply_to_tweet_id=ours["id"])

    bodies = receiver.wait_for(2)
    by_type = {b["data"]["event_type"]: b["data"] for b in bodies}
    assert set(by_type) == {"post.mention.create", "post.reply.create"}
    mention, as_reply = by_type["post.mention.create"], by_type["post.reply.create"]
    assert mention["payload"]["id"] == reply["id"]
    assert (as_reply["payload"], as_reply["includes"]) == (mention["payload"], mention["includes"])
    assert as_reply["event_uuid"] != mention["event_uuid"]


def test_likes_are_delivered_by_direction(x, sandbox, brand, alice, webhook, receiver):
    subscribe(x, "like.create", brand["id"], webhook_id=webhook["id"], filter={"direction": "outbound"})
    theirs = sandbox.post_tweet("alice", "a post by alice")
    ours = sandbox.post_tweet("AcmeSupport", "a post by the brand")

    sandbox.like("AcmeSupport", theirs["id"])  # outbound: delivered
    sandbox.like("alice", ours["id"])  # inbound: not subscribed

    [body] = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.deliveries) == 1
    data = body["data"]
    assert data["filter"] == {"user_id": brand["id"], "direction": "outbound"}
    assert (data["payload"]["liked_tweet_id"], data["payload"]["tweet_author_id"]) == (theirs["id"], alice["id"])
    assert [t["id"] for t in data["includes"]["tweets"]] == [theirs["id"]]


def test_dm_received_is_delivered_to_the_recipient_only(x, sandbox, brand, alice, webhook, receiver):
    subscribe(x, "dm.received", brand["id"], webhook_id=webhook["id"])

    sandbox.send_dm("alice", "where is my refund?", recipient="AcmeSupport")
    sandbox.send_dm("AcmeSupport", "looking into it", recipient="alice")

    [body] = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.deliveries) == 1
    payload = body["data"]["payload"]
    assert (payload["event_type"], payload["text"], payload["sender_id"]) == (
        "MessageCreate", "where is my refund?", alice["id"])
    assert payload["dm_conversation_id"] == "-".join(sorted([alice["id"], brand["id"]], key=lambda v: (len(v), v)))


# --- batched deliveries ------------------------------------------------------------------------------


def busy_webhook(sandbox, receiver, **batching) -> None:
    """The webhook takes one POST at a time and holds the first one unanswered, so what comes
    meanwhile has to wait for it."""
    sandbox.configure_activity(deliveries_per_webhook=1, **batching)
    receiver.answering.clear()
    sandbox.post_tweet("alice", "@AcmeSupport first")
    receiver.wait_for(1)


def test_a_quick_webhook_gets_one_event_per_post(sandbox, mentions, receiver):
    for n in range(3):
        sandbox.post_tweet("alice", f"@AcmeSupport {n}")
        receiver.wait_for(n + 1)

    assert [type(body["data"]) for body in receiver.bodies()] == [dict, dict, dict]
    # The sandbox records a delivery once its POST is answered, a moment after the receiver has the body.
    eventually_delivered(sandbox, 3)
    assert [d["events_in_delivery"] for d in sandbox.activity_state()["deliveries"]] == [1, 1, 1]


def test_events_that_come_while_the_webhook_is_busy_go_together_in_its_next_post(sandbox, mentions, receiver):
    busy_webhook(sandbox, receiver)
    posts = [sandbox.post_tweet("alice", f"@AcmeSupport burst {n}") for n in range(3)]

    receiver.answering.set()

    first, batch = receiver.wait_for(2)
    raw, signature = receiver.deliveries[1]
    assert signature == sign(raw, DEFAULT_CONSUMER_SECRET)  # the batch's body as a whole is signed
    assert first["data"]["payload"]["text"] == "@AcmeSupport first"
    assert [data["payload"]["id"] for data in batch["data"]] == [p["id"] for p in posts]
    # Each element is a whole event, as a single delivery's data: its own id, filter and includes.
    assert all(set(data) >= {"event_type", "event_uuid", "filter", "payload", "includes"} for data in batch["data"])
    assert len({data["event_uuid"] for data in batch["data"]}) == 3
    eventually_delivered(sandbox, 4)
    rows = sandbox.activity_state()["deliveries"]
    assert [r["events_in_delivery"] for r in rows] == [1, 3, 3, 3] and len({r["delivery_id"] for r in rows}) == 2
    assert {r["status"] for r in rows} == {200}


def test_a_batch_holds_at_most_batch_max_events(sandbox, mentions, receiver):
    busy_webhook(sandbox, receiver, batch_max_events=2)
    for n in range(5):
        sandbox.post_tweet("alice", f"@AcmeSupport burst {n}")

    receiver.answering.set()

    bodies = receiver.wait_for(4)
    assert [len(body["data"]) if isinstance(body["data"], list) else 1 for body in bodies] == [1, 2, 2, 1]


def test_a_batch_window_lets_a_post_wait_for_company(sandbox, mentions, receiver):
    sandbox.configure_activity(batch_window_ms=1000)

    posts = [sandbox.post_tweet("alice", f"@AcmeSupport {n}") for n in range(2)]

    [body] = receiver.wait_for(1)
    assert [data["payload"]["id"] for data in body["data"]] == [p["id"] for p in posts]


def test_faulted_events_are_delivered_alone(sandbox, mentions, receiver):
    busy_webhook(sandbox, receiver)
    sandbox.add_activity_fault("duplicate")
    sandbox.post_tweet("alice", "@AcmeSupport twice")

    receiver.answering.set()

    _, once, twice = receiver.wait_for(3)
    assert once == twice and isinstance(once["data"], dict)


def test_batching_is_configured_and_reset(sandbox):
    config = sandbox.configure_activity(deliveries_per_webhook=2, batch_max_events=10, batch_window_ms=5)
    assert (config["deliveries_per_webhook"], config["batch_max_events"], config["batch_window_ms"]) == (2, 10, 5.0)

    sandbox.reset()

    config = sandbox.activity_state()["config"]
    assert (config["deliveries_per_webhook"], config["batch_max_events"], config["batch_window_ms"]) == (4, 100, 0.0)


def eventually_delivered(sandbox, events: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while sandbox.activity_state()["deliveries_in_flight"] or len(sandbox.activity_state()["deliveries"]) < events:
        assert time.monotonic() < deadline, sandbox.activity_state()["deliveries"]
        time.sleep(0.02)


# --- faults and replay -------------------------------------------------------------------------------


@pytest.fixture
def mentions(x, brand, alice, webhook):
    subscribe(x, "post.mention.create", brand["id"], webhook_id=webhook["id"])


def test_dropped_delivery_is_logged_but_never_sent(sandbox, mentions, receiver):
    sandbox.add_activity_fault("drop")

    sandbox.post_tweet("alice", "@AcmeSupport one")
    sandbox.post_tweet("alice", "@AcmeSupport two")

    [body] = receiver.wait_for(1)
    time.sleep(0.2)
    assert body["data"]["payload"]["text"] == "@AcmeSupport two"
    assert len(sandbox.activity_events()) == 2
    assert [d["outcome"] for d in sandbox.activity_state()["deliveries"]][0] == "dropped"


def test_duplicate_fault_delivers_one_event_twice(sandbox, mentions, receiver):
    sandbox.add_activity_fault("duplicate")

    sandbox.post_tweet("alice", "@AcmeSupport twice")

    first, second = receiver.wait_for(2)
    assert first == second


def test_bad_signature_fault_signs_with_another_secret(sandbox, mentions, receiver):
    sandbox.add_activity_fault("bad_signature")

    sandbox.post_tweet("alice", "@AcmeSupport forged?")

    receiver.wait_for(1)
    raw, signature = receiver.deliveries[0]
    assert signature.startswith("sha256=") and signature != sign(raw, DEFAULT_CONSUMER_SECRET)


def test_out_of_order_fault_lets_a_later_event_overtake(sandbox, mentions, receiver):
    sandbox.add_activity_fault("out_of_order", delay_seconds=0.3)

    sandbox.post_tweet("alice", "@AcmeSupport first")
    sandbox.post_tweet("alice", "@AcmeSupport second")

    bodies = receiver.wait_for(2)
    assert [b["data"]["payload"]["text"] for b in bodies] == ["@AcmeSupport second", "@AcmeSupport first"]


def test_replay_delivers_a_window_again_dropped_events_included(sandbox, mentions, receiver, app, webhook):
    sandbox.add_activity_fault("drop")
    sandbox.post_tweet("alice", "@AcmeSupport lost in transit")
    time.sleep(0.2)
    assert receiver.deliveries == []
    now = time.gmtime(sandbox.activity_state() and time.time())
    stamp = time.strftime("%Y%m%d%H%M", now)
    earlier = time.strftime("%Y%m%d%H%M", time.gmtime(time.time() - 600))

    r = app("POST", "/2/webhooks/replay", json={"webhook_id": webhook["id"], "from_date": earlier, "to_date": stamp})

    assert r.status_code == 200 and r.json()["data"]["job_id"]
    [body] = receiver.wait_for(1)
    assert body["data"]["payload"]["text"] == "@AcmeSupport lost in transit"


def test_replay_refuses_bad_windows(app, webhook):
    assert app("POST", "/2/webhooks/replay", json={"webhook_id": webhook["id"], "from_date": "2026",
                                                    "to_date": "202601010000"}).status_code == 400
    assert app("POST", "/2/webhooks/replay", json={"webhook_id": "1", "from_date": "202601010000",
                                                    "to_date": "202601010100"}).status_code == 400
