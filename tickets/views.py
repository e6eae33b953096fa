"""The agent's web UI: queues, the ticket page, bulk actions.

Every view starts from `visible_tickets(request.user)`: a ticket outside the user's reach is
a 404 (not a 403, which would confirm that it exists), and a bulk selection silently loses
the ids the user may not act on.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import bulk, panels, thread
from .access import can_change_requester, can_delete_tickets, visible_tickets
from .comments import TicketFull
from .filters import QueueFilterForm, apply_filters, apply_sort
from .forms import BulkActionForm, ReplyForm, RequesterEmailForm, TicketPropertiesForm
from .lifecycle import EditConflict, update_ticket
from .mail.addresses import email_address_for, make_primary, set_requester_email
from .models import Channel, Identity, Ticket
from .queue_page import RELEVANCE, queue_page
from .queues import DEFAULT_QUEUE, QUEUES, channel_queue
from .replies import after_reply, post_reply, replies_since
from .timeline import timeline_for

# --- Queues -----------------------------------------------------------------------------


@require_GET
@login_required
def queue(request: HttpRequest, slug: str = DEFAULT_QUEUE) -> HttpResponse:
    try:
        chosen = QUEUES[slug]
    except KeyError:
        raise Http404("No such view") from None
    tickets = chosen.narrow(visible_tickets(request.user), request.user)
    return _render_queue(request, tickets, title=chosen.label, current_queue=slug, default_sort=chosen.default_sort)


@require_GET
@login_required
def by_channel(request: HttpRequest, channel: str) -> HttpResponse:
    if channel not in Channel.values:
        raise Http404("No such channel")
    tickets = channel_queue(visible_tickets(request.user), channel)
    title = f"{Channel(channel).label}: open"
    return _render_queue(request, tickets, title=title, current_channel=channel)


def _render_queue(request: HttpRequest, tickets, *, title: str, default_sort: str | None = None, **context) -> HttpResponse:
    query = request.GET
    default_sort = default_sort or (RELEVANCE if query.get("q", "").strip() else None)
    if default_sort and not query.get("sort"):
        # The view's own order (a search's: best match), shown as chosen in the sort menu.
        query = query.copy()
        query["sort"] = default_sort
    filter_form = QueueFilterForm(query)
    params = filter_form.cleaned()
    tickets = apply_sort(apply_filters(tickets, params), params.get("sort"))
    page = queue_page(tickets, params, request.GET, settings.TICKETS_PER_PAGE)
    return render(
        request,
        "tickets/queue.html",
        {
            "title": title,
            "page": page,
            "filter_form": filter_form,
            "bulk_form": BulkActionForm(),
            "can_delete": can_delete_tickets(request.user),
            **context,
        },
    )


# --- The ticket page --------------------------------------------------------------------


def _visible_ticket(request: HttpRequest, pk: int) -> Ticket:
    return get_object_or_404(
        visible_tickets(request.user).select_related("requester", "assignee", "group"), pk=pk
    )


def _last_comment_id(ticket: Ticket) -> int | None:
    # ORDER BY id + 0, not id: with "ORDER BY id DESC LIMIT 1" PostgreSQL walked the primary
    # key backwards from the newest comment of the helpdesk, filtering on the ticket: 2.5M
    # rows (3.6 s) for a ticket in the middle of 5M comments. This reads the ticket's own
    # comments through its index (at most TICKET_COMMENT_LIMIT) and keeps the highest id.
    newest = ticket.comments.order_by((F("pk") + 0).desc()).values_list("pk", flat=True)
    return newest.first()


@require_GET
@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _visible_ticket(request, pk))


def _email_reply_address(ticket: Ticket) -> str | None:
    """Where "Reply by email" would write to, or None when the reply box should not offer it:
    email tickets already answer by email through the channel's sender."""
    if ticket.channel == Channel.EMAIL:
        return None
    return email_address_for(ticket)


def _reply_form(ticket: Ticket, **kwargs) -> ReplyForm:
    modes, default_mode = panels.reply_modes_for(ticket)
    return ReplyForm(email_address=_email_reply_address(ticket), channel_modes=modes, default_mode=default_mode,
                     **kwargs)


def _render_detail(
    request, ticket, *, reply_form=None, properties_form=None, requester_email_form=None, status=200
) -> HttpResponse:
    # The newest page by default; older pages are one "Earlier messages" click away, so a
    # ticket with 5,000 comments renders COMMENTS_PER_PAGE of them, never all.
    page = thread.page_of(ticket, request.GET.get("page"))
    related = visible_tickets(request.user).filter(Q(follow_up_of=ticket) | Q(pk=ticket.follow_up_of_id))
    related = list(related.only("pk", "subject", "status", "follow_up_of_id").order_by("pk"))
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "page": page,
            "timeline": timeline_for(ticket, page),
            "identities": list(ticket.requester.identities.select_related("added_by").order_by("kind", "pk")),
            "previous_ticket": next((t for t in related if t.pk == ticket.follow_up_of_id), None),
            "follow_ups": [t for t in related if t.follow_up_of_id == ticket.pk],
            "reply_form": reply_form or _reply_form(ticket, initial={"status_seen": ticket.status}),
            "requester_email_form": requester_email_form or RequesterEmailForm(),
            "properties_form": properties_form or TicketPropertiesForm(user=request.user, ticket=ticket),
            "sidebar_panels": panels.panels_for(ticket, panels.SIDEBAR),
            "reply_panels": panels.panels_for(ticket, panels.REPLY),
            "reply_tool_panels": panels.panels_for(ticket, panels.REPLY_TOOLS),
            "can_delete": can_delete_tickets(request.user),
            # The reply form posts it back: replies_since() tells whether someone answered meanwhile.
            "last_comment_id": _last_comment_id(ticket),
        },
        status=status,
    )


@require_POST
@login_required
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    form = _reply_form(ticket, data=request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, reply_form=form, status=400)
    landed = replies_since(ticket, request.POST.get("seen_comment_id"), request.user)
    if landed:
        # The re-rendered page shows their reply and carries the new newest id, so submitting
        # the same form again (the text is kept) sends it.
        names = ", ".join(sorted({str(c.author_user) for c in landed}))
        form.add_error(None, f"{names} answered this ticket since you opened it. Read their reply above; "
                             "submit again to send yours anyway.")
        return _render_detail(request, ticket, reply_form=form, status=409)
    # Read before the reply, which may move the status itself (a first answer opens it).
    status_moved_since_drawn = form.status_when_drawn not in ("", ticket.status)
    try:
        comment = post_reply(
            ticket,
            body=form.cleaned_data["body"],
            author=request.user,
            public=form.is_public,
            options=_reply_options(request.POST, form),
            by_email=form.by_email,
        )
    except TicketFull as exc:
        form.add_error(None, str(exc))
        return _render_detail(request, ticket, reply_form=form, status=409)
    except ValidationError as exc:
        # The channel's sender refused the reply as asked (an X post over 280, ...); nothing was recorded.
        form.add_error(None, exc)
        return _render_detail(request, ticket, reply_form=form, status=400)
    # Before "and set status to": the agent's explicit choice there wins over a macro's status.
    notices = after_reply(ticket, comment, request.user, request.POST)
    then_status = form.cleaned_data["then_status"]
    if then_status:
        # "Submit as Solved" from a page drawn before another agent set the status: theirs stands.
        expected = {"status": form.status_when_drawn} if status_moved_since_drawn else None
        try:
            update_ticket(ticket, status=then_status, actor=request.user, expected=expected)
        except EditConflict as exc:
            messages.warning(request, f"Your reply was added, but the status was not changed: {exc}")
        except ValueError as exc:
            messages.error(request, str(exc))
    messages.success(request, _reply_flash(comment))
    for notice in notices:
        messages.add_message(request, messages.WARNING if notice.level == "warning" else messages.SUCCESS, notice.text)
    return _back_to(request, ticket)


def _reply_options(post, form: ReplyForm) -> dict[str, str]:
    """The channel panel's inputs, with the way of answering chosen in the reply box."""
    options = panels.reply_options(post)
    if form.channel_mode:
        options["mode"] = form.channel_mode
    return options


def _reply_flash(comment) -> str:
    """Never "sent" before the channel confirmed it: a delivered reply is queued until then."""
    if not comment.is_public:
        return "Internal note added."
    if comment.delivery:
        where = "by email" if comment.channel == Channel.EMAIL else "for X"
        return f"Reply queued {where}: the ticket shows when it is sent."
    return "Reply added to the ticket."


@require_POST
@login_required
def requester_email(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent who sees the ticket gives its requester an email address (given on the phone,
    in a DM...), vouching for it (recorded as `added_by`), so that the conversation can move
    to email. A restricted agent may not change a requester who has tickets outside their reach."""
    ticket = _visible_ticket(request, pk)
    form = RequesterEmailForm(request.POST)
    if not can_change_requester(request.user, ticket.requester):
        form.is_valid()
        form.add_error("email", OUT_OF_REACH)
    elif form.is_valid():
        try:
            identity = set_requester_email(ticket.requester, form.cleaned_data["email"], actor=request.user)
        except ValidationError as exc:  # AddressBelongsToAnotherRequester names nobody
            form.add_error("email", exc)
    if not form.is_valid():
        return _render_detail(request, ticket, requester_email_form=form, status=400)
    messages.success(request, f"{identity.value} is now an email address of {ticket.requester}.")
    return redirect(ticket)


OUT_OF_REACH = ("This requester also has tickets outside your views; an address you add would receive their replies. "
                "Ask an agent who sees all of them.")


@require_POST
@login_required
def requester_primary_email(request: HttpRequest, pk: int, identity_pk: int) -> HttpResponse:
    """Make one of the requester's confirmed addresses the one replies by email go to."""
    ticket = _visible_ticket(request, pk)
    identity = get_object_or_404(Identity, pk=identity_pk, requester_id=ticket.requester_id, kind=Identity.Kind.EMAIL)
    if not can_change_requester(request.user, ticket.requester):
        messages.error(request, OUT_OF_REACH)
    else:
        try:
            make_primary(identity)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"Replies by email now go to {identity.value}.")
    return redirect(ticket)


@require_POST
@login_required
def update(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    form = TicketPropertiesForm(request.POST, user=request.user, ticket=ticket)
    if not form.is_valid():
        return _render_detail(request, ticket, properties_form=form, status=400)
    edit = form.edit()
    try:
        changes = update_ticket(
            ticket,
            actor=request.user,
            expected=edit.expected,
            tags=edit.tags,
            add_tags=edit.add_tags,
            remove_tags=edit.remove_tags,
            **edit.fields,
        )
    except EditConflict as conflict:
        # Nothing saved. The agent sees what the other side did, keeps their own choices, and
        # the form now carries the current values: submitting again applies their choices.
        retry = form.for_retry(conflict.ticket)
        retry.add_error(None, "Someone changed this ticket while you were editing it; nothing was saved.")
        for c in conflict.conflicts:
            retry.add_error(None, c.describe())
        retry.add_error(None, "Your choices are kept below: submit again to apply them anyway.")
        return _render_detail(request, conflict.ticket, properties_form=retry, status=409)
    except ValueError as exc:  # reopening a closed ticket
        form.add_error("status", str(exc))
        ticket.refresh_from_db()
        return _render_detail(request, ticket, properties_form=form, status=400)
    messages.success(request, "Ticket updated." if changes else "Nothing changed.")
    return _back_to(request, ticket)


def _back_to(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    # A restricted agent may have moved the ticket out of their own reach (another channel's
    # group); send them to the queue rather than to a 404.
    if not visible_tickets(request.user).filter(pk=ticket.pk).exists():
        messages.info(request, f"Ticket #{ticket.pk} is now outside your views.")
        return redirect("tickets:queue")
    return redirect(ticket)


@require_http_methods(["GET", "POST"])
@login_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _visible_ticket(request, pk)
    if not can_delete_tickets(request.user):
        raise PermissionDenied("Only admins delete tickets.")
    if request.method == "POST":
        bulk.bulk_delete(Ticket.objects.filter(pk=ticket.pk))
        messages.success(request, f"Ticket #{pk} deleted.")
        return redirect("tickets:queue")
    return render(request, "tickets/confirm_delete.html", {"tickets": [ticket], "single": True})


# --- Bulk actions -----------------------------------------------------------------------


@require_POST
@login_required
def bulk_action(request: HttpRequest) -> HttpResponse:
    back = _safe_next(request)
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    data = form.cleaned_data
    tickets = visible_tickets(request.user).filter(pk__in=data["ticket_ids"]).order_by("pk")
    user = request.user
    action = data["action"]
    if action == BulkActionForm.DELETE:
        if not can_delete_tickets(user):
            raise PermissionDenied("Only admins delete tickets.")
        if not data["confirmed"]:
            # The confirmation step: list what will go, and post the same selection again.
            return render(request, "tickets/confirm_delete.html", {"tickets": tickets, "next": back})
        count = bulk.bulk_delete(tickets)
        messages.success(request, f"Deleted {count} ticket{'s' if count != 1 else ''}.")
        return redirect(back)
    if action == BulkActionForm.ASSIGN:
        result = bulk.bulk_assign(tickets, data["assignee"], actor=user, seen=data["seen"])
    elif action == BulkActionForm.STATUS:
        result = bulk.bulk_set_status(tickets, data["status"], actor=user, seen=data["seen"])
    else:
        result = bulk.bulk_add_tag(tickets, data["tag"], actor=user)
    messages.success(request, f"Updated {result.changed} ticket{'s' if result.changed != 1 else ''}.")
    for problem in result.skipped:
        messages.warning(request, problem)
    return redirect(back)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("tickets:queue")
