"""Merging from the ticket page in a real browser: the dialog finds the customer's other
ticket, searching finds one by number, the preview says what moves, confirming lands on
the merged ticket; the merged one says where it went. At 1440 px and at 390 px (no
horizontal scrolling). Screenshots in test-artifacts/."""

import pytest

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.models import Channel, Ticket

from .factories import RequesterFactory, UserFactory, XIdentityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in(browser, live_server, width, height):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "maria")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/**")
    return page


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_an_agent_merges_a_dm_ticket_into_the_mention_ticket(live_server, browser, screenshot, width, height):
    UserFactory(username="maria", first_name="Maria")
    alice = RequesterFactory(name="Alice Moss")
    XIdentityFactory(requester=alice, handle="alice")
    mention = open_ticket_with_comment(requester=alice, subject="@AcmeHelp order 123 never arrived",
                                       body="@AcmeHelp order 123 never arrived", channel=Channel.X).ticket
    dm = open_ticket_with_comment(requester=alice, subject="It's order 123, sent to Leeds",
                                  body="It's order 123, sent to Leeds", channel=Channel.X_DM).ticket
    add_comment(dm, body="Any news?", author_requester=alice)
    unrelated = open_ticket_with_comment(requester=RequesterFactory(name="Bob Stone"), subject="Refund please",
                                         body="Refund please", channel=Channel.EMAIL).ticket
    page = logged_in(browser, live_server, width, height)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "/live/ws/" not in m.text else None)
    page.goto(f"{live_server.url}{dm.get_absolute_url()}")

    # The requester card already lists her other ticket.
    assert "@AcmeHelp order 123 never arrived" in page.locator("[aria-label='Other tickets of Alice Moss']").inner_text()

    page.click("[data-merge-open]")
    dialog = page.locator("#merge-dialog")
    dialog.locator(".merge-candidates").wait_for()
    # Her other open ticket is offered first, without typing.
    assert f"#{mention.pk} @AcmeHelp order 123 never arrived" in dialog.locator(".merge-candidates").inner_text()
    # Searching by number finds someone else's ticket too (as you type).
    dialog.locator("input[type=search]").fill(str(unrelated.pk))
    dialog.locator(".merge-candidates a", has_text="Refund please").wait_for()
    dialog.locator("input[type=search]").fill("order 123")
    dialog.locator(".merge-candidates a", has_text="never arrived").wait_for()
    assert "Refund please" not in dialog.locator(".merge-candidates").inner_text()
    screenshot(page, f"merge_1_picker_{width}")
    assert no_horizontal_scroll(page)

    dialog.locator(f"a:has-text('#{mention.pk}')").click()
    preview = dialog.locator("[aria-label='Merge preview']")
    preview.wait_for()
    text = preview.inner_text()
    assert f"2 messages move to #{mention.pk}, which will hold 4" in text
    assert "Alice Moss on both." in text
    screenshot(page, f"merge_2_preview_{width}")
    assert no_horizontal_scroll(page)

    dialog.locator(f"button:has-text('Merge into #{mention.pk}')").click()
    page.wait_for_url(f"{live_server.url}{mention.get_absolute_url()}")
    page.wait_for_selector(".message--success")
    thread = page.locator(".thread").inner_text()
    assert "It's order 123, sent to Leeds" in thread and "Any news?" in thread
    assert f"Merged #{dm.pk}" in thread
    assert f"merged #{dm.pk} It's order 123, sent to Leeds into this ticket" in thread
    screenshot(page, f"merge_3_merged_{width}")
    assert no_horizontal_scroll(page)

    page.goto(f"{live_server.url}{dm.get_absolute_url()}")
    assert f"Merged into #{mention.pk}" in page.locator(".merged").inner_text()
    assert page.locator("[data-merge-open]").count() == 0
    assert Ticket.objects.get(pk=dm.pk).status == Ticket.Status.CLOSED
    assert errors == []
