import pytest
from django.core import mail

from tickets.comments import add_comment
from tickets.mail.inbound import DUPLICATE, ingest_email
from tickets.mail.models import InboundEmail
from tickets.mail.outbound import send_email_reply
from tickets.mail.testing import build_bounce, build_email
from tickets.mail.tokens import reply_address
from tickets.models import Channel, Comment, Requester, Ticket

from .factories import EmailIdentityFactory, RequesterFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

QUOTED_REPLY = """\
Unplugging worked, thank you!

Best regards,
Ann Smith
ACME Corp

On Tue, 4 Mar 2025 at 10:00, Support <support@helpdesk.localhost> wrote:
> Please unplug it.
"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def requester():
    requester = RequesterFactory(name="Ann Smith")
    EmailIdentityFactory(requester=requester, value="ann@example.com")
    return requester


@pytest.fixture
def agent_reply(requester, django_capture_on_commit_callbacks):
    """A ticket on which an agent has answered by email: the message the requester replies to."""
    ticket = TicketFactory(requester=requester, channel=Channel.EMAIL, status=Ticket.Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        comment = send_email_reply(ticket, "Please unplug it.", author=UserFactory())
    ticket.refresh_from_db()
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.PENDING)
    return comment


def test_unknown_sender_opens_a_new_email_ticket():
    result = ingest_email(build_email(sender="Carl Jones <Carl@Example.org>", subject="Printer on fire"))
    assert result.outcome == InboundEmail.Outcome.NEW_TICKET
    ticket = result.ticket
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Printer on fire"
    assert ticket.status == Ticket.Status.NEW
    assert ticket.requester.name == "Carl Jones"
    assert ticket.requester.identities.get().value == "carl@example.org"
    assert result.comment.body == "Hello, my printer is on fire."
    assert result.comment.author_requester == ticket.requester
    assert result.comment.channel == Channel.EMAIL


def test_known_sender_with_a_new_subject_opens_a_ticket_for_the_same_requester(requester):
    result = ingest_email(build_email(sender="ann@example.com"))
    assert result.ticket.requester == requester
    assert Requester.objects.count() == 1


def test_reply_with_in_reply_to_threads_into_the_ticket_with_the_quote_stripped(agent_reply):
    outgoing = mail.outbox[0].message()
    raw = build_email(
        to=outgoing["Reply-To"],
        subject="Re: " + outgoing["Subject"],
        body=QUOTED_REPLY,
        in_reply_to=outgoing["Message-ID"],
        references=outgoing["Message-ID"],
    )
    result = ingest_email(raw)
    assert result.outcome == InboundEmail.Outcome.THREADED
    assert result.ticket == agent_reply.ticket
    assert result.comment.body == "Unplugging worked, thank you!"
    assert result.ticket.status == Ticket.Status.OPEN  # the requester's answer reopens it
    assert Ticket.objects.count() == 1


def test_reply_threads_by_references_when_in_reply_to_is_unknown(agent_reply):
    raw = build_email(
        body="Another thing",
        in_reply_to="<somebody-else@example.com>",
        references=f"{agent_reply.external_id} <somebody-else@example.com>",
    )
    assert ingest_email(raw).ticket == agent_reply.ticket


def test_reply_without_threading_headers_threads_by_the_reply_to_token(agent_reply):
    raw = build_email(to=reply_address(agent_reply.ticket_id), subject="A brand new subject", body=QUOTED_REPLY)
    result = ingest_email(raw)
    assert result.ticket == agent_reply.ticket
    assert result.comment.body == "Unplugging worked, thank you!"


def test_token_in_delivered_to_also_threads(agent_reply):
    raw = build_email(headers={"Delivered-To": reply_address(agent_reply.ticket_id)})
    assert ingest_email(raw).ticket == agent_reply.ticket


def test_forged_token_opens_a_new_ticket(agent_reply):
    forged = reply_address(agent_reply.ticket_id).replace(f"+{agent_reply.ticket_id}-", "+999-")
    result = ingest_email(build_email(to=forged))
    assert result.outcome == InboundEmail.Outcome.NEW_TICKET
    assert result.ticket != agent_reply.ticket


def test_reply_to_a_closed_ticket_lands_on_a_follow_up(agent_reply):
    Ticket.objects.filter(pk=agent_reply.ticket_id).update(status=Ticket.Status.CLOSED)
    result = ingest_email(build_email(in_reply_to=agent_reply.external_id))
    assert result.ticket.follow_up_of_id == agent_reply.ticket_id


def test_the_whole_original_is_kept(agent_reply):
    raw = build_email(body=QUOTED_REPLY, in_reply_to=agent_reply.external_id)
    result = ingest_email(raw)
    record = InboundEmail.objects.get(comment=result.comment)
    assert record.raw.read() == raw
    assert record.ticket == agent_reply.ticket
    assert record.from_address == "ann@example.com"


def test_duplicate_delivery_adds_nothing():
    raw = build_email(message_id="<once@example.com>")
    first = ingest_email(raw)
    second = ingest_email(raw)
    assert second.outcome == DUPLICATE
    assert Ticket.objects.count() == 1
    assert Comment.objects.count() == 1
    assert first.comment.external_id == "<once@example.com>"


def test_message_without_message_id_is_still_recognised_when_delivered_twice():
    raw = build_email().replace(b"Message-ID:", b"X-Old-Message-ID:")
    ingest_email(raw)
    assert ingest_email(raw).outcome == DUPLICATE
    assert Comment.objects.count() == 1


def test_attachments_are_saved_and_linked_to_the_comment():
    raw = build_email(
        attachments=[
            ("invoice.pdf", "application/pdf", b"%PDF-1.4 fake"),
            ("../../etc/passwd", "text/plain", b"root:x:0:0"),
        ]
    )
    comment = ingest_email(raw).comment
    first, second = comment.email_attachments.all()
    assert (first.filename, first.content_type, first.size) == ("invoice.pdf", "application/pdf", 13)
    assert first.file.read() == b"%PDF-1.4 fake"
    # The name the sender chose is shown; the stored file never leaves the media folder.
    assert second.filename == "../../etc/passwd"
    assert ".." not in second.file.name
    assert second.file.read() == b"root:x:0:0"


def test_message_with_only_an_attachment_gets_a_placeholder_body():
    raw = build_email(body="", attachments=[("photo.png", "image/png", b"\x89PNG")])
    comment = ingest_email(raw).comment
    assert comment.body == "(attachments only)"
    assert comment.email_attachments.count() == 1


def test_html_only_message_is_shown_as_text():
    raw = build_email(body="")
    # Rebuild as HTML only: a client that sends no plain-text part.
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(raw, policy=default)
    msg.set_content("<p>Hello &amp; <b>welcome</b></p>", subtype="html")
    comment = ingest_email(msg.as_bytes()).comment
    assert comment.body == "Hello & welcome"


def test_bounce_marks_the_reply_failed_and_leaves_an_internal_note(agent_reply):
    result = ingest_email(build_bounce(original_message_id=agent_reply.external_id))
    assert result.outcome == InboundEmail.Outcome.BOUNCE
    agent_reply.refresh_from_db()
    assert agent_reply.delivery == Comment.Delivery.FAILED
    assert "5.1.1" in agent_reply.delivery_error and "User unknown" in agent_reply.delivery_error
    note = result.comment
    assert note.ticket == agent_reply.ticket and not note.is_public
    ticket = Ticket.objects.get(pk=agent_reply.ticket_id)
    assert ticket.status == Ticket.Status.PENDING  # not reopened
    assert not Requester.objects.filter(identities__value__startswith="mailer-daemon").exists()


def test_bounce_for_no_known_message_is_kept_but_opens_nothing():
    result = ingest_email(build_bounce(original_message_id="<unknown@helpdesk.localhost>"))
    assert result.outcome == InboundEmail.Outcome.BOUNCE
    assert result.ticket is None
    assert not Ticket.objects.exists()
    assert InboundEmail.objects.get().outcome == InboundEmail.Outcome.BOUNCE


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
    ],
)
def test_auto_reply_is_an_internal_note_that_does_not_reopen(agent_reply, headers):
    Ticket.objects.filter(pk=agent_reply.ticket_id).update(status=Ticket.Status.SOLVED)
    raw = build_email(body="I am out of office until Monday.", in_reply_to=agent_reply.external_id, headers=headers)
    result = ingest_email(raw)
    assert result.outcome == InboundEmail.Outcome.AUTO_REPLY
    assert not result.comment.is_public
    assert result.comment.author_requester is None
    assert "out of office" in result.comment.body
    assert Ticket.objects.get(pk=agent_reply.ticket_id).status == Ticket.Status.SOLVED


def test_auto_submitted_no_is_a_person_writing(agent_reply):
    raw = build_email(in_reply_to=agent_reply.external_id, headers={"Auto-Submitted": "no"})
    assert ingest_email(raw).outcome == InboundEmail.Outcome.THREADED


def test_auto_reply_to_nothing_we_sent_opens_no_ticket():
    result = ingest_email(build_email(headers={"Auto-Submitted": "auto-generated"}))
    assert result.outcome == InboundEmail.Outcome.AUTO_REPLY
    assert not Ticket.objects.exists()
    assert not Requester.objects.exists()


def test_mail_from_our_own_address_is_dropped():
    result = ingest_email(build_email(sender="support@helpdesk.localhost"))
    assert result.outcome == InboundEmail.Outcome.DROPPED
    assert not Ticket.objects.exists()


def test_our_own_message_copied_back_is_a_duplicate(agent_reply):
    raw = build_email(sender="ann@example.com", message_id=agent_reply.external_id)
    assert ingest_email(raw).outcome == DUPLICATE


def test_a_colleague_on_copy_answers_as_themselves(agent_reply):
    raw = build_email(sender="Bob <bob@example.com>", in_reply_to=agent_reply.external_id)
    comment = ingest_email(raw).comment
    assert comment.ticket == agent_reply.ticket
    assert comment.author_requester.identities.get().value == "bob@example.com"


def test_requester_email_on_an_x_ticket_continues_it_by_email(requester):
    ticket = TicketFactory(requester=requester, channel=Channel.X)
    add_comment(ticket, body="tweet", author_requester=requester, channel=Channel.X)
    result = ingest_email(build_email(to=reply_address(ticket.pk), body="Here is my order number: 42"))
    assert result.ticket == ticket
    assert result.comment.channel == Channel.EMAIL



OUTLOOK_REPLY = """\
Yes that works.

________________________________
From: Support <support@helpdesk.localhost>
Sent: Tuesday, March 4, 2025 10:00 AM
To: Ann <ann@example.com>
Subject: [#1] Printer

Please unplug it.
"""

IPHONE_REPLY = """\
Yes that works.

Sent from my iPhone

> On 4 Mar 2025, at 10:00, Support <support@helpdesk.localhost> wrote:
>
> Please unplug it.
"""

GERMAN_REPLY = """\
Yes that works.

Am Di., 4. März 2025 um 10:00 Uhr schrieb Support <support@helpdesk.localhost>:
> Please unplug it.
"""

SIGNATURE_REPLY = """\
Yes that works.
--
Ann Smith | ACME Corp | +1 555 0100
"""


@pytest.mark.parametrize(
    "body", [OUTLOOK_REPLY, IPHONE_REPLY, GERMAN_REPLY, SIGNATURE_REPLY], ids=["outlook", "iphone", "german", "sig"]
)
def test_quoted_history_and_signatures_of_common_clients_are_stripped(agent_reply, body):
    comment = ingest_email(build_email(body=body, in_reply_to=agent_reply.external_id)).comment
    assert comment.body == "Yes that works."


def test_bounce_quoting_the_whole_original_message_is_matched(agent_reply):
    from email.message import EmailMessage

    original = EmailMessage()
    original["Message-ID"] = agent_reply.external_id
    original["Subject"] = "[#1] Printer"
    original.set_content("Please unplug it.")
    report = EmailMessage()
    report["From"] = "postmaster@mail.example.com"
    report["To"] = "support@helpdesk.localhost"
    report["Subject"] = "Delivery Status Notification (Failure)"
    report["Message-ID"] = "<dsn-2@mail.example.com>"
    report.set_content("Delivery to ann@example.com failed permanently.")
    report.add_attachment(original)
    result = ingest_email(report.as_bytes())
    assert result.outcome == InboundEmail.Outcome.BOUNCE
    agent_reply.refresh_from_db()
    assert agent_reply.delivery == Comment.Delivery.FAILED
    assert result.comment.ticket == agent_reply.ticket and not result.comment.is_public


def test_plain_text_bounce_from_mailer_daemon_opens_no_ticket():
    raw = build_email(sender="MAILER-DAEMON@mx.example.net", subject="failure notice", body="Sorry, no mailbox here.")
    result = ingest_email(raw)
    assert result.outcome == InboundEmail.Outcome.BOUNCE
    assert not Ticket.objects.exists()
    assert not Requester.objects.exists()


def test_colleague_on_the_helpdesk_domain_is_not_mistaken_for_ourselves():
    result = ingest_email(build_email(sender="boss@helpdesk.localhost"))
    assert result.outcome == InboundEmail.Outcome.NEW_TICKET


def test_mail_from_a_reply_address_is_dropped():
    result = ingest_email(build_email(sender=reply_address(1)))
    assert result.outcome == InboundEmail.Outcome.DROPPED


@pytest.mark.parametrize("threaded_by", ["in_reply_to", "reply_to_token"])
def test_replies_to_a_merged_tickets_email_land_on_the_ticket_it_was_merged_into(agent_reply, requester, threaded_by):
    from tickets.merging import merge_tickets

    target = TicketFactory(requester=requester, channel=Channel.X, status=Ticket.Status.OPEN)
    merge_tickets(agent_reply.ticket, target, by=UserFactory())
    headers = ({"in_reply_to": agent_reply.external_id} if threaded_by == "in_reply_to"
               else {"to": reply_address(agent_reply.ticket_id), "subject": "A brand new subject"})

    result = ingest_email(build_email(body="Still broken", **headers))

    assert result.outcome == InboundEmail.Outcome.THREADED and result.ticket == target
    assert result.comment.ticket_id == target.pk
    assert not Ticket.objects.filter(follow_up_of=agent_reply.ticket_id).exists()
