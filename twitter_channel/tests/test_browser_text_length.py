"""The composer's live counter and the server count posts with X's own rules: the browser
with twitter-text (vendored, static/vendor/twitter-text), the server with twitter-text-parser
(twitter_channel/x/text_length.py). On strings where a hand-written approximation goes wrong
(links on uncommon top-level domains, emoji sequences, CJK), both must say the same."""

from __future__ import annotations

import pytest

from tickets.models import User
from tickets.tests.factories import UserFactory
from twitter_channel.intake import bulk_convert
from twitter_channel.x.text_length import weighted_length

from .answering_helpers import make_account, make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRICKY = [
    "acme.shop",
    "see acme.shop/returns and shop.acme.store today",
    "x.ai, example.museum and foo.xyz",
    "thanks 👍🏽 👨\u200d👩\u200d👧 🇫🇷 ❤️",
    "日本語のテキスト and 한국어",
    "www.acme.co.uk/track?id=1",
    "https://example.com/a/very/long/path/that/is/much/longer/than/twenty-three/characters",
    "127.0.0.1/t/1 and localhost:8000",
    "café\u0301 — naïve Ελληνικά",
    "a" * 270 + " acme.shop",
]


@pytest.fixture
def ticket(db):
    item = make_item(make_account(), text="@AcmeHelp hello")
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    return item.ticket


def test_browser_and_server_count_tricky_posts_alike(live_server, browser, ticket):
    UserFactory(username="dana", role=User.Role.AGENT)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    page.uncheck("#reply-form input[type=checkbox][name=reply_option_append_link]")

    for text in TRICKY:
        page.fill("#reply-form textarea[name=body]", text)
        shown = page.locator("#reply-form [data-count]").inner_text()
        assert shown == f"{weighted_length(text)} / 280", text
        # Past 280 the browser refuses to send, as the server would.
        assert page.locator("#reply-form button[type=submit].primary").is_disabled() == (weighted_length(text) > 280)
