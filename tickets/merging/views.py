"""The merge picker: search for the ticket to merge into, see what would move, confirm.

One page serves both the ticket page's dialog (`?partial=1` returns the panel alone, which
static/js/merge.js swaps in) and browsers without JavaScript (the whole page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from ..access import visible_tickets
from ..lifecycle import EditConflict
from ..models import Ticket
from . import MergeRefused, merge_candidates, merge_tickets, plan_merge


def _visible(request: HttpRequest, pk) -> Ticket:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such ticket") from None
    return get_object_or_404(visible_tickets(request.user).select_related("requester"), pk=pk)


@require_GET
@login_required
def merge_page(request: HttpRequest, pk: int) -> HttpResponse:
    source = _visible(request, pk)
    context: dict = {"ticket": source, "q": request.GET.get("q", "")[:200]}
    if request.GET.get("target"):
        target = _visible(request, request.GET["target"])
        context["target"] = target
        try:
            context["plan"] = plan_merge(source, target, user=request.user)
        except MergeRefused as exc:
            context["refused"] = str(exc)
    elif source.status != Ticket.Status.CLOSED:
        context["candidates"] = merge_candidates(request.user, source, context["q"])
    template = "tickets/merge/_panel.html" if request.GET.get("partial") else "tickets/merge/page.html"
    return render(request, template, context)


@require_POST
@login_required
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    source = _visible(request, pk)
    target = _visible(request, request.POST.get("target"))
    back = f"{reverse('tickets:merge', args=[source.pk])}?target={target.pk}"
    try:
        merge_tickets(source, target, by=request.user, source_status_seen=request.POST.get("source_status_seen"))
    except MergeRefused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except EditConflict as exc:
        # "your Closed was not saved" would puzzle: say what moved, and show the preview again.
        moved = exc.conflicts[0].describe().split(";")[0]
        messages.warning(request, f"Nothing was merged: #{source.pk} changed since your preview ({moved}). "
                                  "Check it and confirm again.")
        return redirect(back)
    messages.success(request, f"Merged #{source.pk} into #{target.pk}.")
    return redirect(target)
