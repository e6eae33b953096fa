"""The live workspace in real browsers: three agents (admin, agent, restricted agent), each in
their own browser context, against the helpdesk served over ASGI by uvicorn (pages and
sockets, as in production), with the X sandbox over real HTTP for the mention.

Playwright's sync API runs an asyncio loop in this thread, which makes Django refuse ORM
calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the browser fixture sets it); the ORM calls
here are plain synchronous ones. Screenshots at 1440 and 390 px go to test-artifacts/.
"""

from __future__ import annotations

import pytest
from django.db import connections

from tickets.comments import open_ticket_with_comment
from tickets.models import Channel, Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, RequesterFactory, UserFactory
from twitter_channel.tests.answering_sandbox import *  # noqa: F403
from twitter_channel.tests.answering_sandbox import poll

from .asgi_server import AsgiServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 390, "height": 844}


@pytest.fixture
def server(settings):
    # The server's threads keep no connection between calls, so the test database can be
    # flushed after the test whatever they were doing.
    database = settings.DATABASES["default"]
    kept, database["CONN_MAX_AGE"] = database["CONN_MAX_AGE"], 0
    running = AsgiServer().start()
    yield running
    running.stop()
    database["CONN_MAX_AGE"] = kept


@pytest.fixture
def cast(db, browser):
    # Playwright runs an event loop in this thread, so the ORM calls here use connections of
    # their own, kept from earlier browser tests; one that the database dropped meanwhile
    # (helpdesk/tests/test_database_blip.py terminates them) must not fail this test.
    connections.close_all()
    support = GroupFactory(name="Support")
    billing = GroupFactory(name="Billing")
    ada = AdminFactory(username="ada", first_name="Ada")
    alan = UserFactory(username="alan", first_name="Alan", role=User.Role.AGENT)
    # Rita sees the Support group's tickets only: neither Billing nor X.
    rita = UserFactory(username="rita", first_name="Rita", role=User.Role.RESTRICTED, allowed_channels=[])
    rita.allowed_groups.add(support)
    return {"support": support, "billing": billing, "ada": ada, "alan": alan, "rita": rita}


def agent_page(browser, server, username, viewport=WIDE):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.violations = violations
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def live(page) -> None:
    """Wait until the page's socket is connected."""
    page.wait_for_selector("html[data-live=on]", state="attached")


def opened(subject, **fields) -> Ticket:
    return open_ticket_with_comment(requester=RequesterFactory(), subject=subject, body="Please help", **fields).ticket


def test_mention_on_the_sandbox_appears_in_open_queues_it_may_reach(server, browser, screenshot, cast, sb, brand, alice):
    billing_ticket = opened("Invoice 17 is wrong", group=cast["billing"], channel=Channel.EMAIL)
    support_ticket = opened("Printer on fire", group=cast["support"], channel=Channel.EMAIL)
    alan = agent_page(browser, server, "alan")
    alan.goto(f"{server.url}/views/open/")
    live(alan)
    alan.click(".live-follow[data-view=open]")
    alan.wait_for_selector(".live-follow[data-view=open][aria-pressed=true]")
    alan.check(f"input[name=ticket_ids][value='{support_ticket.pk}']")
    rita = agent_page(browser, server, "rita")
    rita.goto(f"{server.url}/views/open/")
    live(rita)
    assert rita.locator(f"tr[data-ticket='{billing_ticket.pk}']").count() == 0
    phone = agent_page(browser, server, "alan", viewport=NARROW)
    phone.goto(f"{server.url}/views/open/")
    live(phone)

    sb.post_tweet(alice["id"], "@AcmeHelp my parcel never arrived")
    poll(brand)
    ticket = Ticket.objects.get(channel=Channel.X)

    row = alan.locator(f"tr[data-ticket='{ticket.pk}']")
    row.wait_for()
    assert "my parcel never arrived" in row.inner_text() or "parcel" in ticket.subject
    assert alan.locator("tbody tr[data-ticket]").first.get_attribute("data-ticket") == str(ticket.pk)
    # The agent's selection survived the update.
    assert alan.is_checked(f"input[name=ticket_ids][value='{support_ticket.pk}']")
    alan.wait_for_selector(".live-notice--new")
    assert alan.locator(".queuenav .live-count").first.inner_text().strip().isdigit()
    phone.locator(f"tr[data-ticket='{ticket.pk}']").wait_for()
    screenshot(alan, "live_queue_mention_1440")
    screenshot(phone, "live_queue_mention_390")

    # The restricted agent's queue never shows it (nor the Billing ticket), though it is live.
    rita.wait_for_timeout(1500)
    assert rita.locator(f"tr[data-ticket='{ticket.pk}']").count() == 0
    assert rita.locator(f"tr[data-ticket='{billing_ticket.pk}']").count() == 0
    assert rita.locator(f"tr[data-ticket='{support_ticket.pk}']").count() == 1
    assert rita.locator(".live-notice").count() == 0
    screenshot(rita, "live_queue_restricted_1440")
    assert not alan.violations + rita.violations + phone.violations


def test_presence_typing_and_property_changes_between_two_agents(server, browser, screenshot, cast):
    ticket = opened("Printer on fire", group=cast["support"], channel=Channel.EMAIL)
    ada = agent_page(browser, server, "ada")
    alan = agent_page(browser, server, "alan")
    alan.goto(f"{server.url}/tickets/{ticket.pk}/")
    live(alan)
    ada.goto(f"{server.url}/tickets/{ticket.pk}/")
    live(ada)

    alan.wait_for_selector("#live-presence:has-text('Also viewing: Ada')")
    ada.wait_for_selector("#live-presence:has-text('Also viewing: Alan')")

    # Typed key by key, as a person does: the page says "typing" while keys come and for a
    # few seconds after the last one.
    ada.locator("#reply-form textarea[name=body]").press_sequentially("Looking into it now", delay=100)
    alan.wait_for_selector("#live-typing:has-text('Ada is typing')")
    screenshot(alan, "live_ticket_typing_1440")
    alan.set_viewport_size(NARROW)
    screenshot(alan, "live_ticket_typing_390")
    alan.set_viewport_size(WIDE)
    # Ada stops typing: after a few idle seconds the line goes away.
    alan.wait_for_selector("#live-typing", state="hidden", timeout=15_000)

    # Ada changes the status; Alan's page shows it without reloading.
    ada.select_option("#properties-form select[name=status]", "pending")
    ada.click("#properties-form button[type=submit]")
    alan.wait_for_selector("#ticket-status:has-text('Pending')")
    assert alan.input_value("#properties-form select[name=status]") == "pending"
    alan.wait_for_selector("#live-ticket-note:has-text('Ada changed status to Pending')")
    screenshot(alan, "live_ticket_changed_1440")

    # Ada leaves (once her reloaded page is live again); Alan's page says nobody else is here.
    live(ada)
    ada.wait_for_selector("#live-presence:has-text('Also viewing: Alan')")
    ada.goto(f"{server.url}/views/open/")
    alan.wait_for_selector("#live-presence", state="hidden")
    # And the queue marks the ticket Alan has open.
    ada.wait_for_selector(f"tr[data-ticket='{ticket.pk}'] .live-viewing:has-text('Alan')")
    screenshot(ada, "live_queue_viewing_1440")
    assert not ada.violations + alan.violations


def test_reply_asks_first_when_another_agent_answered_meanwhile(server, browser, screenshot, cast):
    ticket = opened("Printer on fire", group=cast["support"], channel=Channel.WEB)
    ada = agent_page(browser, server, "ada")
    alan = agent_page(browser, server, "alan")
    for page in (ada, alan):
        page.goto(f"{server.url}/tickets/{ticket.pk}/")
        live(page)
    alan.fill("#reply-form textarea[name=body]", "Have you tried turning it off?")
    ada.get_by_label("Internal note").check()
    ada.fill("#reply-form textarea[name=body]", "I called the customer, it is solved")
    ada.click("#reply-form button[type=submit]")
    # Alan sees Ada's note arrive, and is warned because he has a draft.
    alan.wait_for_selector(".thread li.comment:has-text('I called the customer')")
    alan.wait_for_selector("#live-ticket-note:has-text('Ada just answered')")
    alan.click("#reply-form button[type=submit]")
    alan.wait_for_selector(".error:has-text('Ada answered this ticket since you opened it')")
    assert ticket.comments.filter(author_user=cast["alan"]).count() == 0
    assert alan.input_value("#reply-form textarea[name=body]") == "Have you tried turning it off?"
    screenshot(alan, "live_reply_collision_1440")
    alan.click("#reply-form button[type=submit]")
    alan.wait_for_selector(".message--success")
    assert ticket.comments.filter(author_user=cast["alan"]).count() == 1


def test_dropped_socket_shows_paused_and_resynchronises(server, browser, screenshot, cast):
    alan = agent_page(browser, server, "alan")
    alan.goto(f"{server.url}/views/open/")
    live(alan)
    server.stop()
    alan.wait_for_selector("#live-status:has-text('Live updates paused')")
    screenshot(alan, "live_paused_1440")
    missed = opened("Arrived while the socket was down", group=cast["support"], channel=Channel.EMAIL)
    server.start()
    alan.locator(f"tr[data-ticket='{missed.pk}']").wait_for(timeout=20_000)
    alan.wait_for_selector("#live-status", state="hidden")


def test_logging_out_in_another_tab_stops_the_live_page(server, browser, screenshot, cast):
    alan = agent_page(browser, server, "alan")
    alan.goto(f"{server.url}/views/open/")
    live(alan)
    other_tab = alan.context.new_page()
    other_tab.goto(f"{server.url}/views/open/")
    other_tab.click("button:has-text('Log out')")
    other_tab.wait_for_url(lambda url: "/views/" not in url)
    # The first tab's socket is closed by the server and the page stops trying.
    alan.wait_for_selector("#live-status:has-text('Signed out')")
    assert alan.evaluate("document.documentElement.dataset.live") == "off"
    missed = opened("Must not reach a signed-out page", group=cast["support"], channel=Channel.EMAIL)
    alan.wait_for_timeout(1500)
    assert alan.locator(f"tr[data-ticket='{missed.pk}']").count() == 0
    screenshot(alan, "live_signed_out_1440")


def test_changing_ones_own_password_keeps_this_browsers_pages_live(server, browser, cast):
    # The admin's password form keeps the session that changed it signed in (Django updates
    # its hash): the socket closed by the change reconnects at once instead of saying
    # "signed out".
    ada = agent_page(browser, server, "ada")
    ada.goto(f"{server.url}/views/open/")
    live(ada)
    other_tab = ada.context.new_page()
    other_tab.goto(f"{server.url}/admin/password_change/")
    other_tab.fill("#id_old_password", "secret-pass-123")
    other_tab.fill("#id_new_password1", "another-Secret-456")
    other_tab.fill("#id_new_password2", "another-Secret-456")
    other_tab.click("input[type=submit]")
    other_tab.wait_for_url(lambda url: "done" in url)
    ada.wait_for_timeout(2000)
    assert ada.locator("#live-status:has-text('Signed out')").count() == 0
    live(ada)
    arrived = opened("After the password change", group=cast["support"], channel=Channel.EMAIL)
    ada.locator(f"tr[data-ticket='{arrived.pk}']").wait_for()
