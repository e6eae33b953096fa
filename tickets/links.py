"""Signed links that requesters follow without an account.

Each kind of link has its own salt, so one cannot be turned into another. The signature
(django.core.signing) is the only credential; a tampered link, or one older than
TICKET_LINK_MAX_AGE_DAYS (0 = never expires), leads nowhere (`BadLink`).

Tokens are <base62 id>.<base62 timestamp>.<signature>, about 55 characters; X shortens
every link to 23 characters anyway.

- `ticket_link(ticket)`: the requester's read-only page of a ticket; goes in public posts.
- `request_email_link(email_request)`: the form that takes an email address; one
  `EmailRequest` each, so the link is bound to its requester and works once.
- `confirmation_link(confirmation)`: mailed to the address given on that form.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import EmailConfirmation, EmailRequest, Ticket

TICKET_LINK_SALT = "tickets.public.ticket-link"
# Not the salt of the links made before requests were single-use (they signed a ticket id,
# which must never be read as the id of somebody else's request).
EMAIL_REQUEST_SALT = "tickets.public.email-request"
CONFIRMATION_SALT = "tickets.public.confirm-email"


class BadLink(Exception):
    """Tampered, expired or made for another kind of link."""


def _signer(salt: str) -> signing.TimestampSigner:
    # "." rather than ":" keeps the token in characters no URL or tweet treats specially.
    return signing.TimestampSigner(salt=salt, sep=".")


def token_for(pk: int, salt: str) -> str:
    return _signer(salt).sign(signing.b62_encode(pk))


def id_from(token: str, salt: str) -> int:
    days = settings.TICKET_LINK_MAX_AGE_DAYS
    try:
        return signing.b62_decode(_signer(salt).unsign(token, max_age=days * 86400 if days else None))
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        raise BadLink(token) from None


def ticket_link(ticket: Ticket) -> str:
    """Absolute URL of the requester-facing page of `ticket`, short enough for a tweet."""
    return settings.SITE_URL + reverse("public:ticket", args=[token_for(ticket.pk, TICKET_LINK_SALT)])


def request_email_link(email_request: EmailRequest) -> str:
    """Absolute URL of the form where the requester leaves an email address."""
    return settings.SITE_URL + reverse("public:email", args=[token_for(email_request.pk, EMAIL_REQUEST_SALT)])


def confirmation_link(confirmation: EmailConfirmation) -> str:
    return settings.SITE_URL + reverse("public:confirm_email", args=[token_for(confirmation.pk, CONFIRMATION_SALT)])
