"""The X reply composer, "request email", and retrying a failed delivery.

Any agent who can see the ticket may answer it (`visible_tickets`); a ticket outside their
reach, or not an X ticket, is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tickets.access import visible_tickets
from tickets.comments import TicketFull
from tickets.models import Channel, Ticket
from twitter_channel.answering import sending
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.answering.replies import (
    EmailRequestPreview,
    XReplyRefused,
    compose,
    queue_reply,
    reply_choices,
    request_email,
)


def _x_ticket(request: HttpRequest, pk: int) -> Ticket:
    ticket = get_object_or_404(visible_tickets(request.user).select_related("requester", "x_account"), pk=pk)
    if not ticket.is_x:
        raise Http404("Not an X ticket")
    return ticket


@require_http_methods(["GET", "POST"])
@login_required
def composer(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _x_ticket(request, pk)
    choices = reply_choices(ticket)
    error = ""
    values = {"body": "", "mode": choices.default_mode,
              "account": str(choices.default_account.pk) if choices.default_account else "",
              "append_link": choices.append_link_default, "to": ""}
    if request.method == "POST":
        values = {"body": request.POST.get("body", ""), "mode": request.POST.get("mode", ""),
                  "account": request.POST.get("account", ""), "append_link": request.POST.get("append_link") == "1",
                  "to": request.POST.get("to", "")}
        try:
            composed = compose(choices, values["body"], mode=values["mode"] or None, account_id=values["account"],
                               append_link=values["append_link"], to=values["to"] or None)
            queue_reply(ticket, composed, request.user)
        except (XReplyRefused, TicketFull) as exc:
            error = exc.messages[0] if isinstance(exc, XReplyRefused) else str(exc)
        else:
            messages.success(request, "Reply queued for X.")
            return redirect(ticket.get_absolute_url())
    return render(request, "twitter_channel/reply/composer.html", {
        "ticket": ticket,
        "choices": choices,
        "values": values,
        "error": error,
        "warnings": {a.pk: choices.warning_for(a) for a in choices.accounts},
    }, status=400 if error else 200)


@require_POST
@login_required
def ask_for_email(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the requester the email form's link, by DM unless the agent chooses a public post
    (or no DM is possible). Two steps: the agent first sees the exact text, to whom and how
    it goes, then confirms."""
    ticket = _x_ticket(request, pk)
    public = request.POST.get("public") == "1"
    confirmed_text = request.POST.get("text", "") if request.POST.get("confirmed") == "1" else ""
    try:
        comment = request_email(ticket, request.user, public=public, text=confirmed_text)
    except EmailRequestPreview as preview:
        return render(request, "twitter_channel/reply/confirm_email_request.html", {
            "ticket": ticket, "preview": preview,
        })
    except (XReplyRefused, TicketFull) as exc:
        messages.error(request, exc.messages[0] if isinstance(exc, XReplyRefused) else str(exc))
    else:
        how = "by DM" if comment.channel == Channel.X_DM else "as a public reply"
        messages.success(request, f"Email request queued for X, {how}.")
    return redirect(ticket.get_absolute_url())


def _outgoing(request: HttpRequest, pk: int) -> OutgoingMessage:
    outgoing = get_object_or_404(OutgoingMessage.objects.select_related("comment", "account"), pk=pk)
    if not visible_tickets(request.user).filter(pk=outgoing.comment.ticket_id).exists():
        raise Http404("No such message")
    return outgoing


@require_POST
@login_required
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    outgoing = _outgoing(request, pk)
    if sending.retry(outgoing):
        messages.success(request, "Sending again. Nothing is posted twice: X is checked first.")
    else:
        messages.info(request, "That message is not waiting for a retry.")
    return redirect(outgoing.comment.ticket.get_absolute_url())


@login_required
def status(request: HttpRequest, pk: int) -> JsonResponse:
    outgoing = _outgoing(request, pk)
    return JsonResponse({
        "state": outgoing.state,
        "delivery": outgoing.comment.delivery,
        "error": outgoing.error,
        "url": outgoing.comment.external_url,
    })
