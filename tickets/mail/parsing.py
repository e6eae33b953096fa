"""Raw RFC 822 bytes in, a small typed `ParsedEmail` out. The only module that digs into
`email.message` objects; the rest of the code reads the dataclass.

Whatever the bytes, what comes out can be stored: the message is capped first (`caps`), NUL
characters (which PostgreSQL keeps in no text column) and lone surrogates are taken out of
every string, and fields are cut to their column's size. `changes` says what was altered, in
words an agent can read.
"""

from __future__ import annotations

import email
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.html import strip_tags
from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

from .caps import cap_message

# Every language whose "On … wrote:" headers and signatures the parser knows ("david" is a
# test fixture of the library, not a language).
REPLY_LANGUAGES = [code for code in MAIL_LANGUAGES if code != "david"]

# A msg-id is "<left@right>"; this only splits a header holding several of them.
MSG_ID = re.compile(r"<[^<>\s]+>")
AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk"}
DAEMON_SENDERS = {"mailer-daemon", "postmaster"}
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
# Characters no text column takes: NUL, and halves of surrogate pairs (undecodable bytes).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Column sizes of what the parsed message is stored in (Requester.name, Ticket.subject, ...).
NAME_LENGTH, SUBJECT_LENGTH, FILENAME_LENGTH = 200, 255, 255
ADDRESS_LENGTH = 254  # RFC 5321's limit on a forward path, and Identity.value's size


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    text: str  # the whole text body, quoted history included
    reply_text: str  # what the sender wrote this time: no quotes, no signature
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    is_bounce: bool = False
    is_auto_reply: bool = False
    bounce_reason: str = ""
    # Message-IDs of the message that bounced, from the report's copy of it.
    bounced_message_ids: list[str] = field(default_factory=list)
    # What was altered to make the message storable (caps, characters removed), for the agent.
    changes: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Ids of earlier messages this one answers, the direct parent first."""
        return list(dict.fromkeys([*self.in_reply_to, *reversed(self.references)]))


def parse_email(raw: bytes) -> ParsedEmail:
    capped = cap_message(raw)
    msg = email.message_from_bytes(capped.raw, policy=default_policy)
    changes = capped.changes
    from_name, from_address = _first_address(msg, "From")
    from_address = _checked_address(from_address, changes)
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = _text_of(body_part) if body_part is not None else ""
    is_bounce = _is_bounce(msg, from_address)
    parsed = ParsedEmail(
        message_id=_message_id(msg, raw),
        from_address=from_address,
        from_name=_cut(from_name, NAME_LENGTH, "sender's name", changes),
        subject=_cut(" ".join(str(msg.get("Subject", "")).split()), SUBJECT_LENGTH, "subject", changes),
        text=text,
        reply_text=_latest_reply(text),
        in_reply_to=_ids(msg, "In-Reply-To"),
        references=_ids(msg, "References"),
        recipients=_recipients(msg, changes),
        is_bounce=is_bounce,
        is_auto_reply=not is_bounce and _is_auto_reply(msg),
        changes=changes,
    )
    if is_bounce:
        parsed.bounce_reason = _bounce_reason(msg)
        parsed.bounced_message_ids = _bounced_message_ids(msg)
    else:
        parsed.attachments = _attachments(msg, body_part)
    _make_storable(parsed)
    return parsed


def _checked_address(address: str, changes: list[str]) -> str:
    """The sender's address lower-cased, or "" when it is no address we could write back to."""
    address = address.strip().lower()
    if not address:
        return ""
    try:
        if len(address) > ADDRESS_LENGTH:  # Django's validator lets up to 320 through
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError:
        changes.append(f"The sender address is not a valid address: {_printable(address)[:80]!r}.")
        return ""
    return address


def _recipients(msg: Message, changes: list[str]) -> list[str]:
    limit = settings.INBOUND_EMAIL_MAX_RECIPIENTS
    found: list[str] = []
    for name in RECIPIENT_HEADERS:
        for _, address in _addresses(msg, name):
            if address:
                found.append(address.lower())
        if len(found) > limit:
            changes.append(f"The message names more than {limit} recipients; only the first {limit} were read.")
            return found[:limit]
    return found


def _cut(value: str, length: int, what: str, changes: list[str]) -> str:
    if len(value) > length:
        changes.append(f"The {what} was {len(value)} characters long; it was cut to {length}.")
    return value[:length]


def _make_storable(parsed: ParsedEmail) -> None:
    """Take NUL characters and lone surrogates out of every string, saying where they were."""
    where = []
    for name, what in (
        ("message_id", "Message-ID"), ("from_address", "sender address"), ("from_name", "sender's name"),
        ("subject", "subject"), ("text", "body"), ("reply_text", None), ("bounce_reason", "bounce report"),
    ):
        value = getattr(parsed, name)
        if UNSTORABLE.search(value):
            setattr(parsed, name, _printable(value))
            if what:
                where.append(what)
    for name in ("in_reply_to", "references", "recipients", "bounced_message_ids"):
        setattr(parsed, name, [_printable(value) for value in getattr(parsed, name)])
    for index, attachment in enumerate(parsed.attachments):
        if UNSTORABLE.search(attachment.filename) or UNSTORABLE.search(attachment.content_type):
            parsed.attachments[index] = Attachment(
                _printable(attachment.filename), _printable(attachment.content_type), attachment.content
            )
            where.append(f"name of attachment {index + 1}")
    if where:
        parsed.changes.append(f"NUL or undecodable characters were removed from the {', '.join(where)}.")


def _printable(value: str) -> str:
    return UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    return getaddresses([str(value) for value in msg.get_all(name, [])])


def _first_address(msg: Message, name: str) -> tuple[str, str]:
    found = _addresses(msg, name)
    return found[0] if found else ("", "")


def _ids(msg: Message, name: str) -> list[str]:
    return MSG_ID.findall(" ".join(str(value) for value in msg.get_all(name, [])))


def _message_id(msg: Message, raw: bytes) -> str:
    found = _ids(msg, "Message-ID")
    if found:
        return found[0][:255]
    # No Message-ID (rare, but some scripts send such mail): the content's hash stands in,
    # so the same message delivered twice is still recognised.
    return hash_message_id(raw)


def hash_message_id(raw: bytes) -> str:
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown or lying charset
        content = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html.unescape(strip_tags(content))
    return content.replace("\r\n", "\n").strip()


def _latest_reply(text: str) -> str:
    if not text:
        return ""
    replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text).replies
    latest = replies[0].body if replies else ""
    # A message that is all quote (or that the parser cannot split) is shown whole rather
    # than as an empty comment.
    return latest or text


def _is_bounce(msg: Message, from_address: str) -> bool:
    if msg.get_content_type() == "multipart/report":
        return True
    if from_address.partition("@")[0].lower() in DAEMON_SENDERS:
        return True
    # The MTA writes the envelope sender into Return-Path; "<>" is the null sender that
    # delivery status notifications use so that they cannot bounce in turn.
    return str(msg.get("Return-Path", "")).strip() == "<>"


def _is_auto_reply(msg: Message) -> bool:
    auto_submitted = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return True
    return str(msg.get("Precedence", "")).strip().lower() in AUTO_PRECEDENCE


def _bounce_reason(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        lines = []
        # The first block describes the reporting MTA, the others one recipient each.
        for block in part.get_payload()[1:] or part.get_payload():
            recipient = str(block.get("Final-Recipient", "")).rpartition(";")[2].strip()
            status = str(block.get("Status", "")).strip()
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            lines.append(" ".join(bit for bit in (recipient, status, diagnostic) if bit))
        if any(lines):
            return "; ".join(line for line in lines if line)[:1000]
    return str(msg.get("Subject", "Undelivered mail"))[:1000]


def _bounced_message_ids(msg: Message) -> list[str]:
    ids = [*_ids(msg, "In-Reply-To"), *_ids(msg, "References")]
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            original = part.get_payload()[0]
            ids += _ids(original, "Message-ID")
        elif kind == "text/rfc822-headers":
            headers = BytesHeaderParser(policy=default_policy).parsebytes(part.get_payload(decode=True) or b"")
            ids += _ids(headers, "Message-ID")
    return list(dict.fromkeys(ids))


def _attachments(msg: EmailMessage, body_part: Message | None) -> list[Attachment]:
    found = []
    for part in msg.walk():
        if part.is_multipart() or part is body_part:
            continue
        filename = part.get_filename()
        if not filename and part.get_content_disposition() != "attachment":
            continue  # the other alternative of the body (text/html beside text/plain)
        found.append(
            Attachment(
                filename=(filename or "attachment")[:FILENAME_LENGTH],
                content_type=part.get_content_type(),
                content=part.get_payload(decode=True) or b"",
            )
        )
    return found
