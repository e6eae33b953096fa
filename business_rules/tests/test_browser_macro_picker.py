"""The macro picker on a phone (390 px): it fits the screen, list above preview, and a tap
applies the macro. (The 1440 px flow with an X reply is twitter_channel's test_browser_macros.)"""

from __future__ import annotations

import pytest

from tickets.models import Channel, Ticket, User
from tickets.tests.factories import RequesterFactory, TicketFactory, UserFactory

from .macro_helpers import make_macro

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picker_fits_a_phone_and_applies_by_tap(live_server, browser, screenshot):
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    ticket = TicketFactory(subject="Parcel", requester=RequesterFactory(name="Alice Walker"), channel=Channel.WEB,
                           status=Ticket.Status.OPEN)
    for i in range(8):
        make_macro(f"Macro number {i}", f"Hello {{{{requester.first_name}}}}, answer {i}.", set_priority="3")

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")

    page.click("[data-macro-open]")
    page.wait_for_selector(".macro-picker__item")
    box = page.locator("[data-macro-dialog]").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    preview = page.locator("[data-macro-preview]").bounding_box()
    assert preview["width"] > 300  # below the list, not squeezed beside it
    screenshot(page, "macros_390_picker")

    page.locator(".macro-picker__item", has_text="Macro number 3").click()
    assert "answer 3." in page.locator(".macro-preview__text").inner_text()
    page.click("[data-macro-preview] button:has-text('Apply')")
    assert page.locator("#reply-form textarea[name=body]").input_value() == "Hello Alice, answer 3."
    assert "Priority: Normal → High" in page.locator("[data-macro-applied]").inner_text()


@pytest.mark.parametrize("width", [1440, 390])
def test_agent_writes_a_personal_macro_on_their_page(live_server, browser, screenshot, width):
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    make_macro("Shared thanks", "Thanks {{requester.first_name}}!", set_status="solved")

    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/macros/new/")
    page.fill("#id_title", "My sign-off")
    page.fill("#id_body", "Talk soon, {{requester.first_name}}. ^{{current_user.first_name}}")
    page.select_option("#id_set_assignee", "current_user")
    page.fill("#id_add_tags", "followed-up")
    screenshot(page, f"macros_{width}_my_macro_form")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".message--success")
    table = page.locator(".macro-table").first
    assert "My sign-off" in table.inner_text() and "the agent who applies it" in table.inner_text()
    assert "Shared thanks" in page.locator(".macro-table").nth(1).inner_text()
    wrap = page.locator(".macro-table-wrap").first.bounding_box()
    assert wrap["x"] + wrap["width"] <= width
    screenshot(page, f"macros_{width}_my_macros")
