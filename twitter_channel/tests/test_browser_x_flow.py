"""The X channel end to end in a real browser: an admin connects the brand through the
sandbox's OAuth consent page, mentions posted on the sandbox show up in the incoming stream,
the admin bulk-converts them, an agent replies with the ticket link, and the sandbox shows
the reply threaded under the customer's post.

Debian's chromium through Playwright's sync API, pytest-django's live server, the X sandbox
over real HTTP. Celery tasks run eagerly in the server's thread (the worker path is covered
by the end-to-end tests). Playwright's sync API runs an asyncio loop in this thread, which
makes Django refuse ORM calls unless DJANGO_ALLOW_ASYNC_UNSAFE is set; the ORM calls here
are plain synchronous ones. Screenshots of each step go to test-artifacts/.
"""

from __future__ import annotations

import pytest

from tickets.models import Comment, Ticket, User
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.answering.models import OutgoingMessage
from twitter_channel.intake import polling
from twitter_channel.intake.tasks import enqueue_conversion
from twitter_channel.models import IncomingItem, XAccount

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]


def new_page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def shot(screenshot):
    return lambda page, name: screenshot(page, f"x_flow_{name}")


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_admin_connects_converts_and_agent_replies_on_x(live_server, browser, shot, sb, settings):
    settings.SITE_URL = live_server.url
    settings.X_OAUTH_AUTHORIZE_URL = f"{sb.base_url}/i/oauth2/authorize"
    brand = sb.create_user("AcmeHelp", name="Acme Help", brand=True)
    customers = [sb.create_user(name, name=name.title()) for name in ("alice", "bob", "carol")]
    AdminFactory(username="root", first_name="Rita")
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)

    # 1. The admin connects the brand on the sandbox's consent page.
    admin = new_page(browser)
    log_in(admin, live_server.url, "root")
    admin.goto(f"{live_server.url}/x/accounts/")
    admin.click("button:has-text('Connect X account')")
    admin.wait_for_url(f"{sb.base_url}/i/oauth2/authorize**")
    admin.select_option("select[name=user_id]", brand["id"])
    shot(admin, "1_consent")
    admin.click("button:has-text('Authorize app')")
    admin.wait_for_url(f"{live_server.url}/x/accounts/**")
    assert "Connected @AcmeHelp" in admin.content()
    shot(admin, "2_connected")
    account = XAccount.objects.get(user_id=brand["id"])
    # This brand triages mentions by hand: they wait in the stream instead of opening tickets.
    XAccount.objects.filter(pk=account.pk).update(capture_mentions=False)

    # 2. Customers mention the brand; a poll brings the mentions into the stream.
    tweets = [sb.post_tweet(c["id"], f"@AcmeHelp order {n} never arrived") for n, c in enumerate(customers)]
    result = polling.poll_stream(account.pk, "mentions")
    enqueue_conversion(account.pk, result.to_convert)  # as the poll task does (Celery runs it eagerly here)
    assert result.outcome == "ok" and result.stored == 3
    admin.goto(f"{live_server.url}/x/incoming/")
    rows = admin.locator("table.stream tbody tr")
    assert rows.count() == 3
    assert all(f"order {n} never arrived" in admin.inner_text("table.stream") for n in range(3))
    assert admin.locator("tr[data-state=not_captured]").count() == 3
    shot(admin, "3_incoming_stream")

    # 3. The admin selects all three and converts them in one step.
    admin.check("#select-all")
    admin.click("#bulk-convert")
    admin.wait_for_selector("#bulk-summary")
    assert "3 tickets created" in admin.inner_text("#bulk-summary")
    shot(admin, "4_bulk_converted")
    assert Ticket.objects.count() == 3
    assert IncomingItem.objects.filter(state=IncomingItem.State.TICKETED).count() == 3
    alice_ticket = IncomingItem.objects.get(x_id=tweets[0]["id"]).ticket

    # 4. An agent answers Alice on X, with the ticket link; the counter counts as X does.
    agent = new_page(browser)
    log_in(agent, live_server.url, "dana")
    agent.goto(f"{live_server.url}{alice_ticket.get_absolute_url()}")
    agent.fill("#reply-form textarea[name=body]", "Sorry Alice! Your parcel is on its way, follow it here:")
    agent.check("#reply-form input[type=checkbox][name=reply_option_append_link]")
    counter = agent.locator("#reply-form [data-count]")
    link_weight = int(agent.get_attribute("#reply-form [data-x-counter]", "data-link-weight"))
    assert counter.inner_text() == f"{55 + link_weight} / 280"
    shot(agent, "5_composing")
    # The live counter weighs text as X's twitter-text does (the server's check).
    from twitter_channel.x.text_length import weighted_length

    for sample in ("plain text", "日本語のテキスト", "thanks 👍🏽 👨\u200d👩\u200d👧", "see https://example.com/a/very/long/path",
                   "www.acme.com and acme.org", "café — naïve"):
        assert agent.evaluate("(t) => window.xWeightedLength(t)", sample) == weighted_length(sample), sample
    agent.click("#reply-form button[type=submit].primary")
    agent.wait_for_selector(".message--success")
    shot(agent, "6_sent")

    outgoing = OutgoingMessage.objects.get()
    assert outgoing.state == OutgoingMessage.State.SENT
    comment = Comment.objects.get(pk=outgoing.comment_id)
    assert comment.external_url == f"https://x.com/AcmeHelp/status/{outgoing.x_id}"
    assert agent.locator(f"#outgoing-{outgoing.pk}[data-state=sent]").count() == 1
    assert agent.locator(f"a[href='{comment.external_url}']").count() >= 1

    # 5. On X (the sandbox), the reply sits under Alice's post and carries the ticket link.
    (root,) = sb.thread(tweets[0]["id"])["thread"]
    (reply,) = root["replies"]
    assert reply["id"] == outgoing.x_id and reply["author_id"] == brand["id"]
    assert reply["text"].startswith("Sorry Alice! Your parcel is on its way, follow it here: https://t.co/")
    expanded = [u["expanded_url"] for u in reply["entities"]["urls"]]
    assert expanded and expanded[0].startswith(f"{live_server.url}/t/")
    agent.goto(f"{sb.base_url}/sandbox/api/thread/{tweets[0]['id']}")
    shot(agent, "7_sandbox_thread")
    # The signed link in the reply opens Alice's public ticket page.
    agent.goto(expanded[0])
    assert "never arrived" in agent.content()
    shot(agent, "8_public_ticket_page")
