"""HTTP side of the email channel: the inbound endpoint an MTA or mail relay posts raw
messages to, the agents' downloads of what email brought in, and the admins' quarantine of
messages that could not be ingested."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..access import admin_only, visible_tickets
from . import outbound
from .inbound import DATABASE_AWAY, DUPLICATE, ingest_email, retry_quarantined
from .models import EmailAttachment, InboundEmail, OutgoingEmail

log = logging.getLogger(__name__)
Outcome = InboundEmail.Outcome


@csrf_exempt  # a machine posts here, authenticated by its bearer token, not a session
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    expected = settings.INBOUND_EMAIL_TOKEN
    if not expected:
        return HttpResponse("Inbound email is not configured (INBOUND_EMAIL_TOKEN).", status=503)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(token.strip(), expected):
        return HttpResponse("Bad or missing bearer token.", status=403)
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return HttpResponse("Message too large.", status=413)
    # request.read(), not request.body: the body is a whole message with its attachments,
    # past DATA_UPLOAD_MAX_MEMORY_SIZE, which is meant for form posts.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return HttpResponse("Message too large.", status=413)
    if not raw.strip():
        return HttpResponse("Empty message.", status=400)
    try:
        result = ingest_email(raw)
    except DATABASE_AWAY:
        # The only failure the sender should retry: nothing about the message itself.
        log.exception("Inbound email not stored: the database is away")
        return HttpResponse("Database unavailable; try again later.", status=503, headers={"Retry-After": "60"})
    # Whatever the content, the message is now held (ingested or quarantined): a 2xx, so the
    # MTA does not retry a message that would fail the same way every time.
    status = {DUPLICATE: 200, Outcome.QUARANTINED: 202}.get(result.outcome, 201)
    return JsonResponse(
        {
            "outcome": result.outcome,
            "ticket": result.ticket.pk if result.ticket else None,
            "comment": result.comment.pk if result.comment else None,
        },
        status=status,
    )


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    found = get_object_or_404(
        EmailAttachment, pk=pk, comment__ticket__in=visible_tickets(request.user).values("pk")
    )
    # Always a download: a requester's HTML file must not run in the agents' origin.
    return FileResponse(found.file.open("rb"), as_attachment=True, filename=found.filename)


@login_required
@require_GET
def original(request: HttpRequest, comment_pk: int) -> FileResponse:
    """The whole message a comment came from, headers and quoted history included."""
    found = get_object_or_404(
        InboundEmail, comment_id=comment_pk, comment__ticket__in=visible_tickets(request.user).values("pk")
    )
    if not found.raw:
        raise Http404("The original message was deleted (retention period, or the requester's erasure).")
    return FileResponse(
        found.raw.open("rb"), as_attachment=True, filename=f"message-{comment_pk}.eml", content_type="message/rfc822"
    )


@require_POST
@login_required
def retry_email(request: HttpRequest, comment_pk: int) -> HttpResponse:
    """Send again an email reply not sent yet (failed, or waiting for its next attempt)."""
    row = get_object_or_404(OutgoingEmail.objects.select_related("comment"), pk=comment_pk,
                            comment__ticket__in=visible_tickets(request.user))
    if outbound.retry(row.pk):
        messages.success(request, "Email queued again.")
    else:
        messages.info(request, "That email is not waiting for a retry.")
    return redirect(row.comment.ticket.get_absolute_url() + f"#comment-{row.pk}")



@admin_only
@require_GET
def quarantine(request: HttpRequest) -> HttpResponse:
    held = InboundEmail.objects.filter(outcome=Outcome.QUARANTINED).order_by("-received_at", "-pk")
    page = Paginator(held, 50).get_page(request.GET.get("page"))
    return render(request, "mail/quarantine.html", {"page": page})


@admin_only
@require_POST
def retry_quarantined_email(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(InboundEmail, pk=pk, outcome=Outcome.QUARANTINED)
    result = retry_quarantined(record)
    if result.outcome == Outcome.QUARANTINED:
        messages.error(request, f"Email {record.message_id} is still quarantined.")
    else:
        where = f" (ticket #{result.ticket.pk})" if result.ticket else ""
        messages.success(request, f"Email {record.message_id} ingested: {Outcome(result.outcome).label}{where}.")
    return redirect("mail:quarantine")


@admin_only
@require_GET
def raw_message(request: HttpRequest, pk: int) -> FileResponse:
    """Any kept message as received, for admins (quarantined ones have no comment to hang on)."""
    found = get_object_or_404(InboundEmail, pk=pk)
    return FileResponse(
        found.raw.open("rb"), as_attachment=True, filename=f"inbound-{pk}.eml", content_type="message/rfc822"
    )
