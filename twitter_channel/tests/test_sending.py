"""Delivering replies to X exactly once, against the sandbox over real HTTP: a public reply
threads under the customer's post, a DM reaches the conversation, X's answers (duplicate,
refusal, 5xx, timeout) are handled, and a retry never posts twice."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from tickets.models import Comment, Ticket
from tickets.tests.factories import UserFactory
from twitter_channel.answering import replies, sending
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem

from .answering_sandbox import poll

State = OutgoingMessage.State
pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


@pytest.fixture
def agent(db):
    return UserFactory(first_name="Dana", last_name="Agent")


@pytest.fixture
def mention_ticket(sb, brand, alice) -> tuple[Ticket, dict]:
    tweet = sb.post_tweet(alice["id"], "@AcmeHelp my order #123 is late")
    (item,) = poll(brand)
    assert item.state == IncomingItem.State.TICKETED
    return item.ticket, tweet


def queue(ticket, body, author, django_capture_on_commit_callbacks, *, run=False, **options) -> OutgoingMessage:
    """Queue a reply as the reply box does; with run=False the send task is not run."""
    with django_capture_on_commit_callbacks(execute=run):
        comment = replies.reply_on_x(ticket, body, author, **options)
    return OutgoingMessage.objects.get(comment=comment)


def brand_replies(sb, tweet_id: str) -> list[dict]:
    return [t for t in sb.timeline()["items"] if t["kind"] == "tweet" and t.get("in_reply_to", {}).get("id") == tweet_id]


def test_public_reply_threads_under_the_customers_post(sb, brand, mention_ticket, agent,
                                                       django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket

    outgoing = queue(ticket, "Sorry Alice, we're checking your order now.", agent,
                     django_capture_on_commit_callbacks, run=True)

    outgoing.refresh_from_db()
    comment = outgoing.comment
    comment.refresh_from_db()
    assert outgoing.state == State.SENT and outgoing.attempts == 1
    assert comment.delivery == Comment.Delivery.SENT and comment.author_user == agent
    assert (comment.external_source, comment.external_id) == (Comment.Source.TWEET, outgoing.x_id)
    assert comment.external_url == f"https://x.com/AcmeHelp/status/{outgoing.x_id}"
    (root,) = sb.thread(tweet["id"])["thread"]
    assert [r["id"] for r in root["replies"]] == [outgoing.x_id]
    assert root["replies"][0]["text"] == "Sorry Alice, we're checking your order now."


def test_reply_is_pending_until_the_task_runs(mention_ticket, agent, django_capture_on_commit_callbacks):
    ticket, _ = mention_ticket

    outgoing = queue(ticket, "On it!", agent, django_capture_on_commit_callbacks)

    assert outgoing.state == State.QUEUED and outgoing.comment.delivery == Comment.Delivery.QUEUED


def test_reply_threads_to_the_requesters_latest_post(sb, brand, alice, mention_ticket, agent,
                                                     django_capture_on_commit_callbacks):
    ticket, first = mention_ticket
    later = sb.post_tweet(alice["id"], "@AcmeHelp any news?", in_reply_to_tweet_id=first["id"])
    poll(brand)
    assert ticket.comments.count() == 2

    outgoing = queue(ticket, "Yes: it ships today.", agent, django_capture_on_commit_callbacks, run=True)

    assert outgoing.in_reply_to_tweet_id == later["id"]
    assert [r["in_reply_to"]["id"] for r in sb.timeline()["items"]] == [later["id"]]


def test_ticket_link_is_appended_when_asked(sb, brand, mention_ticket, agent, settings, client,
                                            django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://help.acme.com"
    ticket, tweet = mention_ticket

    outgoing = queue(ticket, "Follow along here:", agent, django_capture_on_commit_callbacks, run=True,
                     append_link="1")

    body, link = outgoing.text.rsplit(" ", 1)
    assert body == "Follow along here:" and link.startswith("https://help.acme.com/t/")
    # The signed link leads to the requester's page of this ticket.
    assert client.get(urlsplit(link).path).status_code == 200
    (posted,) = brand_replies(sb, tweet["id"])
    # X wraps the link in t.co; the post carries it.
    assert posted["text"].startswith("Follow along here: https://t.co/")


def test_duplicate_content_counts_as_sent(sb, brand, alice, mention_ticket, agent,
                                          django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    # The same text already on X from the brand, in reply to this post (an earlier attempt
    # whose answer was lost, then the row lost its "unknown" mark).
    posted_id = post_as_brand(sb, brand, "We're on it.", tweet["id"])

    outgoing = queue(ticket, "We're on it.", agent, django_capture_on_commit_callbacks, run=True)

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT and outgoing.x_id == posted_id
    assert outgoing.comment.external_url.endswith(posted_id)
    assert len(brand_replies(sb, tweet["id"])) == 1


def test_refusal_fails_with_xs_reason_and_retry_sends_once(sb, brand, mention_ticket, agent,
                                                          django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    sb.delete_tweet(tweet["id"])  # X refuses replies to a deleted post

    outgoing = queue(ticket, "Hello again", agent, django_capture_on_commit_callbacks, run=True)

    outgoing.refresh_from_db()
    comment = Comment.objects.get(pk=outgoing.comment_id)
    assert outgoing.state == State.FAILED and not outgoing.outcome_unknown
    assert comment.delivery == Comment.Delivery.FAILED and comment.delivery_error
    assert sb.timeline()["items"] == []


def test_a_5xx_then_retry_posts_exactly_once(sb, brand, mention_ticket, agent,
                                             django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    sb.add_fault("POST /2/tweets", "status_503")
    outgoing = queue(ticket, "Checking now", agent, django_capture_on_commit_callbacks)

    first = sending.deliver(outgoing.pk)

    outgoing.refresh_from_db()
    assert first.state == State.QUEUED and first.retry_in and outgoing.outcome_unknown
    assert outgoing.comment.delivery == Comment.Delivery.UNKNOWN  # X may have it: looked for first

    second = sending.deliver(outgoing.pk)

    assert second.state == State.SENT
    assert len(brand_replies(sb, tweet["id"])) == 1


def post_as_brand(sb, brand, text: str, in_reply_to: str) -> str:
    """What X did with a request whose answer we never got: the post exists."""
    response = sb.tweepy_client(brand.access_token).create_tweet(text=text, in_reply_to_tweet_id=in_reply_to,
                                                                  user_auth=False)
    return response.data["id"]


def test_5xx_after_x_posted_is_reconciled_not_posted_again(sb, brand, mention_ticket, agent,
                                                           django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    sb.add_fault("POST /2/tweets", "status_503")
    outgoing = queue(ticket, "Your refund is on its way", agent, django_capture_on_commit_callbacks)
    assert sending.deliver(outgoing.pk).state == State.QUEUED
    # X had stored the post before failing to answer (the sandbox's 503 stores nothing, so
    # the post is made the way X would have made it).
    posted_id = post_as_brand(sb, brand, "Your refund is on its way", tweet["id"])

    second = sending.deliver(outgoing.pk)

    outgoing.refresh_from_db()
    assert second.state == State.SENT and outgoing.x_id == posted_id
    assert len(brand_replies(sb, tweet["id"])) == 1


def test_timeout_then_retry_looks_first_and_posts_once(sb, brand, mention_ticket, agent, settings,
                                                       django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    settings.X_SEND_TIMEOUT_SECONDS = 0.3
    sb.add_fault("POST /2/tweets", "slow", delay_seconds=0.8)
    outgoing = queue(ticket, "Looking into it", agent, django_capture_on_commit_callbacks)

    first = sending.deliver(outgoing.pk)
    outgoing.refresh_from_db()
    assert first.state == State.QUEUED and outgoing.outcome_unknown
    assert "did not confirm" in outgoing.error
    time.sleep(1.0)  # the sandbox finishes its slow answer (and, the client gone, stores nothing)
    settings.X_SEND_TIMEOUT_SECONDS = 3.0

    second = sending.deliver(outgoing.pk)

    outgoing.refresh_from_db()
    assert second.state == State.SENT and outgoing.attempts == 2
    assert [r["id"] for r in brand_replies(sb, tweet["id"])] == [outgoing.x_id]


def test_failed_then_retry_button_does_not_double_post(sb, brand, mention_ticket, agent, settings,
                                                       django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    settings.X_SEND_MAX_ATTEMPTS = 1
    sb.add_fault("POST /2/tweets", "status_500")
    outgoing = queue(ticket, "Fixed on our side", agent, django_capture_on_commit_callbacks, run=True)
    outgoing.refresh_from_db()
    assert outgoing.state == State.FAILED and outgoing.outcome_unknown
    assert outgoing.comment.delivery == Comment.Delivery.FAILED
    post_as_brand(sb, brand, "Fixed on our side", tweet["id"])  # X had posted it after all

    with django_capture_on_commit_callbacks(execute=True):
        assert sending.retry(outgoing)

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT
    assert Comment.objects.get(pk=outgoing.comment_id).delivery == Comment.Delivery.SENT
    assert len(brand_replies(sb, tweet["id"])) == 1


def test_worker_dying_mid_send_is_looked_up_before_sending_again(sb, brand, mention_ticket, agent, settings,
                                                                  django_capture_on_commit_callbacks):
    ticket, tweet = mention_ticket
    outgoing = queue(ticket, "We have escalated this", agent, django_capture_on_commit_callbacks)
    # The worker claimed the message and posted, then died before recording the answer.
    assert sending._claim(outgoing.pk) is not None
    post_as_brand(sb, brand, "We have escalated this", tweet["id"])
    # Another worker right now steps aside: the attempt may still be in flight.
    assert sending.deliver(outgoing.pk).state == State.SENDING
    settings.X_SEND_STALE_SECONDS = 0

    with django_capture_on_commit_callbacks(execute=True):
        assert sending.retry(outgoing)

    outgoing.refresh_from_db()
    assert outgoing.state == State.SENT and outgoing.attempts == 1
    assert len(brand_replies(sb, tweet["id"])) == 1


def test_dm_reply_reaches_the_conversation_and_its_echo_is_matched(sb, brand, alice, agent,
                                                                   django_capture_on_commit_callbacks):
    sb.send_dm(alice["id"], "Hi, my account is locked", recipient=brand.user_id)
    (item,) = poll(brand, "dms")
    ticket = item.ticket
    assert ticket.channel == "x_dm"

    outgoing = queue(ticket, "We unlocked it, try again", agent, django_capture_on_commit_callbacks, run=True)

    outgoing.refresh_from_db()
    comment = Comment.objects.get(pk=outgoing.comment_id)
    assert outgoing.kind == OutgoingMessage.Kind.DM and outgoing.state == State.SENT
    assert (comment.external_source, comment.external_id) == (Comment.Source.DM, outgoing.x_id)
    dms = [i for i in sb.timeline()["items"] if i["kind"] == "dm"]
    assert [(d["id"], d["dm_conversation_id"]) for d in dms] == [(outgoing.x_id, item.conversation_key)]

    # The next DM poll brings our own message back: it is matched to the comment.
    (echo,) = poll(brand, "dms")
    assert echo.kind == IncomingItem.Kind.OWN_DM and echo.comment_id == comment.pk
    assert Ticket.objects.count() == 1 and ticket.comments.count() == 2


def test_tweet_echo_is_matched_to_the_comment_not_a_new_ticket(sb, brand, mention_ticket, agent,
                                                               django_capture_on_commit_callbacks):
    from twitter_channel.intake import conversion

    ticket, tweet = mention_ticket
    outgoing = queue(ticket, "Thanks for waiting", agent, django_capture_on_commit_callbacks, run=True)
    outgoing.refresh_from_db()
    echo = IncomingItem.objects.create(account=brand, kind=IncomingItem.Kind.OWN_TWEET, x_id=outgoing.x_id,
                                       author_x_id=brand.user_id, text="Thanks for waiting",
                                       in_reply_to_id=tweet["id"], conversation_key=tweet["id"])

    conversion.convert_item_by_id(echo.pk)

    echo.refresh_from_db()
    assert echo.comment_id == outgoing.comment_id and echo.ticket_id == ticket.pk
    assert Ticket.objects.count() == 1 and ticket.comments.count() == 2


def test_echo_stored_before_the_id_was_known_is_merged_into_our_comment(sb, brand, mention_ticket, agent,
                                                                        django_capture_on_commit_callbacks):
    from twitter_channel.intake import conversion

    ticket, tweet = mention_ticket
    sb.add_fault("POST /2/tweets", "status_503")
    outgoing = queue(ticket, "Shipped!", agent, django_capture_on_commit_callbacks)
    sending.deliver(outgoing.pk)  # no answer from X, which posted it all the same
    posted = {"id": post_as_brand(sb, brand, "Shipped!", tweet["id"])}
    # The poll saw the post first: conversion added it as the brand's comment on the thread.
    echo = IncomingItem.objects.create(account=brand, kind=IncomingItem.Kind.OWN_TWEET, x_id=posted["id"],
                                       author_x_id=brand.user_id, text="Shipped!", in_reply_to_id=tweet["id"],
                                       conversation_key=tweet["id"])
    conversion.convert_item_by_id(echo.pk)
    assert ticket.comments.count() == 3

    sending.deliver(outgoing.pk)

    echo.refresh_from_db()
    assert echo.comment_id == outgoing.comment_id
    assert list(ticket.comments.values_list("external_id", flat=True)) == [tweet["id"], posted["id"]]
    ticket.refresh_from_db()
    assert ticket.comment_count == 2


def test_business_rules_reply_to_requester_uses_the_same_path(sb, brand, mention_ticket,
                                                              django_capture_on_commit_callbacks):
    from tickets.outbound import reply_to_requester

    ticket, tweet = mention_ticket

    with django_capture_on_commit_callbacks(execute=True):
        comment = reply_to_requester(ticket, "Thanks for reaching out, we'll get back to you soon.")

    comment.refresh_from_db()
    assert comment.delivery == Comment.Delivery.SENT and comment.author_user is None
    assert len(brand_replies(sb, tweet["id"])) == 1
