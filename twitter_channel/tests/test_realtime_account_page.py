"""The account page's real-time section and its two actions (switch the intake mode, replay a
window): admins only, like every X accounts page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets.models import User
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import ActivitySubscription, IncomingItem, XAccount

from .intake_helpers import BRAND_ID


@pytest.fixture
def account(db):
    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")
    ensure_cursors(account)
    return account


def actions(account):
    return [
        (reverse("twitter_channel:intake_mode", args=[account.pk]), {"intake_mode": "polling"}),
        (reverse("twitter_channel:replay_events", args=[account.pk]), {"hours": "1"}),
    ]


@pytest.mark.parametrize("role", [User.Role.AGENT, User.Role.RESTRICTED])
def test_agents_get_404_on_the_real_time_actions(client, account, role):
    client.force_login(UserFactory(role=role))
    for url, data in actions(account):
        assert client.post(url, data).status_code == 404, url


def test_anonymous_is_sent_to_login(client, account):
    for url, data in actions(account):
        response = client.post(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_actions_only_allow_post(client, account):
    client.force_login(AdminFactory())
    for url, _ in actions(account):
        assert client.get(url).status_code == 405, url


def test_page_shows_polling_only_by_default(client, account):
    client.force_login(AdminFactory())

    page = client.get(reverse("twitter_channel:account_settings", args=[account.pk])).content.decode()

    assert 'data-mode="polling"' in page and "Polling only" in page
    assert "push-missed" not in page


def test_page_shows_the_live_mode_last_event_and_what_reconciliation_caught(client, account):
    when = timezone.now()
    XAccount.objects.filter(pk=account.pk).update(intake_mode="webhook", last_event_at=when)
    for n, polled_ago in enumerate([timedelta(minutes=5), timedelta(hours=2), timedelta(seconds=5)]):
        # the last one is too recent to count: its event may still be on its way
        IncomingItem.objects.create(account=account, kind="mention", x_id=str(n + 1), raw={},
                                    polled_before_push_at=when - polled_ago)
    ActivitySubscription.objects.create(account=account, subscription_id="5", event_type="like.create",
                                        direction="outbound", webhook_id="9")
    client.force_login(AdminFactory())

    page = client.get(reverse("twitter_channel:account_settings", args=[account.pk])).content.decode()

    assert 'data-mode="webhook"' in page and "Real time by webhook" in page
    assert when.strftime("%Y-%m-%d %H:%M") in page
    assert '<strong class="push-missed">2</strong>' in page
    assert "like.create (outbound)" in page


def test_admin_switches_back_to_polling(client, account):
    XAccount.objects.filter(pk=account.pk).update(intake_mode="stream")
    client.force_login(AdminFactory())

    response = client.post(reverse("twitter_channel:intake_mode", args=[account.pk]), {"intake_mode": "polling"})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.intake_mode == "polling" and account.realtime_since is None


def test_unknown_mode_changes_nothing(client, account):
    client.force_login(AdminFactory())

    client.post(reverse("twitter_channel:intake_mode", args=[account.pk]), {"intake_mode": "carrier-pigeon"})

    account.refresh_from_db()
    assert account.intake_mode == "polling"


def test_account_needing_reconnect_cannot_go_real_time(client, account):
    XAccount.objects.filter(pk=account.pk).update(needs_reconnect=True)
    client.force_login(AdminFactory())

    response = client.post(reverse("twitter_channel:intake_mode", args=[account.pk]), {"intake_mode": "webhook"},
                           follow=True)

    assert b"must be connected" in response.content
    account.refresh_from_db()
    assert account.intake_mode == "polling"


def test_without_an_app_token_real_time_is_refused_and_polling_stays(client, account, settings):
    settings.X_APP_BEARER_TOKEN = ""
    client.force_login(AdminFactory())

    response = client.post(reverse("twitter_channel:intake_mode", args=[account.pk]), {"intake_mode": "webhook"},
                           follow=True)

    assert b"X_APP_BEARER_TOKEN" in response.content
    account.refresh_from_db()
    assert account.intake_mode == "polling"


def test_replay_is_only_for_webhook_mode(client, account):
    client.force_login(AdminFactory())

    response = client.post(reverse("twitter_channel:replay_events", args=[account.pk]), {"hours": "1"}, follow=True)

    assert b"Replay works for webhook mode" in response.content
