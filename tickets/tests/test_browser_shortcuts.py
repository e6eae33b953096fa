"""Keyboard shortcuts in a real browser (static/js/shortcuts.js): through a queue with j/k
and Enter, to the next ticket of that queue from a ticket page, a note with n and
Ctrl+Enter, and the help overlay on "?"."""

from __future__ import annotations

import pytest

from tickets.comments import add_comment
from tickets.models import Ticket, User

from .factories import RequesterFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_moves_through_the_queue_and_answers_by_keyboard(live_server, browser, screenshot):
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    for subject in ("Printer on fire", "Password reset", "Invoice missing"):
        ticket = TicketFactory(subject=subject, requester=RequesterFactory(name=f"{subject} person"),
                               status=Ticket.Status.OPEN)
        add_comment(ticket, body=f"About: {subject}", author_requester=ticket.requester)

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_selector("tr[data-ticket]")
    order = [int(pk) for pk in page.locator("tr[data-ticket]").evaluate_all("rows => rows.map(r => r.dataset.ticket)")]
    assert len(order) == 3

    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("tr.is-current").get_attribute("data-ticket") == str(order[1])
    page.keyboard.press("k")
    assert page.locator("tr.is-current").get_attribute("data-ticket") == str(order[0])
    screenshot(page, "shortcuts_1440_1_queue_current_row")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{order[0]}/")

    page.keyboard.press("j")  # the next ticket of the queue the agent came from
    page.wait_for_url(f"**/tickets/{order[1]}/")
    page.keyboard.press("j")
    page.wait_for_url(f"**/tickets/{order[2]}/")
    page.keyboard.press("j")  # the last one: j does nothing
    page.keyboard.press("k")
    page.wait_for_url(f"**/tickets/{order[1]}/")

    page.keyboard.press("?")
    help_ = page.locator(".shortcuts-help")
    help_.wait_for(state="visible")
    assert "Apply a macro" in help_.inner_text() and "Internal note" in help_.inner_text()
    screenshot(page, "shortcuts_1440_2_help")
    page.keyboard.press("Escape")
    help_.wait_for(state="hidden")

    page.keyboard.press("n")
    assert page.locator("#reply-form input[name=kind][value=internal]").is_checked()
    assert page.evaluate("document.activeElement.name") == "body"
    page.keyboard.type("Checked the logs, nothing odd.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".message--success")
    note = Ticket.objects.get(pk=order[1]).comments.get(author_user__username="dana")
    assert note.body == "Checked the logs, nothing odd." and not note.is_public

    page.keyboard.press("r")
    assert page.locator("#reply-form input[name=kind][value^=public]").first.is_checked()
    page.keyboard.press("Escape")  # leaves the reply box; keys are shortcuts again
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.name") == "then_status"
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    page.locator("[data-macro-dialog]").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("[data-macro-dialog]").wait_for(state="hidden")
    page.keyboard.press("u")  # back to the queue
    page.wait_for_selector("tr[data-ticket]")
    assert violations == []
