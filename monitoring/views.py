"""`/metrics` for Prometheus (a bearer token) and the system page for people (admins)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from .metrics import HelpdeskCollector


def _scrape() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HelpdeskCollector())
    return generate_latest(registry)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format. Off (403) until METRICS_TOKEN is set; then the scraper sends
    `Authorization: Bearer <METRICS_TOKEN>` (401 without it, 403 with another)."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("metrics are off: set METRICS_TOKEN\n", status=403, content_type="text/plain")
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return HttpResponse("wrong token\n", status=403, content_type="text/plain")
    return HttpResponse(_scrape(), content_type=CONTENT_TYPE_LATEST)


@login_required
def system(request: HttpRequest) -> HttpResponse:
    """The same figures as /metrics, as tables, for admins."""
    if not request.user.is_admin:
        raise Http404
    families = []
    for family in text_string_to_metric_families(_scrape().decode()):
        samples = [(s.name, ", ".join(f"{k}={v}" for k, v in sorted(s.labels.items())), _number(s.value))
                   for s in family.samples if not s.name.endswith("_created")]
        families.append({"name": family.name, "type": family.type, "help": family.documentation, "samples": samples})
    return render(request, "monitoring/system.html", {"families": families})


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"
