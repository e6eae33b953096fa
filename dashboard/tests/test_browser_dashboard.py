"""The dashboard in a real browser after the demo: the demo data (`load_demo`, then the
rollups rebuilt as `make demo` does) and the sandbox's demo scenario played, polled and
converted into X tickets. Every chart must have drawn data: each canvas reports the non-zero
values it shows and has painted pixels. Then the account's X spend page plots what those polls
cost. The screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from business_rules.models import SlaPolicy
from tickets.models import Ticket
from tickets.tests.factories import AdminFactory
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.intake import conversion, polling
from twitter_channel.models import IncomingItem, XAccount
from twitter_channel.x import api as x_api
from xsandbox.testing import running_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCENARIO = Path(__file__).resolve().parents[2] / "xsandbox" / "scenarios" / "demo.json"
CHARTS = ["created_per_hour", "backlog", "first_reply_minutes", "resolution_hours", "intake_lag_seconds", "agents",
          "sla"]


@pytest.fixture
def demo_sandbox(settings):
    with running_sandbox() as sb:
        settings.X_API_BASE_URL = sb.base_url
        x_api.forget_vocabularies()
        scenario = json.loads(SCENARIO.read_text("utf-8"))
        for step in scenario["play"]:
            step["at"] = 0  # the whole scenario at once
        sb.load_scenario(scenario, reset=True, play=True)
        yield sb
    x_api.forget_vocabularies()


def test_every_chart_draws_the_demos_data(live_server, browser, screenshot, demo_sandbox):
    call_command("load_demo")
    # An SLA policy as an admin would add one: its clocks are computed for the demo's tickets.
    policy = SlaPolicy.objects.create(title="Everyone answered within the hour")
    for priority in Ticket.Priority.values:
        policy.targets.create(priority=priority, first_reply=60, resolution=24 * 60)
    call_command("recompute_sla_clocks")
    call_command("rebuild_dashboard")
    account = XAccount.objects.create(user_id="1580000000000000001", username="AcmeSupport",
                                      access_token="acme-demo-access-token")
    ensure_cursors(account)
    deadline = time.monotonic() + 20
    while not IncomingItem.objects.filter(account=account, kind="mention").exists():
        assert time.monotonic() < deadline, "the demo scenario's mentions never arrived"
        time.sleep(0.5)
        for stream in ("mentions", "dms", "likes"):
            polling.poll_stream(account.pk, stream)
    conversion.convert_pending()
    AdminFactory(username="root")

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "secret-pass-123")
    page.click("button:has-text('Log in')")
    page.wait_for_url(lambda url: "/login/" not in url)
    errors: list[str] = []
    # Django's live server speaks WSGI only: the live workspace's socket cannot connect there
    # (live/tests drive an ASGI server for that), so its failed handshake is not this test's.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "/live/ws/" not in message.text else None)
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("form[data-loaded='7d']")
    for chart in CHARTS:
        canvas = page.locator(f"canvas[data-chart='{chart}']")
        assert int(canvas.get_attribute("data-points")) > 0, f"{chart} has no data"
        painted = canvas.evaluate("""c => {
            const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) n++; return n; }""")
        assert painted > 500, f"{chart} painted nothing"
    screenshot(page, "dashboard_after_demo")
    page.check("input[value='today']")
    page.wait_for_selector("form[data-loaded='today']")

    # The polls above were metered: the account's spend page plots them by kind.
    page.goto(f"{live_server.url}/x/accounts/{account.pk}/costs/")
    page.wait_for_selector("canvas[data-cost-chart][data-points]")
    assert int(page.locator("canvas[data-cost-chart]").get_attribute("data-points")) > 0
    assert page.locator("[data-spend-today]").inner_text() != "$0.000"
    screenshot(page, "x_spend_after_demo")
    assert errors == []
