"""An agent's day in a real browser: log in, open a ticket, add an internal note, solve it.

Drives Debian's chromium through Playwright's sync API against pytest-django's live server.
Playwright's sync API runs an asyncio loop in this thread, which makes Django refuse ORM
calls here unless DJANGO_ALLOW_ASYNC_UNSAFE is set; the ORM calls in this test are plain
synchronous ones, so the guard has nothing to protect.
"""


import pytest

from tickets.comments import add_comment
from tickets.models import Ticket, User

from .factories import RequesterFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def shot(screenshot):
    return lambda page, name: screenshot(page, f"agent_flow_{name}")


def test_agent_logs_in_adds_internal_note_and_solves_ticket(live_server, browser_page, shot):
    page = browser_page
    UserFactory(username="alice", first_name="Alice", role=User.Role.AGENT)
    ticket = TicketFactory(subject="Printer is on fire", requester=RequesterFactory(name="Grace Hopper"))
    add_comment(ticket, body="Smoke everywhere, please help", author_requester=ticket.requester)

    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.fill("#id_username", "alice")
    page.fill("#id_password", "secret-pass-123")
    shot(page, "1_login")
    page.click("button:has-text('Log in')")

    page.get_by_role("link", name="Printer is on fire").click()
    page.wait_for_url(f"**/tickets/{ticket.pk}/")
    assert page.locator(".thread").inner_text().count("Smoke everywhere") == 1
    shot(page, "2_ticket")

    page.get_by_label("Internal note").check()
    page.fill("#reply-form textarea[name=body]", "Called the fire brigade; customer is safe.")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector(".message--success")
    note = page.locator(".comment--internal")
    assert note.count() == 1
    assert "Called the fire brigade" in note.inner_text() and "Internal note" in note.inner_text()
    shot(page, "3_note_added")

    page.select_option("#properties-form select[name=status]", "solved")
    page.click("#properties-form button[type=submit]")
    page.wait_for_selector(".message--success")
    assert page.locator("#ticket-status").inner_text() == "Solved"
    shot(page, "4_solved")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.SOLVED and ticket.solved_at is not None
    note = ticket.comments.get(is_public=False)
    assert note.body == "Called the fire brigade; customer is safe." and note.author_user.username == "alice"
