"""URLs that came from outside (X profile pictures, tweet links) go into href/src only when
they are plain http(s): HTML escaping does not stop a `javascript:` link."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def http_url(value: str) -> str:
    value = (value or "").strip()
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        return ""
    return value if scheme in ("http", "https") else ""
