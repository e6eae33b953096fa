"""The incoming stream pages: what X sent, what became of it, and converting by hand; and the
quarantine: what could not be read, with a retry.

Admins only. Agents and restricted agents get a 404 (the pages do not exist for them),
anonymous visitors the login page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from tickets.access import admin_only
from tickets.outbox import enqueue_after_commit
from twitter_channel.intake import bulk_convert, conversion
from twitter_channel.intake.incoming import StreamFilterForm, incoming_items, is_convertible
from twitter_channel.intake.models import BulkConversion
from twitter_channel.intake.tasks import bulk_convert_items
from twitter_channel.models import ActivityEvent, IncomingItem, XAccount

ITEMS_PER_PAGE = 50



@require_GET
@admin_only
def stream(request: HttpRequest, account_id: int | None = None) -> HttpResponse:
    account = get_object_or_404(XAccount, pk=account_id) if account_id is not None else None
    form = StreamFilterForm(request.GET)
    items = incoming_items(form.cleaned(), account=account)
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "twitter_channel/stream/list.html", {
        "account": account,
        "accounts": XAccount.objects.all(),
        "form": form,
        "page": page,
        "rows": [(item, is_convertible(item)) for item in page.object_list],
        "query": query.urlencode(),
        "inline_limit": bulk_convert.INLINE_LIMIT,
    })


@require_POST
@admin_only
def convert(request: HttpRequest, item_id: int) -> HttpResponse:
    get_object_or_404(IncomingItem, pk=item_id)
    result = bulk_convert.convert_by_hand(item_id)
    if result.outcome == bulk_convert.Outcome.FAILED:
        messages.error(request, f"Item not converted: {result.detail}")
    elif result.outcome == bulk_convert.Outcome.ALREADY:
        messages.info(request, f"Already on ticket #{result.ticket_id}.")
    elif result.outcome == bulk_convert.Outcome.ADDED:
        messages.success(request, f"Added to ticket #{result.ticket_id}, which holds its thread.")
    else:
        messages.success(request, f"Ticket #{result.ticket_id} created.")
    return _back(request)


@require_POST
@admin_only
def bulk(request: HttpRequest) -> HttpResponse:
    ids = [i for i in request.POST.getlist("item_ids") if i.isdigit()]
    ids = list(IncomingItem.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if not ids:
        messages.error(request, "Select at least one item.")
        return _back(request)
    run = bulk_convert.start_bulk_conversion(ids, request.user)
    if run.status != BulkConversion.Status.FINISHED:
        # Too many to convert inside the request. A broker that is down must not fail the
        # admin's request (the row is committed by then).
        enqueue_after_commit(bulk_convert_items, run.pk)
    return redirect("twitter_channel:bulk_result", run.pk)


@require_GET
@admin_only
def bulk_result(request: HttpRequest, bulk_id: int) -> HttpResponse:
    run = get_object_or_404(BulkConversion, pk=bulk_id)
    tickets = bulk_convert.tickets_of(run)
    return render(request, "twitter_channel/stream/bulk_result.html", {
        "run": run,
        "rows": [(r, tickets.get(r["ticket"])) for r in run.results if r["ticket"]],
        "already": run.results_with(bulk_convert.Outcome.ALREADY),
        "failed": run.results_with(bulk_convert.Outcome.FAILED),
    })


@require_GET
@admin_only
def bulk_progress(request: HttpRequest, bulk_id: int) -> JsonResponse:
    run = get_object_or_404(BulkConversion, pk=bulk_id)
    return JsonResponse({
        "status": run.status,
        "total": run.total,
        "done": run.done,
        "percent": run.percent,
        "created": run.created,
        "added": run.added,
        "already_on_ticket": run.already_on_ticket,
        "failed": run.failed,
    })


@require_POST
@admin_only
def ignore(request: HttpRequest, item_id: int) -> HttpResponse:
    get_object_or_404(IncomingItem, pk=item_id)
    if bulk_convert.ignore(item_id, request.user):
        messages.success(request, "Item ignored.")
    else:
        messages.error(request, "Only items not on a ticket can be ignored.")
    return _back(request)


@require_POST
@admin_only
def unignore(request: HttpRequest, item_id: int) -> HttpResponse:
    get_object_or_404(IncomingItem, pk=item_id)
    state = bulk_convert.unignore(item_id)
    if state is None:
        messages.error(request, "That item is not ignored.")
    elif state == IncomingItem.State.IGNORED:
        messages.warning(request, "A noise rule still ignores this item. Use “Convert” to make a ticket anyway.")
    else:
        messages.success(request, f"Item given back to the intake: {IncomingItem.State(state).label.lower()}.")
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(reverse("twitter_channel:stream"))


# --- Quarantine: what could not be read, shown to admins with a retry ---------------------


@admin_only
def quarantine_list(request: HttpRequest) -> HttpResponse:
    items = IncomingItem.objects.filter(state=IncomingItem.State.QUARANTINED).select_related("account")
    page = Paginator(items.order_by("-fetched_at", "-pk"), 50).get_page(request.GET.get("page"))
    # Pushed events whose envelope could not be read never became items: they are listed too.
    failed_events = ActivityEvent.objects.filter(state=ActivityEvent.State.FAILED).order_by("-received_at", "-pk")
    return render(request, "twitter_channel/quarantine.html",
                  {"page": page, "failed_events": failed_events[:50], "failed_event_count": failed_events.count()})


@admin_only
@require_POST
def retry_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(IncomingItem, pk=pk, state=IncomingItem.State.QUARANTINED)
    state = conversion.retry_quarantined(item)
    if state == IncomingItem.State.QUARANTINED:
        messages.error(request, f"Item {item.x_id} is still quarantined.")
    else:
        messages.success(request, f"Item {item.x_id} converted: {IncomingItem.State(state).label}.")
    return redirect("twitter_channel:quarantine")


@admin_only
@require_POST
def retry_all(request: HttpRequest) -> HttpResponse:
    states = [
        conversion.retry_quarantined(item)
        for item in IncomingItem.objects.filter(state=IncomingItem.State.QUARANTINED).order_by("pk")[:500]
    ]
    still = states.count(IncomingItem.State.QUARANTINED)
    messages.info(request, f"Retried {len(states)} item(s); {len(states) - still} converted, {still} still quarantined.")
    return redirect("twitter_channel:quarantine")
