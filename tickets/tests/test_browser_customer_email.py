"""The customer's way from X to email in a real browser: the link they received, the form,
the confirmation mail, and the agent's reply by email reaching the confirmed address.

The form pages once sent `Referrer-Policy: no-referrer`, under which Chromium posts a form
with `Origin: null` and Django's CSRF check answers 403: every customer who followed the
link hit an error. Only a real browser shows that, so this drives Debian's chromium
(Playwright) against pytest-django's live server, at a desktop and a phone width.
"""

import re

import pytest
from django.core import mail

from tickets.links import request_email_link
from tickets.mail.capture import new_email_request
from tickets.models import Channel, Identity, User

from .factories import TicketFactory, UserFactory, XIdentityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def x_ticket():
    requester = XIdentityFactory(handle="alice_w", requester__name="Alice Walker").requester
    return TicketFactory(subject="Parcel lost", requester=requester, channel=Channel.X)


def new_page(browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.mark.parametrize("width", [1440, 390])
def test_customer_leaves_and_confirms_an_address_and_the_agent_replies_there(
    live_server, settings, browser, screenshot, x_ticket, width
):
    settings.SITE_URL = live_server.url
    agent = UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    link = request_email_link(new_email_request(x_ticket, agent))  # what the DM carried
    customer = new_page(browser, width)
    refused = []
    customer.on("response", lambda r: refused.append(r.url) if r.status == 403 else None)

    customer.goto(link)
    assert customer.get_by_role("heading").first.inner_text() == f"Continue request #{x_ticket.pk} by email"
    screenshot(customer, f"customer_email_{width}_1_form")
    customer.get_by_label("Your email address").fill("alice@example.com")
    customer.get_by_role("button", name="Continue by email").click()

    customer.wait_for_selector("text=Check your inbox")
    assert refused == []  # the CSRF check accepted the browser's post
    screenshot(customer, f"customer_email_{width}_2_check_inbox")
    (confirmation,) = mail.outbox
    assert confirmation.to == ["alice@example.com"]
    assert not Identity.objects.filter(kind=Identity.Kind.EMAIL).exists()  # not before its owner confirms

    customer.goto(re.search(r"https?://\S+/t/confirm/\S+/", confirmation.body).group(0))
    screenshot(customer, f"customer_email_{width}_3_confirm")
    customer.get_by_role("button", name="Confirm my address").click()
    customer.wait_for_selector("text=Your address is confirmed")
    screenshot(customer, f"customer_email_{width}_4_confirmed")
    assert refused == []

    desk = new_page(browser, 1440)
    desk.goto(f"{live_server.url}/tickets/{x_ticket.pk}/")
    desk.fill("#id_username", "dana")
    desk.fill("#id_password", "secret-pass-123")
    desk.click("button:has-text('Log in')")
    desk.wait_for_url(f"**/tickets/{x_ticket.pk}/")
    desk.get_by_label("Email to alice@example.com").check()
    desk.fill("#reply-form textarea[name=body]", "Found your parcel: it arrives tomorrow.")
    desk.click("#reply-form button.primary[type=submit]")
    desk.wait_for_selector(".message--success")
    screenshot(desk, f"customer_email_{width}_5_agent_replied")

    reply = mail.outbox[-1]
    assert reply.to == ["alice@example.com"]
    assert reply.body == "Found your parcel: it arrives tomorrow."
    assert len(mail.outbox) == 2
