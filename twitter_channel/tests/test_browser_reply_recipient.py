"""The composer in a real browser names who receives the reply, and follows the agent's
pick when they choose a participant of the thread instead of the requester (x_recipient.js)."""

from __future__ import annotations

import pytest

from tickets.models import User
from tickets.tests.factories import UserFactory
from twitter_channel.intake import bulk_convert, conversion
from twitter_channel.models import IncomingItem

from .answering_helpers import make_account, make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def thread_with_a_stranger(db):
    account = make_account()
    first = make_item(account, text="@AcmeHelp my order #123 is late", author_id="1000001", handle="alice_w")
    bulk_convert.convert_by_hand(first.pk)
    first.refresh_from_db()
    make_item(account, text="@alice_w @AcmeHelp DM me the details instead", author_id="1000666",
              handle="mallory_x", reply_to=first.x_id, conversation=first.x_id)
    conversion.convert_pending()
    assert IncomingItem.objects.filter(ticket=first.ticket).count() == 2
    return first.ticket


@pytest.mark.parametrize("width", [1440, 390])
def test_composer_says_who_receives_the_reply(live_server, browser, screenshot, thread_with_a_stranger, width):
    ticket = thread_with_a_stranger
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/x/tickets/{ticket.pk}/reply/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_selector("#x-composer")

    options = page.locator("#x-composer .x-options")
    assert "Public reply on X to @alice_w, under their post “@AcmeHelp my order #123 is late”" in options.inner_text()
    assert "Direct message on X to @alice_w" in options.inner_text()
    screenshot(page, f"x_recipient_{width}_1_requester")

    page.select_option("#x-composer select[name=to]", "1000666")

    assert "Public reply on X to @mallory_x, under their post" in options.inner_text()
    assert "Direct message on X to @mallory_x" in options.inner_text() and "Direct message on X to @alice_w" not in options.inner_text()
    screenshot(page, f"x_recipient_{width}_2_participant_picked")


@pytest.mark.parametrize("width", [1440, 390])
def test_ticket_page_choice_of_how_to_answer_names_who_receives_it(live_server, browser, screenshot,
                                                                   thread_with_a_stranger, width):
    ticket = thread_with_a_stranger
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_selector("#reply-form")
    choice = page.locator("#reply-form .answer-choice")
    assert "Public reply on X to @alice_w, under their post" in choice.inner_text()
    assert "Direct message on X to @alice_w" in choice.inner_text()

    page.select_option("#reply-form select[name=reply_option_to]", "1000666")

    assert "Public reply on X to @mallory_x, under their post" in choice.inner_text()
    assert "Direct message on X to @mallory_x" in choice.inner_text()
    # An internal note goes to nobody on X: the recipient, account, counter and price go.
    page.check("#reply-form input[name=kind][value=internal]")
    assert page.locator("#reply-form .x-options").is_hidden() and page.locator("#reply-form .x-counter").is_hidden()
    assert page.locator("#reply-form button[type=submit].primary").inner_text() == "Add internal note"
    page.check("#reply-form input[name=kind][value='public:dm']")
    assert page.locator("#reply-form .x-counter").is_visible() and page.locator("#reply-form .x-price").is_hidden()
    assert page.locator("#reply-form [data-count]").inner_text() == "0 / 10000"
    screenshot(page, f"x_recipient_{width}_3_ticket_page_dm")
