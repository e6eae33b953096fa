"""Two agents on one ticket in two real browsers: the issue's own scenario, then a conflict
shown to the agent whose page was old, and his deliberate retry."""

import pytest

from tickets.comments import add_comment
from tickets.models import Ticket

from .factories import RequesterFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in(browser, live_server, username):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/**")
    return page


def test_two_agents_edit_one_ticket_and_nothing_is_lost(live_server, browser, screenshot):
    maria = UserFactory(username="maria", first_name="Maria")
    UserFactory(username="ben", first_name="Ben")
    ticket = TicketFactory(subject="Card charged twice", requester=RequesterFactory(name="Grace Hopper"))
    add_comment(ticket, body="I was charged twice!", author_requester=ticket.requester)
    url = f"{live_server.url}/tickets/{ticket.pk}/"
    marias, bens = logged_in(browser, live_server, "maria"), logged_in(browser, live_server, "ben")
    marias.goto(url)
    bens.goto(url)

    # Maria: Urgent, and she takes it.
    marias.select_option("#properties-form select[name=priority]", "4")
    marias.select_option("#properties-form select[name=assignee]", str(maria.pk))
    marias.click("#properties-form button[type=submit]")
    marias.wait_for_selector(".message--success")

    # Ben, on his older page, adds a tag.
    bens.fill("#properties-form input[name=tags]", "billing")
    bens.click("#properties-form button[type=submit]")
    bens.wait_for_selector(".message--success")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, list(ticket.tags.values_list("name", flat=True))) == (
        Ticket.Priority.URGENT, maria, ["billing"]
    )
    log = bens.locator(".changes").all_inner_texts()
    assert any("Maria" in line and "Normal → Urgent" in line and "Unassigned → Maria" in line for line in log)
    assert any("Ben" in line and "added tag billing" in line for line in log)
    screenshot(bens, "edit_conflicts_1_both_changes_kept")

    # Maria puts it on hold while Ben, on the page he has, marks it solved: refused, explained.
    marias.reload()
    marias.select_option("#properties-form select[name=status]", "on_hold")
    marias.click("#properties-form button[type=submit]")
    marias.wait_for_selector(".message--success")
    bens.select_option("#properties-form select[name=status]", "solved")
    bens.click("#properties-form button[type=submit]")
    error = bens.locator("#properties-form .errorlist")
    error.wait_for()
    assert "Status: Maria changed it from New to On-hold" in error.inner_text()
    assert bens.locator("#properties-form select[name=status]").input_value() == "solved"  # his choice kept
    screenshot(bens, "edit_conflicts_2_refused")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ON_HOLD

    # Having read it, Ben submits again: now it is his deliberate choice.
    bens.click("#properties-form button[type=submit]")
    bens.wait_for_selector(".message--success")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED
