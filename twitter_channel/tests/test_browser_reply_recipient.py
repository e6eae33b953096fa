"""The composer in a real browser names who receives the reply, and follows the agent's
pick when they choose a participant of the thread instead of the requester (x_recipient.js)."""

from __future__ import annotations

import pytest

from tickets.models import User
from tickets.tests.factories import UserFactory
from twitter_channel import bulk_convert, conversion
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
