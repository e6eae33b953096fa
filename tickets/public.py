"""The requester's side of a ticket, reached without an account through signed links.

`ticket_link(ticket)` goes in a tweet or DM: a page with the ticket's status and the
public tweets of the conversation, nothing else (no DMs, emails, internal notes, subject,
assignee or other tickets), and a form to continue by email. `request_email_link(ticket)`
goes straight to that form. The signature (django.core.signing, one salt per kind of link,
so one link cannot be turned into the other) is the only credential; a tampered link, or
one older than TICKET_LINK_MAX_AGE_DAYS (0 = never expires), is a 404.

Tokens are <base62 ticket id>.<base62 timestamp>.<signature>, about 55 characters; X
shortens every link to 23 characters anyway.
"""

from __future__ import annotations

import logging
from functools import wraps

from django import forms
from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .comments import TicketFull, add_comment
from .mail.addresses import AddressBelongsToAnotherRequester, set_requester_email
from .models import Channel, Comment, Identity, Ticket

log = logging.getLogger(__name__)

TICKET_LINK_SALT = "tickets.public.ticket-link"
EMAIL_LINK_SALT = "tickets.public.request-email"
# Only public tweets and likes are shown: they are public on X already. DMs are private
# between the requester and us, and anyone holding the link may not be the requester.
PUBLIC_CHANNELS = (Channel.X, Channel.X_LIKE)


def _signer(salt: str) -> signing.TimestampSigner:
    # "." rather than ":" keeps the token in characters no URL or tweet treats specially.
    return signing.TimestampSigner(salt=salt, sep=".")


def _token(ticket: Ticket, salt: str) -> str:
    return _signer(salt).sign(signing.b62_encode(ticket.pk))


def _ticket_for(token: str, salt: str) -> Ticket:
    days = settings.TICKET_LINK_MAX_AGE_DAYS
    try:
        value = _signer(salt).unsign(token, max_age=days * 86400 if days else None)
        ticket_id = signing.b62_decode(value)
    except (signing.BadSignature, ValueError):  # SignatureExpired is a BadSignature
        raise Http404("No such ticket") from None
    return get_object_or_404(Ticket, pk=ticket_id)


def ticket_link(ticket: Ticket) -> str:
    """Absolute URL of the requester-facing page of `ticket`, short enough for a tweet."""
    return settings.SITE_URL + reverse("public:ticket", args=[_token(ticket, TICKET_LINK_SALT)])


def request_email_link(ticket: Ticket) -> str:
    """Absolute URL of the form where the requester leaves an email address."""
    return settings.SITE_URL + reverse("public:email", args=[_token(ticket, EMAIL_LINK_SALT)])


def capture_requester_email(ticket: Ticket, address: str) -> None:
    """Add `address` (already validated) to the ticket's requester and tell the agents.

    An address that belongs to another requester is not moved: the agents get a note and
    decide. The person at the form is told the same thing either way, so the form cannot
    be used to learn whether an address is known to us.
    """
    address = address.strip().lower()
    known = Identity.objects.filter(
        kind=Identity.Kind.EMAIL, value=address, requester_id=ticket.requester_id
    ).exists()
    try:
        set_requester_email(ticket.requester, address, actor=None)
        if known:
            note = f"The requester confirmed their email address {address} on the ticket page."
        else:
            note = f"The requester left their email address {address} on the ticket page; you can now reply by email."
    except AddressBelongsToAnotherRequester as exc:
        other = exc.identity.requester
        note = (
            f"The requester left the email address {address} on the ticket page, but it already belongs to "
            f"requester {other} (#{other.pk}). It was not added; check whether they are the same person."
        )
    try:
        add_comment(ticket, body=note, is_public=False)
    except TicketFull:
        log.warning("Ticket #%s is full; email capture note not added: %s", ticket.pk, note)


class EmailCaptureForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)


def requester_page(view):
    """Headers for pages whose URL is a credential: no caching, no Referer carrying the
    token to the sites the page links to (tweets on X), no search engine indexing."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = never_cache(view)(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


@requester_page
@require_GET
def ticket_page(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_for(token, TICKET_LINK_SALT)
    latest = (
        Comment.objects.filter(ticket=ticket, is_public=True, channel__in=PUBLIC_CHANNELS)
        .select_related("author_user", "author_requester")
        .order_by("-created_at", "-id")[: settings.COMMENTS_PER_PAGE]
    )
    return render(
        request,
        "public/ticket.html",
        {
            "ticket": ticket,
            "tweets": list(reversed(latest)),
            "form": EmailCaptureForm(),
            "email_action": reverse("public:email", args=[_token(ticket, EMAIL_LINK_SALT)]),
        },
    )


@requester_page
@require_http_methods(["GET", "POST"])
def email_form(request: HttpRequest, token: str) -> HttpResponse:
    ticket = _ticket_for(token, EMAIL_LINK_SALT)
    form = EmailCaptureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        capture_requester_email(ticket, form.cleaned_data["email"])
        return render(request, "public/email_saved.html", {"ticket": ticket})
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "public/email_form.html",
        {"ticket": ticket, "form": form, "email_action": request.path},
        status=status,
    )
