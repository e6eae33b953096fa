"""In a browser, under the strict CSP: the queue's SLA badges count down, the ticket page
shows its clocks, and the automation and SLA policy admin pages offer their own fields."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.models import Ticket
from tickets.tests.factories import AdminFactory, TicketFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_badges_count_down_and_the_rule_admin_pages_work(live_server, browser, screenshot):
    AdminFactory(username="ada")
    soon = TicketFactory(subject="Due soon", status=Ticket.Status.OPEN,
                         next_breach_at=timezone.now() + timedelta(minutes=30))
    TicketFactory(subject="Breached", status=Ticket.Status.OPEN, next_breach_at=timezone.now() - timedelta(hours=2))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/**")

    page.goto(f"{live_server.url}/views/breaching/")
    badges = page.locator("time[data-breach-at]")
    # The script rewrites the server's text ("29 minutes") in its own short form.
    assert badges.nth(0).inner_text().startswith("Breached 2 h")
    assert badges.nth(1).inner_text() in ("Due in 30 min", "Due in 29 min")
    screenshot(page, "sla_breaching_queue")

    page.goto(f"{live_server.url}{soon.get_absolute_url()}")
    assert page.locator(".pagehead .breach--soon").count() == 1

    page.goto(f"{live_server.url}/admin/business_rules/automation/add/")
    fields = page.locator("#id_all_conditions-0-field option").all_inner_texts()
    assert "Hours since status changed" in fields and "Comment text" not in fields
    page.select_option("#id_all_conditions-0-field", "hours_since_status_changed")
    assert page.locator("#id_all_conditions-0-operator option").all_inner_texts() == ["---------", "Greater than", "Less than"]
    screenshot(page, "automation_admin")
    page.goto(f"{live_server.url}/admin/business_rules/slapolicy/add/")
    fields = page.locator("#id_all_conditions-0-field option").all_inner_texts()
    assert "Channel" in fields and "SLA: a target is breached" not in fields
    assert violations == []
