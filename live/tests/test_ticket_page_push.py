"""A ticket page hears new comments, property changes and delivery states as they happen."""

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.events import announce_delivery
from tickets.lifecycle import update_ticket
from tickets.models import Comment
from tickets.tests.factories import RequesterFactory
from tickets.tests.ui_fixtures import *  # noqa: F403

from .helpers import first_of, in_db, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def _settle(comment, delivery):
    with transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(delivery=delivery)
        announce_delivery(comment.pk, comment.ticket_id, delivery)


def test_ticket_page_gets_comments_changes_and_delivery_states(agent, admin_user):
    ticket = open_ticket_with_comment(requester=RequesterFactory(), subject="Parcel", body="where?").ticket
    first = ticket.comments.get()

    async def scenario():
        socket = await open_socket(agent, page="ticket", ticket=ticket.pk, last_comment=first.pk)
        await first_of(socket, "ticket")
        reply = await in_db(add_comment)(ticket, body="Sent today", author_user=admin_user,
                                         delivery=Comment.Delivery.QUEUED)
        with_comment = await first_of(socket, "ticket")
        await in_db(update_ticket)(ticket, status="pending", actor=admin_user)
        changed = await first_of(socket, "ticket")
        await in_db(_settle)(reply, Comment.Delivery.SENT)
        delivered = await first_of(socket, "ticket")
        await socket.disconnect()
        return reply, with_comment, changed, delivered

    reply, with_comment, changed, delivered = async_to_sync(scenario)()
    [comment] = with_comment["comments"]
    assert comment["id"] == reply.pk and "Sent today" in comment["html"] and comment["agent"] == admin_user.pk
    assert {"comment": reply.pk, "delivery": "queued", "label": "Queued", "error": ""} in with_comment["deliveries"]
    assert changed["properties"]["status"] == "pending" and changed["changed_by"] == str(admin_user)
    assert changed["comments"] == []  # not sent twice
    assert {"comment": reply.pk, "delivery": "sent", "label": "Sent", "error": ""} in delivered["deliveries"]
