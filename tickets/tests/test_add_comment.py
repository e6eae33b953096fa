from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from tickets.comments import TicketFull, add_comment, retract_comment
from tickets.models import Comment, Ticket

from .factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_cap(settings):
    settings.TICKET_COMMENT_LIMIT = 3
    return 3


def fill(ticket, n):
    for i in range(n):
        add_comment(ticket, body=f"message {i}", author_requester=ticket.requester)


def test_comment_is_counted_on_the_ticket():
    ticket = TicketFactory()
    add_comment(ticket, body="hello", author_requester=ticket.requester)
    ticket.refresh_from_db()
    assert ticket.comment_count == 1
    assert ticket.comments.get().body == "hello"


def test_agent_can_add_the_last_comment_allowed(small_cap):
    ticket = TicketFactory()
    fill(ticket, small_cap - 1)
    add_comment(ticket, body="last one", author_user=UserFactory())
    ticket.refresh_from_db()
    assert ticket.comment_count == small_cap


def test_agent_gets_a_clear_error_past_the_cap(small_cap):
    ticket = TicketFactory()
    fill(ticket, small_cap)
    with pytest.raises(TicketFull, match="limit of 3 comments"):
        add_comment(ticket, body="one too many", author_user=UserFactory())
    assert Comment.objects.filter(ticket=ticket).count() == small_cap


def test_incoming_message_past_the_cap_opens_a_linked_follow_up(small_cap):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    fill(ticket, small_cap)
    comment = add_comment(ticket, body="still there?", author_requester=ticket.requester)
    assert comment.ticket != ticket
    assert comment.ticket.follow_up_of == ticket
    assert comment.ticket.requester == ticket.requester
    assert comment.body == "still there?"


def test_further_messages_go_to_the_same_follow_up(small_cap):
    ticket = TicketFactory()
    fill(ticket, small_cap)
    first = add_comment(ticket, body="a", author_requester=ticket.requester)
    second = add_comment(ticket, body="b", author_requester=ticket.requester)
    assert first.ticket == second.ticket
    assert Ticket.objects.filter(follow_up_of=ticket).count() == 1


def test_agent_public_reply_opens_a_new_ticket():
    ticket = TicketFactory(status=Ticket.Status.NEW)
    add_comment(ticket, body="on it", author_user=UserFactory())
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_internal_note_leaves_a_new_ticket_new():
    ticket = TicketFactory(status=Ticket.Status.NEW)
    add_comment(ticket, body="note", author_user=UserFactory(), is_public=False)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


@pytest.mark.parametrize("status", [Ticket.Status.PENDING, Ticket.Status.SOLVED])
def test_requester_reply_reopens(status):
    ticket = TicketFactory(status=status)
    add_comment(ticket, body="not fixed", author_requester=ticket.requester)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.solved_at is None


def test_closed_ticket_never_reopens_and_gets_a_follow_up():
    ticket = TicketFactory(status=Ticket.Status.CLOSED)
    comment = add_comment(ticket, body="again", author_requester=ticket.requester)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert comment.ticket.follow_up_of == ticket
    assert comment.ticket.status == Ticket.Status.NEW


def test_same_external_message_is_stored_once():
    ticket = TicketFactory()
    first = add_comment(ticket, body="hi", author_requester=ticket.requester, external_source="tweet", external_id="1")
    again = add_comment(ticket, body="hi", author_requester=ticket.requester, external_source="tweet", external_id="1")
    assert first.pk == again.pk
    ticket.refresh_from_db()
    assert ticket.comment_count == 1


class TicketChangedSignalTest(TestCase):
    def test_signal_is_sent_after_commit_with_the_comment(self):
        from tickets.events import ticket_changed

        received = []
        ticket_changed.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
        try:
            ticket = TicketFactory(status=Ticket.Status.PENDING)
            with self.captureOnCommitCallbacks(execute=True):
                comment = add_comment(ticket, body="hi", author_requester=ticket.requester)
        finally:
            ticket_changed.disconnect(dispatch_uid="t")
        assert received[-1]["comment"] == comment
        assert received[-1]["changes"]["status"] == (Ticket.Status.PENDING, Ticket.Status.OPEN)


def test_public_messages_record_when_each_side_last_wrote():
    assignee, colleague = UserFactory(), UserFactory()
    ticket = TicketFactory(assignee=assignee)
    add_comment(ticket, body="internal", author_user=assignee, is_public=False)
    ticket.refresh_from_db()
    assert (ticket.agent_replied_at, ticket.assignee_replied_at) == (None, None)  # a note is no reply
    add_comment(ticket, body="hello", author_requester=ticket.requester)
    add_comment(ticket, body="from a colleague", author_user=colleague)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.requester_replied_at is not None and ticket.agent_replied_at is not None
    assert ticket.assignee_replied_at is None
    add_comment(ticket, body="from the assignee", author_user=assignee)
    ticket.refresh_from_db()
    assert timezone.now() - ticket.assignee_replied_at < timedelta(seconds=5)


def test_retracting_a_comment_takes_its_count_back(db):
    ticket = TicketFactory()
    add_comment(ticket, body="first", author_requester=ticket.requester)
    echo = add_comment(ticket, body="our own post, fetched back", external_source="tweet", external_id="77")
    ticket.refresh_from_db()
    assert ticket.comment_count == 2

    retract_comment(echo)

    ticket.refresh_from_db()
    assert ticket.comment_count == 1
    assert not ticket.comments.filter(external_id="77").exists()
