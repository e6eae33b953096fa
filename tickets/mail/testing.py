"""Raw messages for tests, built with the standard library the way mail clients build them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def build_email(
    *,
    sender: str = "Ann Smith <ann@example.com>",
    to: str = "support@helpdesk.localhost",
    subject: str = "Printer on fire",
    body: str = "Hello, my printer is on fire.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    html: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def build_bounce(*, original_message_id: str, recipient: str = "ann@example.com") -> bytes:
    """A delivery status notification shaped like Postfix's."""
    return f"""\
Return-Path: <>
From: MAILER-DAEMON@mx.helpdesk.localhost (Mail Delivery System)
To: support@helpdesk.localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-{original_message_id.strip("<>")}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.helpdesk.localhost

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown

--BOUNDARY
Content-Type: text/rfc822-headers

From: support@helpdesk.localhost
To: {recipient}
Subject: [#1] Printer on fire
Message-ID: {original_message_id}

--BOUNDARY--
""".replace("\n", "\r\n").encode()
