"""After a requester is erased, nothing they send later finds its way back to their old,
anonymised tickets: a reply to an old email (In-Reply-To, References, the reply+token
address) opens a new ticket with a new requester, and the old ticket's public page is gone.
The X side (replies in an old conversation, DMs, likes) is in
twitter_channel/tests/test_erasure_starts_afresh.py."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tickets.comments import add_comment
from tickets.links import ticket_link
from tickets.mail.inbound import ingest_email
from tickets.mail.outbound import send_email_reply
from tickets.mail.testing import build_email
from tickets.mail.tokens import reply_address
from tickets.models import Channel, Comment, Identity, Ticket
from tickets.privacy import erase_requester

from .factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

ANN = "Ann Quokkaface <ann.q@example.org>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def thread(django_capture_on_commit_callbacks):
    """Ann wrote, an agent answered by email, Ann answered that; then Ann was erased.
    Returns the old ticket and the Message-IDs of the agent's reply and of Ann's answer."""
    first = ingest_email(build_email(sender=ANN, subject="Printer on fire"))
    ticket = first.ticket
    with django_capture_on_commit_callbacks(execute=True):
        agent_reply = send_email_reply(ticket, "Please unplug it.", author=UserFactory())
    answer = ingest_email(build_email(sender=ANN, subject="Re: Printer on fire", in_reply_to=agent_reply.external_id))
    assert answer.ticket == ticket  # threading works before the erasure
    requester = ticket.requester
    with django_capture_on_commit_callbacks(execute=True):
        erase_requester(requester, by=AdminFactory())
    ticket.refresh_from_db()
    return ticket, agent_reply.external_id, answer.comment.external_id


def assert_starts_afresh(result, old: Ticket) -> None:
    old_count = old.comments.count()
    assert result.ticket is not None and result.ticket.pk != old.pk
    assert result.ticket.follow_up_of_id is None  # a follow-up would point back at the erased ticket
    assert result.ticket.requester_id != old.requester_id
    assert result.ticket.requester.name == "Ann Quokkaface"
    assert Identity.objects.get(value="ann.q@example.org").requester_id == result.ticket.requester_id
    assert old.comments.count() == old_count


def test_a_reply_to_our_old_email_opens_a_new_ticket(thread):
    old, agent_message_id, _ = thread
    result = ingest_email(build_email(sender=ANN, subject="Re: Printer on fire", in_reply_to=agent_message_id,
                                      references=agent_message_id))
    assert_starts_afresh(result, old)


def test_a_reply_referencing_their_own_old_message_opens_a_new_ticket(thread):
    old, _, their_message_id = thread
    result = ingest_email(build_email(sender=ANN, subject="Re: Re: Printer on fire", references=their_message_id))
    assert_starts_afresh(result, old)


def test_a_mail_to_the_old_tickets_reply_address_opens_a_new_ticket(thread):
    old, _, _ = thread
    result = ingest_email(build_email(sender=ANN, to=reply_address(old.pk), subject="About that printer"))
    assert_starts_afresh(result, old)


def test_someone_else_answering_the_old_thread_opens_a_new_ticket_too(thread):
    """The erased ticket takes no new message from outside whoever writes: its thread is gone."""
    old, agent_message_id, _ = thread
    result = ingest_email(build_email(sender="Bob <bob@example.com>", in_reply_to=agent_message_id,
                                      to=reply_address(old.pk)))
    assert result.ticket.pk != old.pk and result.ticket.follow_up_of_id is None


def test_the_old_threads_message_ids_are_no_longer_stored(thread):
    old, agent_message_id, their_message_id = thread
    assert not Comment.objects.filter(external_id__in=[agent_message_id, their_message_id]).exists()
    assert not old.comments.exclude(external_id=None).exists()


def test_the_erased_tickets_public_page_is_gone(client, db):
    requester_ticket = ingest_email(build_email(sender=ANN)).ticket
    Ticket.objects.filter(pk=requester_ticket.pk).update(channel=Channel.X)
    add_comment(requester_ticket, body="We are on it", author_user=UserFactory(), channel=Channel.X)
    path = urlsplit(ticket_link(requester_ticket)).path
    assert client.get(path).status_code == 200

    erase_requester(requester_ticket.requester, by=AdminFactory())

    assert client.get(path).status_code == 404


def test_tickets_of_other_requesters_still_thread(thread, django_capture_on_commit_callbacks):
    other = ingest_email(build_email(sender="Bob <bob@example.com>", subject="Scanner")).ticket
    assert ingest_email(build_email(sender="Bob <bob@example.com>", to=reply_address(other.pk))).ticket == other


def test_the_links_we_sent_for_leaving_an_address_are_gone(client, django_capture_on_commit_callbacks):
    from tickets.links import request_email_link
    from tickets.mail.capture import new_email_request

    ticket = ingest_email(build_email(sender=ANN)).ticket
    email_request = new_email_request(ticket, UserFactory())
    path = urlsplit(request_email_link(email_request)).path
    assert client.get(path).status_code == 200

    erase_requester(ticket.requester, by=AdminFactory())

    assert client.get(path).status_code == 410
