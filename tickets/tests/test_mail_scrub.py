"""Taking texts out of a stored raw message: encoded headers and bodies are decoded first,
an attachment named after the text is emptied, an untouched message keeps its bytes."""

from email import message_from_bytes, policy

from tickets.mail.scrub import scrub_raw_email
from tickets.mail.testing import build_email


def test_texts_go_from_encoded_headers_and_bodies():
    raw = build_email(sender="Zoë Quokka <zoe@example.org>", subject="Re: [#4] Zoë's card is blocked",
                      body="Regards, Zoë Quokka\n" + "x" * 200, html="<p>Zoë Quokka</p>",
                      attachments=[("zoe@example.org.txt", "text/plain", b"private"),
                                   ("invoice.pdf", "application/pdf", b"%PDF")])
    assert b"=?utf-8?q?Zo=C3=AB?=" in raw  # encoded: a byte replace would miss it

    scrubbed = message_from_bytes(scrub_raw_email(raw, ["Zoë Quokka", "zoe@example.org", "Zoë's card"], "[x]"),
                                  policy=policy.default)

    text = scrubbed.as_string()
    assert "Quokka" not in text and "zoe@example.org" not in text.lower() and "card is" not in str(scrubbed["Subject"])
    parts = {p.get_filename(): p.get_content() for p in scrubbed.iter_attachments()}
    assert parts["[x].txt"] in ("", b"") and parts["invoice.pdf"] == b"%PDF"


def test_a_message_without_the_texts_keeps_its_bytes():
    raw = build_email()
    assert scrub_raw_email(raw, ["Nobody Here"], "[x]") is raw
