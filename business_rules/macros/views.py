"""The picker's data and agents' page of their own macros. Thin: the work is in `applying`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from tickets.access import visible_tickets

from .applying import SEEN_INPUT, plans_for
from .forms import MacroForm
from .models import Macro


@require_GET
@login_required
def for_ticket(request: HttpRequest, pk: int) -> JsonResponse:
    """Every macro the agent may apply, previewed on this ticket: the text as it would be
    written, the changes it would make, and its length as the ticket's channel counts it
    (`kind`, `append_link`: the reply box's current choices). Most used first."""
    ticket = get_object_or_404(visible_tickets(request.user).select_related("requester", "group", "assignee",
                                                                            "x_account"), pk=pk)
    macros = (
        Macro.objects.usable_by(request.user)
        .prefetch_related("actions")
        .order_by("-usage_count", "title", "id")
    )
    fit_options = {name: request.GET.get(name) for name in ("kind", "append_link")}
    plans = plans_for(ticket, request.user, macros, fit_options=fit_options)
    return JsonResponse({"seen_input": SEEN_INPUT, "macros": [p.as_json() for p in plans]})


@require_GET
@login_required
def my_macros(request: HttpRequest) -> HttpResponse:
    own = Macro.objects.filter(owner=request.user).prefetch_related("actions")
    shared = Macro.objects.filter(owner__isnull=True, active=True).prefetch_related("actions")
    return render(request, "business_rules/macros/list.html", {"own": own, "shared": shared})


@require_http_methods(["GET", "POST"])
@login_required
def edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or change one of the agent's own macros (shared ones are the admins', in the admin)."""
    macro = get_object_or_404(Macro, pk=pk, owner=request.user) if pk else Macro(owner=request.user)
    form = MacroForm(request.POST or None, instance=macro, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        form.save_actions(saved)
        messages.success(request, f"Macro “{saved}” saved.")
        return redirect("macros:mine")
    return render(request, "business_rules/macros/edit.html", {"form": form, "macro": macro},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    macro = get_object_or_404(Macro, pk=pk, owner=request.user)
    if request.method == "GET":
        return render(request, "business_rules/macros/confirm_delete.html", {"macro": macro})
    macro.delete()
    messages.success(request, f"Macro “{macro}” deleted.")
    return redirect("macros:mine")
