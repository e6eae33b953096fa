"""A customer's photo mention, end to end in a real browser: posted with a picture on the
sandbox (which serves the picture itself), polled, converted, and shown on the ticket page as
a thumbnail the browser really loads and that opens full size; the author's @handle and
"view on X" beside it, and their avatar falling back to initials when X's picture fails to
load. At 1440 and 390 px, with screenshots in test-artifacts/, and no CSP violation."""

from __future__ import annotations

import pytest

from tickets.models import User
from tickets.tests.factories import UserFactory

from .answering_sandbox import poll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox_pictures_allowed(settings, sb):
    # As in `make run`, where X_API_BASE_URL is the sandbox: its origin may serve images (the
    # settings read it once at start-up, before this test's sandbox had a port).
    policy = settings.CONTENT_SECURITY_POLICY
    directives = {**policy["DIRECTIVES"], "img-src": [*policy["DIRECTIVES"]["img-src"], sb.base_url]}
    settings.CONTENT_SECURITY_POLICY = {**policy, "DIRECTIVES": directives}


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.mark.parametrize("width", [1440, 390])
def test_photo_mention_shows_as_a_thumbnail_that_opens_full_size(
        live_server, browser, screenshot, sb, brand, alice, sandbox_pictures_allowed, width):
    # Alice's avatar on X is gone (a stale URL): her initials stand in for it.
    sb.update_user(alice["id"], profile_image_url=f"{sb.base_url}/sandbox/media/no-such-picture.png")
    post = sb.post_tweet(alice["id"], "@AcmeHelp the box arrived crushed, see the photo",
                         media=[{"type": "photo", "alt_text": "A crushed parcel"}])
    photo = post["media"][0]["url"]
    (item,) = poll(brand)
    UserFactory(username="dana", first_name="Dana", role=User.Role.AGENT)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(10_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, live_server.url, "dana")

    page.goto(f"{live_server.url}{item.ticket.get_absolute_url()}")

    comment = page.locator(f"#comment-{item.comment_id}")
    thumbnail = comment.locator(".media img")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert thumbnail.get_attribute("src") == photo and thumbnail.get_attribute("alt") == "A crushed parcel"
    box = thumbnail.bounding_box()
    assert 40 <= box["height"] <= 130 and box["width"] <= width  # a thumbnail, not the full picture
    assert comment.locator("a.handle").inner_text() == "@alice"
    assert comment.locator("a.view").get_attribute("href") == f"https://x.com/alice/status/{post['id']}"
    # The stale avatar gave way to the initials drawn under it.
    page.wait_for_function("el => !el.querySelector('img')", arg=comment.locator(".avatar").element_handle())
    assert comment.locator(".avatar").inner_text() == "A"
    # The requester card's avatar too.
    card_avatar = page.locator(".requester .identity--x .avatar")
    page.wait_for_function("el => !el.querySelector('img')", arg=card_avatar.element_handle())
    assert card_avatar.inner_text() == "A"
    # Nothing wider than the screen in the conversation (the thumbnail included).
    assert page.evaluate("document.querySelector('.conversation').scrollWidth <= window.innerWidth")
    screenshot(page, f"thread_photo_mention_{width}")

    with page.context.expect_page() as opened:
        thumbnail.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url == photo  # the picture itself, full size
    assert violations == []
