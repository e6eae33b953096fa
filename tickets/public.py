"""The requester's side of a ticket, reached without an account through signed links
(`tickets.links`).

The ticket page (`ticket_link`, appended to public posts) shows the ticket's status and the
public tweets of the conversation, nothing else (no DMs, emails, internal notes, subject,
assignee or other tickets), and agents by first name only. It offers no email form: its link
is public, and an address must come through a link only the requester received
(`request_email_link`, single-use, bound to them), then be confirmed by its owner.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from .links import CONFIRMATION_SALT, EMAIL_REQUEST_SALT, TICKET_LINK_SALT, BadLink, id_from
from .mail import capture
from .mail.models import EmailConfirmation
from .models import Channel, Comment, Ticket

# Only public tweets and likes are shown: they are public on X already. DMs are private
# between the requester and us, and anyone holding the link may not be the requester.
PUBLIC_CHANNELS = (Channel.X, Channel.X_LIKE)


def _id_or_404(token: str, salt: str) -> int:
    try:
        return id_from(token, salt)
    except BadLink:
        raise Http404("No such page") from None


def _per_link(group: str, request: HttpRequest) -> str:
    return request.resolver_match.kwargs["token"]


def _rate_per_link(group: str, request: HttpRequest) -> str:
    return settings.PUBLIC_FORM_RATE_PER_LINK


def _rate_per_ip(group: str, request: HttpRequest) -> str:
    return settings.PUBLIC_FORM_RATE_PER_IP


def rate_limited(view):
    """Posts to a requester page are counted per link and per client address (django-ratelimit,
    in the shared cache); past either limit the page answers 429 and does nothing. A link
    works once, but a script can still post bad addresses to it, or walk many links."""

    @ratelimit(group="public-form-link", key=_per_link, rate=_rate_per_link, method="POST", block=False)
    @ratelimit(group="public-form-ip", key="ip", rate=_rate_per_ip, method="POST", block=False)
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "limited", False):
            return render(request, "public/too_many.html", status=429)
        return view(request, *args, **kwargs)

    return wrapper


class EmailCaptureForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)


def requester_page(view):
    """Headers for pages whose URL is a credential: no caching, no search engine indexing,
    and no Referer carrying the token to other sites (tweets on X). `same-origin`, not
    `no-referrer`: browsers then send the form's own Origin with its POST, which Django's
    CSRF check needs (under `no-referrer` Chromium sends `Origin: null` and gets a 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = never_cache(view)(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


@requester_page
@require_GET
def ticket_page(request: HttpRequest, token: str) -> HttpResponse:
    # An erased requester's ticket has no page: its link was posted on X, next to their name.
    ticket = get_object_or_404(Ticket, pk=_id_or_404(token, TICKET_LINK_SALT), requester__erased_at=None)
    latest = (
        Comment.objects.filter(ticket=ticket, is_public=True, channel__in=PUBLIC_CHANNELS)
        .select_related("author_user", "author_requester")
        .order_by("-created_at", "-id")[: settings.COMMENTS_PER_PAGE]
    )
    return render(request, "public/ticket.html", {"ticket": ticket, "tweets": list(reversed(latest))})


@requester_page
@require_http_methods(["GET", "POST"])
@rate_limited
def email_form(request: HttpRequest, token: str) -> HttpResponse:
    email_request = capture.open_request(_id_or_404(token, EMAIL_REQUEST_SALT))
    if email_request is None:
        return render(request, "public/link_used.html", status=410)
    ticket = email_request.ticket
    form = EmailCaptureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if capture.take_address(email_request.pk, form.cleaned_data["email"]) is None:
            return render(request, "public/link_used.html", status=410)
        # The same answer whoever the address belongs to: the form reveals nothing about it.
        return render(request, "public/email_saved.html", {"ticket": ticket, "address": form.cleaned_data["email"]})
    return render(
        request,
        "public/email_form.html",
        {"ticket": ticket, "form": form, "email_action": request.path},
        status=400 if request.method == "POST" else 200,
    )


@requester_page
@require_http_methods(["GET", "POST"])
@rate_limited
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that open every link confirm nothing."""
    confirmation = get_object_or_404(
        EmailConfirmation.objects.select_related("request"), pk=_id_or_404(token, CONFIRMATION_SALT)
    )
    ticket_id = confirmation.request.ticket_id
    if request.method == "POST":
        capture.confirm(confirmation.pk)
        return render(request, "public/email_confirmed.html", {"ticket_id": ticket_id})
    if confirmation.confirmed_at is not None:
        return render(request, "public/email_confirmed.html", {"ticket_id": ticket_id})
    return render(request, "public/confirm_email.html", {"ticket_id": ticket_id, "address": confirmation.address})
