"""Delivery states of outgoing X replies reach the live workspace: sending, then sent or failed."""

import pytest

from live.models import LiveEvent
from tickets.models import Comment
from tickets.tests.factories import UserFactory
from twitter_channel.answering import replies
from twitter_channel.tests.answering_sandbox import *  # noqa: F403
from twitter_channel.tests.answering_sandbox import poll

pytestmark = pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")


def _reply(sb, brand, alice, capture, *, delete_parent=False):
    tweet = sb.post_tweet(alice["id"], "@AcmeHelp my order #123 is late")
    (item,) = poll(brand)
    if delete_parent:
        sb.delete_tweet(tweet["id"])  # X refuses replies to a deleted post
    with capture(execute=True):
        comment = replies.reply_on_x(item.ticket, "We are on it", UserFactory())
    return comment


def _deliveries(comment):
    return [e.data["delivery"] for e in LiveEvent.objects.filter(kind=LiveEvent.Kind.DELIVERY).order_by("pk")
            if e.data["comment"] == comment.pk]


def test_a_sent_reply_publishes_its_delivery(sb, brand, alice, django_capture_on_commit_callbacks):
    comment = _reply(sb, brand, alice, django_capture_on_commit_callbacks)
    assert _deliveries(comment) == [Comment.Delivery.SENDING, Comment.Delivery.SENT]
    # The reply itself arrived as a comment event, queued, before it was sent.
    assert LiveEvent.objects.filter(kind=LiveEvent.Kind.TICKET, data__comment=comment.pk).exists()


def test_a_refused_reply_publishes_its_failure(sb, brand, alice, django_capture_on_commit_callbacks):
    comment = _reply(sb, brand, alice, django_capture_on_commit_callbacks, delete_parent=True)
    assert _deliveries(comment) == [Comment.Delivery.SENDING, Comment.Delivery.FAILED]
