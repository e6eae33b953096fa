"""The X spend pages: per account and for the whole app, with their monthly budgets."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from tickets.access import admin_only
from twitter_channel.costs.meter import app_budget_state, budget_state, check_budget, spend_of, utc_today
from twitter_channel.costs.models import XBudget
from twitter_channel.models import XAccount
from twitter_channel.x.pricing import Kind, price


class BudgetForm(forms.ModelForm):
    monthly_usd = forms.DecimalField(label="Monthly budget (USD)", required=False, min_value=0, max_digits=10,
                                     decimal_places=2, help_text="Empty: no budget.")

    class Meta:
        model = XBudget
        fields = ["monthly_usd", "slow_floor_seconds", "hard_stop"]


def _budget_page(request: HttpRequest, account: XAccount | None, template: str, extra: dict) -> HttpResponse:
    budget = XBudget.objects.filter(account=account).first() if account else \
        XBudget.objects.filter(account__isnull=True).first()
    form = BudgetForm(request.POST or None, instance=budget or XBudget(account=account))
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["monthly_usd"] is None:
            if budget:
                budget.delete()
            messages.success(request, "Budget removed.")
        else:
            saved = form.save(commit=False)
            # A changed budget is judged afresh: its thresholds are announced again if reached.
            saved.warned_for = saved.exceeded_for = None
            saved.save()
            check_budget(saved)
            messages.success(request, "Budget saved.")
        return redirect(request.path)
    spend = spend_of(account)
    kinds = dict(Kind.choices)
    daily = [(day, [(kinds.get(kind, kind), usd) for kind, usd in by_kind.items()], sum(by_kind.values()))
             for day, by_kind in spend.daily]
    peak = max((total for _, _, total in daily), default=0) or 1
    return render(request, template, {
        "account": account, "spend": spend, "form": form, "budget": budget,
        "daily": [(day, parts, total, int(100 * total / peak)) for day, parts, total in daily],
        "state": budget_state(account.pk) if account else app_budget_state(), "today": utc_today(),
        "prices": [(label, price(kind)) for kind, label in Kind.choices], **extra})


@admin_only
def account_costs(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(XAccount, pk=pk)
    return _budget_page(request, account, "twitter_channel/costs.html", {})


@admin_only
def app_costs(request: HttpRequest) -> HttpResponse:
    accounts = [(a, spend_of(a)) for a in XAccount.objects.order_by("username")]
    return _budget_page(request, None, "twitter_channel/costs.html", {"accounts": accounts})


def _daily_json(account: XAccount | None) -> JsonResponse:
    """This month's spend per day, one dataset per kind, in dollars (the page's plot)."""
    spend = spend_of(account)
    kinds = dict(Kind.choices)
    present = [kind for kind in kinds if any(kind in by_kind for _, by_kind in spend.daily)]
    return JsonResponse({
        "labels": [day.isoformat() for day, _ in spend.daily],
        "datasets": [{"label": kinds[kind], "data": [float(by_kind.get(kind, 0)) for _, by_kind in spend.daily]}
                     for kind in present]})


@admin_only
def account_costs_json(request: HttpRequest, pk: int) -> JsonResponse:
    return _daily_json(get_object_or_404(XAccount, pk=pk))


@admin_only
def app_costs_json(request: HttpRequest) -> JsonResponse:
    return _daily_json(None)
