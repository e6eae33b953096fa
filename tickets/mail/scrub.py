"""Taking texts out of a stored raw message (a redacted post it quoted, an erased person's
name and address), keeping the rest of the message readable.

Texts sit in a message encoded (quoted-printable, base64, RFC 2047 headers), so a byte
replace would miss them: the message is parsed, every header and text part is decoded,
scrubbed and set again; an attachment whose name held the text is emptied.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage


def scrub_raw_email(raw: bytes, texts: list[str], replacement: str) -> bytes:
    """`raw` with every occurrence of `texts` (case-insensitive for addresses) replaced;
    the very same bytes when nothing matched."""
    if not texts:
        return raw
    message: EmailMessage = message_from_bytes(raw, policy=policy.default)  # type: ignore[assignment]
    changed = False
    for part in message.walk():
        filename = part.get_filename() or ""  # before its header is scrubbed
        changed |= _scrub_headers(part, texts, replacement)
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text" and not part.is_attachment():
            try:
                body = part.get_content()
            except (LookupError, ValueError):
                body = part.get_payload(decode=True).decode("utf-8", "replace")
            scrubbed = replace_texts(body, texts, replacement)
            if scrubbed != body:
                part.set_payload(scrubbed.encode("utf-8"), charset="utf-8")
                changed = True
        elif filename and replace_texts(filename, texts, replacement) != filename:
            # An attachment named after the text goes too.
            part.set_payload(b"")
            changed = True
    return message.as_bytes() if changed else raw


def _scrub_headers(part: EmailMessage, texts: list[str], replacement: str) -> bool:
    headers = [(name, str(value)) for name, value in part.items()]
    scrubbed = [(name, replace_texts(value, texts, replacement)) for name, value in headers]
    if scrubbed == headers:
        return False
    # Rewritten all at once, in their order (a header may repeat: Received, Comments).
    for name in {name for name, _ in headers}:
        del part[name]
    for name, value in scrubbed:
        part[name] = value
    return True


def replace_texts(value: str, texts: list[str], replacement: str) -> str:
    """`value` with each of `texts` replaced, ignoring case (addresses and handles come in any case)."""
    lowered = value.lower()
    for text in texts:
        if text.lower() not in lowered:
            continue
        start, out, needle = 0, [], text.lower()
        while (found := lowered.find(needle, start)) != -1:
            out.append(value[start:found])
            out.append(replacement)
            start = found + len(needle)
        out.append(value[start:])
        value = "".join(out)
        lowered = value.lower()
    return value
