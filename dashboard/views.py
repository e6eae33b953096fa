"""The dashboard page (plots drawn in the browser) and the JSON it fetches."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .data import RANGES, dashboard_data


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/dashboard.html", {"ranges": RANGES})


@login_required
def data(request: HttpRequest) -> JsonResponse:
    range_name = request.GET.get("range", "7d")
    if range_name not in RANGES:
        range_name = "7d"
    return JsonResponse(dashboard_data(request.user, range_name))
