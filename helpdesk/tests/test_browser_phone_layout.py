"""Every agent and admin page at a desktop width and at a phone's (390 px): no page may scroll
sideways, whatever the data holds (long subjects, long names and handles, long URLs).

The pages come from the URL configuration itself: every named route outside Django's admin
is either visited here or listed in NOT_PAGES with the reason, so a new page that nobody
added to this test fails it. Screenshots of each page at both widths are kept in
test-artifacts/ (phone_layout_<width>_<page>.png).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from business_rules.tests.macro_helpers import make_macro
from tickets.comments import add_comment
from tickets.mail.inbound import ingest_email
from tickets.mail.testing import build_email
from tickets.models import Channel, Identity, Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, RequesterFactory, TicketFactory, UserFactory
from twitter_channel.intake import bulk_convert
from twitter_channel.intake.models import BulkConversion
from twitter_channel.models import IncomingItem, Stream, StreamCursor
from twitter_channel.tests.answering_helpers import make_account, make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1440, 390)
LONG_URL = "https://shop.example.com/orders/track?id=" + "A1B2C3D4E5" * 12
LONG_WORD = "Supercalifragilisticexpialidocious" * 3
LONG_SUBJECT = (
    "My order #88231 arrived broken and the replacement you promised on Monday never came, "
    f"tracking says {LONG_URL} {LONG_WORD}"
)[:255]

# Named routes that are not pages a person looks at, and why the test leaves them out.
NOT_PAGES = {
    "login": "visited signed out, before the rest",
    "logout": "POST only",
    "health": "JSON for load balancers",
    "monitoring:metrics": "Prometheus text behind a bearer token",
    "dashboard:data": "JSON for the dashboard's charts",
    "twitter_channel:account_costs_json": "JSON for the spend chart",
    "twitter_channel:costs_json": "JSON for the spend chart",
    "twitter_channel:oauth_callback": "X's OAuth redirect target, redirects on",
    "twitter_channel:retry_item": "POST only",
    "twitter_channel:retry_all": "POST only",
    "twitter_channel:retry_event": "POST only",
    "twitter_channel:convert_item": "POST only",
    "twitter_channel:ignore_item": "POST only",
    "twitter_channel:unignore_item": "POST only",
    "twitter_channel:bulk_convert": "POST only; its result page is visited",
    "twitter_channel:bulk_progress": "JSON for the result page's progress bar",
    "twitter_channel:request_email": "POST; its confirmation page is visited",
    "twitter_channel:retry_outgoing": "POST only",
    "twitter_channel:outgoing_status": "JSON for the delivery badge",
    "twitter_channel:x_webhook": "X's webhook",
    "twitter_channel:intake_mode": "POST only",
    "twitter_channel:replay_events": "POST only",
    "twitter_channel:connect": "POST only, redirects to X",
    "macros:for_ticket": "JSON for the macro picker (the picker is test_browser_macro_picker's)",
    "tickets:bulk": "POST; its delete confirmation is visited",
    "tickets:reply": "POST only",
    "tickets:update": "POST only",
    "tickets:requester_email": "POST only",
    "tickets:requester_primary_email": "POST only",
    "tickets:merge_confirm": "POST only",
    "mail:inbound": "the inbound-email endpoint",
    "mail:attachment": "a file download",
    "mail:original": "a file download",
    "mail:raw": "a file download",
    "mail:retry": "POST only",
    "mail:retry_quarantined": "POST only",
    "public:confirm_email": "the requester's pages, not an agent's (public.css)",
    "public:ticket": "the requester's pages, not an agent's (public.css)",
    "public:email": "the requester's pages, not an agent's (public.css)",
}


def named_routes() -> set[str]:
    """Every named route of the project, as "namespace:name", Django's admin left out."""
    names: set[str] = set()

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.app_name == "admin":
                    continue
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(namespace + p.name)

    walk(get_resolver().url_patterns, "")
    return names


@pytest.fixture
def demo(settings, tmp_path):
    """A desk with data as a busy day leaves it, every value as long as people make them."""
    settings.MEDIA_ROOT = tmp_path
    support = GroupFactory(name="Customer Support Europe and Middle East (weekend rota)")
    admin = AdminFactory(username="ada", first_name="Ada", last_name="Lovelace-Byron of Ockham and Somerset")
    UserFactory(username="bartholomew.featherstonehaugh", first_name="Bartholomew", role=User.Role.AGENT)
    account = make_account(
        username="AcmeSupportTeam", display_name="Acme Support — Official help for orders, returns and refunds",
        scopes="tweet.read users.read tweet.write like.read offline.access", default_group=support,
    )
    now = timezone.now()
    StreamCursor.objects.create(account=account, stream=Stream.MENTIONS, last_success_at=now, last_attempt_at=now,
                                rate_limit=450, rate_remaining=449)
    StreamCursor.objects.create(account=account, stream=Stream.DMS, last_attempt_at=now, consecutive_failures=3,
                                last_error="X answered 503 for " + LONG_URL)
    StreamCursor.objects.create(account=account, stream=Stream.LIKES)

    mention = make_item(account, text=f"@AcmeSupportTeam {LONG_SUBJECT}", handle="verylonghandle1",
                        author_id="2000001")
    dm = make_item(account, kind=IncomingItem.Kind.DM, text=f"Here is my order link {LONG_URL}",
                   handle="verylonghandle1", author_id="2000001", conversation="2000001-900000000000000001")
    IncomingItem.objects.filter(pk__in=[mention.pk, dm.pk]).update(
        author_name="Maximilian Alexander von Habsburg-Lothringen")
    for item in (mention, dm):
        bulk_convert.convert_by_hand(item.pk)
    make_item(account, text=f"@AcmeSupportTeam still waiting {LONG_URL}", handle="impatient_customer",
              author_id="2000002", state=IncomingItem.State.IGNORED, state_reason="Matched a noise rule " + LONG_WORD)
    make_item(account, text=f"@AcmeSupportTeam {LONG_WORD}", handle="broken_payload", author_id="2000003",
              state=IncomingItem.State.QUARANTINED, state_reason="Could not parse " + LONG_URL)
    waiting = make_item(account, text=f"@AcmeSupportTeam please help {LONG_URL}", handle="helpme", author_id="2000004")
    run = bulk_convert.start_bulk_conversion([waiting.pk], admin)

    mention.refresh_from_db()
    dm.refresh_from_db()
    x_ticket = mention.ticket
    Ticket.objects.filter(pk=x_ticket.pk).update(subject=LONG_SUBJECT, group=support, priority=4)
    add_comment(x_ticket, body=f"Internal: checked the courier, see {LONG_URL}", author_user=admin, is_public=False)

    requester = RequesterFactory(name="Wolfeschlegelsteinhausenbergerdorff Hubert Blaine Jr.")
    Identity.objects.create(requester=requester, kind=Identity.Kind.EMAIL, is_primary=True,
                            value="hubert.blaine.wolfeschlegelsteinhausenbergerdorff@very-long-company-name.example.com")
    web = TicketFactory(subject=LONG_WORD, requester=requester, channel=Channel.WEB, group=support)
    add_comment(web, body=f"{LONG_SUBJECT}\n\n{LONG_URL}", author_requester=requester)
    for n in range(3):
        TicketFactory(subject=f"({n}) {LONG_SUBJECT}"[:255], requester=requester, channel=Channel.EMAIL)

    settings.INBOUND_EMAIL_MAX_HEADER_BYTES = 64  # quarantined: its From header is cut to a stub
    ingest_email(build_email(sender=f"Someone with a very long display name <{LONG_WORD}@example.com>",
                             subject=LONG_SUBJECT))
    settings.INBOUND_EMAIL_MAX_HEADER_BYTES = 16 * 1024
    make_macro(f"Shared: {LONG_SUBJECT}"[:200], f"Hi {{{{requester.first_name}}}}, {LONG_SUBJECT} {LONG_URL}",
               set_group=str(support.pk), add_tags=LONG_WORD[:60])
    macro = make_macro(f"Mine: {LONG_WORD}"[:200], f"{LONG_URL} {{{{ticket.id}}}}", owner=admin, set_status="pending")
    return {"account": account, "x_ticket": x_ticket, "dm_ticket": dm.ticket,
            "web_ticket": web, "bulk": BulkConversion.objects.get(pk=run.pk), "macro": macro}


def pages(demo) -> dict[str, str]:
    """Route name -> the path visited for it (a route may be visited at several paths)."""
    a, x, dm, web = demo["account"].pk, demo["x_ticket"].pk, demo["dm_ticket"].pk, demo["web_ticket"].pk
    return {
        "tickets:queue": "/",
        "tickets:queue_view": "/views/all/",
        "tickets:channel_queue": "/channels/x/",
        "tickets:detail": f"/tickets/{x}/",
        "tickets:delete": f"/tickets/{web}/delete/",
        "tickets:merge": f"/tickets/{dm}/merge/?q=order",
        "dashboard:dashboard": "/dashboard/",
        "monitoring:system": "/system/",
        "twitter_channel:accounts": "/x/accounts/",
        "twitter_channel:account_settings": f"/x/accounts/{a}/",
        "twitter_channel:disconnect": f"/x/accounts/{a}/disconnect/",
        "twitter_channel:account_costs": f"/x/accounts/{a}/costs/",
        "twitter_channel:costs": "/x/costs/",
        "twitter_channel:quarantine": "/x/quarantine/",
        "twitter_channel:stream": "/x/incoming/",
        "twitter_channel:account_stream": f"/x/incoming/account/{a}/",
        "twitter_channel:bulk_result": f"/x/incoming/bulk/{demo['bulk'].pk}/",
        "twitter_channel:reply": f"/x/tickets/{dm}/reply/",
        "mail:quarantine": "/email/quarantine/",
        "macros:mine": "/macros/",
        "macros:new": "/macros/new/",
        "macros:edit": f"/macros/{demo['macro'].pk}/",
        "macros:delete": f"/macros/{demo['macro'].pk}/delete/",
    } | {
        # More of the same routes with other content.
        "search": "/?q=order",
        "ticket of a DM": f"/tickets/{dm}/",
        "ticket from the web": f"/tickets/{web}/",
        "breaching view": "/views/breaching/",
        "merge preview": f"/tickets/{dm}/merge/?target={x}",
    }


def test_every_page_of_the_urlconf_is_checked(demo):
    checked = {name for name in pages(demo) if ":" in name}
    assert named_routes() - checked - set(NOT_PAGES) == set(), "add the new page to pages() or NOT_PAGES"
    assert set(NOT_PAGES) - named_routes() == set(), "NOT_PAGES names a route that is gone"


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const culprits = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(el).position !== "fixed") {
      culprits.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
    }
  }
  return {scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth, culprits: culprits.slice(0, 8)};
}"""


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{base_url}/")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_agent_page_scrolls_sideways(live_server, browser, screenshot, demo, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    screenshot(page, f"phone_layout_{width}_login")
    problems = {}
    if (m := page.evaluate(OVERFLOW))["scroll"] > m["inner"]:
        problems["login"] = m
    log_in(page, live_server.url, "ada")

    for name, path in pages(demo).items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, (name, path, response.status)
        page.wait_for_load_state("load")
        screenshot(page, f"phone_layout_{width}_{name.replace(':', '_').replace(' ', '_')}")
        measured = page.evaluate(OVERFLOW)
        if measured["scroll"] > measured["inner"]:
            problems[f"{name} {path}"] = measured
    assert problems == {}


def test_the_menu_folds_the_navigation_and_views_on_a_phone(live_server, browser, screenshot, demo):
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, "ada")
    menu = page.get_by_role("button", name="Menu")
    accounts = page.get_by_role("navigation", name="Main").get_by_role("link", name="X accounts")
    views = page.get_by_role("navigation", name="Queues").get_by_role("link", name="Unassigned")

    assert menu.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert not accounts.is_visible() and not views.is_visible()

    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert accounts.is_visible() and views.is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()
    screenshot(page, "phone_layout_390_menu_open")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

    menu.click()
    assert not accounts.is_visible()

    page.set_viewport_size({"width": 1440, "height": 900})
    assert not menu.is_visible() and accounts.is_visible() and views.is_visible()
