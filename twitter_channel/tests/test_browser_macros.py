"""The macro picker in a real browser at 1440 px: "m" opens it, typing filters, the
highlighted macro is previewed as it will be sent (text after its placeholders, X's length,
the changes it makes), Enter puts it into the reply box, and submitting sends it to the X
sandbox with the macro's actions applied. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest

from business_rules.models import Macro
from business_rules.tests.macro_helpers import make_macro
from tickets.models import Ticket
from tickets.tests.factories import UserFactory
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.models import IncomingItem

from .answering_sandbox import poll

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]


@pytest.fixture
def mention(sb, brand):
    customer = sb.create_user("alice_w", name="Alice Walker")
    tweet = sb.post_tweet(customer["id"], "@AcmeHelp my order #123 is late")
    (item,) = poll(brand)
    assert item.state == IncomingItem.State.TICKETED
    return item.ticket, tweet


def test_picker_previews_and_applies_a_macro_with_the_keyboard(live_server, browser, screenshot, sb, brand, mention,
                                                               settings):
    settings.SITE_URL = live_server.url
    ticket, tweet = mention
    UserFactory(username="dana", first_name="Dana", last_name="Agent")
    make_macro("Thanks", "Thanks {{requester.first_name}}!")
    late = make_macro("Order late", "Hi {{requester.first_name}}, sorry! Ticket #{{ticket.id}} is with our warehouse. "
                      "^{{current_user.first_name}}", set_status="pending", add_tags="order-delay",
                      set_assignee="current_user")
    make_macro("Refund issued", "Your refund is on its way, {{requester.first_name}}.", set_status="solved",
               add_tags="refund")
    make_macro("Too long", "x" * 270 + " {{ticket.subject}}")

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")

    page.keyboard.press("m")
    dialog = page.locator("[data-macro-dialog]")
    dialog.wait_for(state="visible")
    page.wait_for_selector(".macro-picker__item")
    assert page.evaluate("document.activeElement.matches('[data-macro-search]')")
    assert page.locator(".macro-picker__item .macro-picker__title").all_inner_texts() == [
        "Order late", "Refund issued", "Thanks", "Too long"]

    page.keyboard.type("late")
    preview = page.locator("[data-macro-preview]")
    text = f"Hi Alice, sorry! Ticket #{ticket.pk} is with our warehouse. ^Dana"
    # Title matches first, then macros whose text matches ("Too long" quotes the ticket's subject).
    assert page.locator(".macro-picker__item .macro-picker__title").all_inner_texts() == ["Order late", "Too long"]
    assert preview.locator(".macro-preview__text").inner_text() == text
    assert preview.locator("[data-macro-fit]").inner_text() == f"{len(text)} / 280 · X post"
    assert preview.locator(".macro-changes li").all_inner_texts() == [
        "Status: New → Pending", "Assignee: Unassigned → Dana Agent", "Tags: +order-delay"]
    box = dialog.bounding_box()
    assert box["width"] > 800 and box["x"] > 0 and box["x"] + box["width"] < 1440
    screenshot(page, "macros_1440_1_picker_preview")

    page.fill("[data-macro-search]", "")
    page.keyboard.type("long")
    fit = preview.locator("[data-macro-fit]")
    assert fit.get_attribute("data-macro-fit") == "over" and "too long by" in fit.inner_text()
    screenshot(page, "macros_1440_2_over_the_limit")

    page.fill("[data-macro-search]", "")
    page.keyboard.press("Enter")  # the most used first: "Order late" (all unused: by title)
    dialog.wait_for(state="hidden")
    body = page.locator("#reply-form textarea[name=body]")
    assert body.input_value() == text
    assert page.evaluate("document.activeElement.name") == "body"
    applied = page.locator("[data-macro-applied]")
    assert applied.is_visible() and "Order late" in applied.inner_text() and "Tags: +order-delay" in applied.inner_text()
    assert page.locator("#reply-form input[name=macro]").input_value() == str(late.pk)
    screenshot(page, "macros_1440_3_applied_in_the_reply_box")

    page.keyboard.press("Control+Enter")  # sends from the reply box (static/js/shortcuts.js)
    page.wait_for_selector(".message--success")
    assert "Macro “Order late” applied" in page.locator(".messages").inner_text()
    screenshot(page, "macros_1440_4_sent")

    outgoing = OutgoingMessage.objects.get()
    assert outgoing.text == text and outgoing.state == OutgoingMessage.State.SENT
    (root,) = sb.thread(tweet["id"])["thread"]
    assert [r["text"] for r in root["replies"]] == [text]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING and ticket.assignee.username == "dana"
    assert Macro.objects.get(pk=late.pk).usage_count == 1
    assert violations == []
