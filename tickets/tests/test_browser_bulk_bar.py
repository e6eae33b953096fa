"""The queue's bulk bar in a real browser shows only the chosen action's control, and an
assignee picked before switching to "Set status" does not reach the tickets."""

from __future__ import annotations

import pytest

from tickets.models import Ticket, User

from .factories import TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bulk_bar_shows_and_sends_only_the_chosen_actions_control(live_server, browser, screenshot):
    UserFactory(username="alice", first_name="Alice", role=User.Role.AGENT)
    bob = UserFactory(username="bob", first_name="Bob", role=User.Role.AGENT)
    ticket = TicketFactory(subject="Parcel lost", status=Ticket.Status.OPEN)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    bar = page.locator(".bulkbar")
    bar.wait_for()
    assignee, status, tag = bar.locator("[name=assignee]"), bar.locator("[name=status]"), bar.locator("[name=tag]")

    assert assignee.is_visible() and not status.is_visible() and not tag.is_visible()
    assignee.select_option(str(bob.pk))
    page.select_option("#bulk-action", "status")
    assert status.is_visible() and not assignee.is_visible() and not tag.is_visible()
    page.select_option("#bulk-action", "tag")
    assert tag.is_visible() and not assignee.is_visible() and not status.is_visible()
    page.select_option("#bulk-action", "status")
    status.select_option("pending")
    page.check(f"input[name=ticket_ids][value='{ticket.pk}']")
    screenshot(page, "bulk_bar_set_status")
    page.click("button:has-text('Apply to selected')")
    page.wait_for_selector(".message--success")

    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == ("pending", None)
