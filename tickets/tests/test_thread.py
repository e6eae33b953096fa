"""The ticket page's thread (`tickets.thread`): a page of messages in a fixed handful of
queries, files and earlier versions read only when some message has them."""

from django.core.files.base import ContentFile

from tickets import thread
from tickets.mail.models import EmailAttachment
from tickets.models import Comment, CommentRevision

from .factories import CommentFactory, TicketFactory


def test_plain_messages_cost_one_query_whatever_their_number(db, django_assert_num_queries):
    ticket = TicketFactory()
    CommentFactory.create_batch(30, ticket=ticket)

    with django_assert_num_queries(1):
        messages = thread.messages(Comment.objects.filter(ticket=ticket))

    assert len(messages) == 30 and messages[0].revisions == [] and messages[0].attachments == []


def test_files_and_earlier_versions_add_one_query_each(db, django_assert_num_queries):
    ticket = TicketFactory()
    edited, with_file, *_ = CommentFactory.create_batch(10, ticket=ticket)
    CommentRevision.objects.create(comment=edited, body="before the edit")
    EmailAttachment.objects.create(comment=with_file, file=ContentFile(b"x", name="a.txt"), filename="a.txt", size=1)

    with django_assert_num_queries(3):
        messages = {m.pk: m for m in thread.messages(Comment.objects.filter(ticket=ticket))}

    assert [r.body for r in messages[edited.pk].revisions] == ["before the edit"]
    assert [a.filename for a in messages[with_file.pk].attachments] == ["a.txt"]


def test_a_page_holds_its_messages_oldest_first(db, settings):
    settings.COMMENTS_PER_PAGE = 4
    ticket = TicketFactory()
    bodies = [c.body for c in CommentFactory.create_batch(10, ticket=ticket)]

    newest, first = thread.page_of(ticket, None), thread.page_of(ticket, "1")

    assert [m.body for m in newest.object_list] == bodies[8:] and newest.number == 3
    assert [m.body for m in first.object_list] == bodies[:4] and first.has_next()
