"""The X accounts pages say how each account takes items in right now (polling, pushed by X,
waiting for its first poll, reconnect needed), name the scopes X did not grant with how to
get them, and ask before disconnecting."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets.models import User
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import SCOPE_PURPOSES, StreamCursor, XAccount
from twitter_channel.x import oauth as x_oauth

from .intake_helpers import BRAND_ID

pytestmark = pytest.mark.django_db
ALL_SCOPES = " ".join(SCOPE_PURPOSES)


def connected(username="AcmeHelp", user_id=BRAND_ID, scopes=ALL_SCOPES, **fields) -> XAccount:
    account = XAccount.objects.create(user_id=user_id, username=username, access_token="secret-access",
                                      refresh_token="secret-refresh", scopes=scopes, **fields)
    ensure_cursors(account)
    return account


def polled(account: XAccount) -> XAccount:
    StreamCursor.objects.filter(account=account).update(
        last_success_at=timezone.now() - timedelta(seconds=30), last_attempt_at=timezone.now())
    return account


def row_of(body: str, account: XAccount) -> str:
    start = body.index(f'data-account="{account.pk}"')
    return body[start:body.index("</tr>", start)]


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def test_the_list_shows_each_accounts_live_intake_mode(admin_client):
    by_poll = polled(connected("ByPoll", "1001"))
    by_webhook = polled(connected("ByWebhook", "1002", intake_mode=XAccount.IntakeMode.WEBHOOK))
    by_stream = polled(connected("ByStream", "1003", intake_mode=XAccount.IntakeMode.STREAM))
    paused = polled(connected("Paused", "1004", is_active=False))
    broken = polled(connected("Broken", "1005", needs_reconnect=True, last_error="X said 401"))

    body = admin_client.get(reverse("twitter_channel:accounts")).content.decode()

    assert ">Polling<" in row_of(body, by_poll)
    assert "Real time: webhook" in row_of(body, by_webhook) and "polling reconciles" in row_of(body, by_webhook)
    assert "Real time: stream" in row_of(body, by_stream)
    assert ">Paused<" in row_of(body, paused) and "Polling" not in row_of(body, paused)
    assert "Reconnect needed" in row_of(body, broken) and "Polling" not in row_of(body, broken)


def test_a_new_account_is_waiting_for_its_first_poll_not_in_error(admin_client):
    fresh = connected()

    body = admin_client.get(reverse("twitter_channel:accounts")).content.decode()
    row = row_of(body, fresh)
    settings_page = admin_client.get(reverse("twitter_channel:account_settings", args=[fresh.pk])).content.decode()

    assert "Waiting for the first poll" in row and 'data-intake="waiting"' in row
    for page in (row, settings_page):
        assert "Never polled successfully" not in page and "error" not in page.lower().replace("message--error", "")


def test_a_poll_that_failed_before_any_success_is_not_waiting(admin_client):
    account = connected()
    StreamCursor.objects.filter(account=account, stream="mentions").update(
        last_attempt_at=timezone.now(), consecutive_failures=2, last_error="X is unavailable: 503")

    row = row_of(admin_client.get(reverse("twitter_channel:accounts")).content.decode(), account)

    assert "Waiting for the first poll" not in row.split("</td>")[1]  # the intake column
    assert "Never polled successfully" in row and "X is unavailable: 503" in row


def test_a_missing_scope_is_named_with_how_to_fix_it(admin_client):
    account = polled(connected(scopes="tweet.read users.read tweet.write like.read dm.write offline.access"))

    row = row_of(admin_client.get(reverse("twitter_channel:accounts")).content.decode(), account)
    settings_page = admin_client.get(reverse("twitter_channel:account_settings", args=[account.pk])).content.decode()

    for page in (row, settings_page):
        assert 'data-missing-scopes="dm.read"' in page
        assert "<code>dm.read</code> (read direct messages)" in page
        assert "Reconnect the account and leave it ticked on X's consent page" in page
        assert reverse("twitter_channel:connect") in page


@pytest.mark.parametrize("scopes", [ALL_SCOPES, ""], ids=["all granted", "grant unknown"])
def test_no_scope_warning_when_nothing_is_known_to_be_missing(admin_client, scopes):
    account = polled(connected(scopes=scopes))

    row = row_of(admin_client.get(reverse("twitter_channel:accounts")).content.decode(), account)

    assert "data-missing-scopes" not in row and "Reconnect" not in row


def test_unticking_dm_read_on_xs_consent_page_is_named_after_connecting(admin_client, settings):
    from xsandbox.testing import running_sandbox

    with running_sandbox() as sb:
        settings.X_API_BASE_URL = sb.base_url
        settings.X_OAUTH_AUTHORIZE_URL = sb.base_url + "/i/oauth2/authorize"
        brand = sb.create_user("AcmeSupport", name="Acme Support", brand=True)
        admin_client.post(reverse("twitter_channel:connect"))
        pending = admin_client.session["x_oauth"]
        redirect_uri = settings.SITE_URL + reverse("twitter_channel:oauth_callback")
        granted = [s for s in SCOPE_PURPOSES if s != "dm.read"]  # the person unticked it at X
        back = sb.authorize(settings.X_CLIENT_ID, redirect_uri, brand["id"], granted,
                            x_oauth.code_challenge(pending["verifier"]), state=pending["state"])
        response = admin_client.get(urlsplit(back).path + "?" + urlsplit(back).query, follow=True)

    body = response.content.decode()
    assert "Waiting for the first poll" in body
    assert 'data-missing-scopes="dm.read"' in body


def test_disconnect_asks_first_and_changes_nothing_until_confirmed(admin_client, monkeypatch):
    revoked = []
    monkeypatch.setattr(x_oauth, "revoke", revoked.append)
    account = polled(connected())

    settings_page = admin_client.get(reverse("twitter_channel:account_settings", args=[account.pk])).content.decode()
    confirm = admin_client.get(reverse("twitter_channel:disconnect", args=[account.pk]))

    url = reverse("twitter_channel:disconnect", args=[account.pk])
    assert f'<a href="{url}"' in settings_page and f'action="{url}"' not in settings_page
    assert confirm.status_code == 200
    assert f'<form method="post" action="{url}"' in confirm.content.decode()
    account.refresh_from_db()
    assert account.is_active and account.access_token == "secret-access" and revoked == []

    admin_client.post(url)

    account.refresh_from_db()
    assert not account.is_active and account.access_token == "" and revoked == ["secret-refresh", "secret-access"]


@pytest.mark.parametrize("role", [User.Role.AGENT, User.Role.RESTRICTED])
def test_agents_do_not_see_the_disconnect_page(client, role):
    account = connected()
    client.force_login(UserFactory(role=role))

    assert client.get(reverse("twitter_channel:disconnect", args=[account.pk])).status_code == 404


def test_anonymous_is_sent_to_login_from_the_disconnect_page(client):
    account = connected()

    response = client.get(reverse("twitter_channel:disconnect", args=[account.pk]))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
