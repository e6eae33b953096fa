"""The address a request came from, as login throttling and rate limits must see it.

Behind a reverse proxy every request arrives from the proxy, so throttling REMOTE_ADDR would
lock out everyone at once, while trusting X-Forwarded-For blindly lets an attacker pick a new
address per request. TRUSTED_PROXY_COUNT says how many proxies of ours stand in front: the
address the outermost of them saw is that many entries from the right of X-Forwarded-For.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")
