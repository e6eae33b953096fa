"""A strict Content-Security-Policy on every page (django-csp): scripts and styles come only
from our own static files, so markup that slipped into a post, a name or an email could not run
even if escaping ever failed. The pages must keep working under it, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tickets.comments import add_comment
from tickets.links import ticket_link
from tickets.tests.factories import AdminFactory, RequesterFactory, TicketFactory

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates",
                 *sorted(Path(settings.BASE_DIR).glob("*/templates"))]
INLINE_CODE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> block"),
    (re.compile(r"\sstyle=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/health/"])
def test_every_response_carries_a_policy_without_inline_code(client, path):
    directives = policy(client.get(path))

    assert directives["script-src"] == "script-src 'self'"
    assert directives["style-src"] == "style-src 'self'"
    assert directives["object-src"] == "object-src 'none'"
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe" not in "".join(directives.values())


def test_no_template_holds_inline_code():
    found = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            found += [f"{template.relative_to(settings.BASE_DIR)}: {what}" for pattern, what in INLINE_CODE
                      if pattern.search(text)]
    assert found == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_work_in_a_browser_with_no_policy_violation(live_server, browser, screenshot, settings):
    settings.SITE_URL = live_server.url
    AdminFactory(username="ada")
    ticket = TicketFactory(subject="Order 1234 is late", requester=RequesterFactory(name="Grace Hopper"))
    add_comment(ticket, body="<script>alert(1)</script> where is my order?", author_requester=ticket.requester)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("dialog", lambda dialog: violations.append(f"a dialog opened: {dialog.message}"))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/**")
    for path in ["/", f"/tickets/{ticket.pk}/", "/x/incoming/", "/x/accounts/", "/x/quarantine/", "/admin/",
                 "/admin/business_rules/trigger/add/"]:
        page.goto(f"{live_server.url}{path}")
        assert page.locator("body").inner_text()
    screenshot(page, "csp_trigger_admin")
    page.goto(ticket_link(ticket))
    public_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    screenshot(page, "csp_public_ticket")

    assert violations == []
    assert public_background == "rgb(246, 247, 249)"  # the requesters' stylesheet loaded
