"""Reply-to addresses that carry their ticket: reply+<ticket id>-<signature>@REPLY_EMAIL_DOMAIN.

Mail clients drop In-Reply-To now and then (a reply written as a new message to the
address from an old one, a forward); the address still says which ticket it answers.

The signature is a salted HMAC (Django's signing primitive) written in lower-case hex
rather than `django.core.signing`'s base64, because the token travels in the local part
of an address: some MTAs and clients change its case, and it must stay under 64 octets.
It never expires: people answer months-old mail.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "tickets.mail.reply-address"
PREFIX = "reply"
SIGNATURE_LENGTH = 32  # hex digits: 128 bits


def _signature(ticket_id: int, secret: str) -> str:
    return salted_hmac(SALT, str(ticket_id), secret=secret, algorithm="sha256").hexdigest()[:SIGNATURE_LENGTH]


def reply_token(ticket_id: int) -> str:
    return f"{ticket_id}-{_signature(ticket_id, settings.SECRET_KEY)}"


def reply_address(ticket_id: int) -> str:
    return f"{PREFIX}+{reply_token(ticket_id)}@{settings.REPLY_EMAIL_DOMAIN}"


def ticket_id_from_address(address: str) -> int | None:
    """The ticket id a reply address names, or None when it is not one of ours or was forged."""
    local, _, _domain = address.strip().lower().rpartition("@")
    prefix, plus, token = local.partition("+")
    if prefix != PREFIX or not plus:
        return None
    ticket_part, _, signature = token.partition("-")
    if not ticket_part.isdigit() or len(signature) != SIGNATURE_LENGTH:
        return None
    ticket_id = int(ticket_part)
    # Addresses signed before a SECRET_KEY rotation keep working while the old key is a fallback.
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(signature, _signature(ticket_id, secret)):
            return ticket_id
    return None
