"""The X accounts pages: admins only, health per stream, settings, OAuth connect, disconnect,
quarantine with retry."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets.models import Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, UserFactory
from twitter_channel.accounts.connection import ensure_cursors
from twitter_channel.models import ActivityEvent, IncomingItem, StreamCursor, XAccount
from twitter_channel.x import oauth as x_oauth

from .intake_helpers import BRAND_ID


@pytest.fixture
def account(db):
    account = XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="secret-access-123",
                                      refresh_token="secret-refresh-456")
    ensure_cursors(account)
    return account


@pytest.fixture
def quarantined(account):
    return IncomingItem.objects.create(account=account, kind="mention", x_id="malformed:abc", raw={"text": "x"},
                                       state="quarantined", state_reason="Could not parse: post has no author_id")


@pytest.fixture
def failed_event(db):
    return ActivityEvent.objects.create(event_id="malformed:123", source="webhook", body='{"hello": "world"}',
                                        state="failed", detail="Could not parse: event has no event_uuid")


def pages(account, item, event):
    return [
        ("get", reverse("twitter_channel:accounts")),
        ("post", reverse("twitter_channel:connect")),
        ("get", reverse("twitter_channel:oauth_callback") + "?state=s&code=c"),
        ("get", reverse("twitter_channel:account_settings", args=[account.pk])),
        ("post", reverse("twitter_channel:disconnect", args=[account.pk])),
        ("get", reverse("twitter_channel:quarantine")),
        ("post", reverse("twitter_channel:retry_item", args=[item.pk])),
        ("post", reverse("twitter_channel:retry_all")),
        ("post", reverse("twitter_channel:retry_event", args=[event.pk])),
    ]


@pytest.mark.parametrize("role", [User.Role.AGENT, User.Role.RESTRICTED])
def test_agents_get_404_on_every_x_page(client, account, quarantined, failed_event, role):
    client.force_login(UserFactory(role=role))
    for method, url in pages(account, quarantined, failed_event):
        assert getattr(client, method)(url).status_code == 404, url
    account.refresh_from_db()
    assert account.is_active and account.access_token == "secret-access-123"


def test_anonymous_is_sent_to_login_from_every_x_page(client, account, quarantined, failed_event):
    for method, url in pages(account, quarantined, failed_event):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_admin_sees_account_health(client, account):
    client.force_login(AdminFactory())
    StreamCursor.objects.filter(account=account, stream="mentions").update(
        last_success_at=timezone.now() - timedelta(minutes=2), rate_limit=300, rate_remaining=287)
    StreamCursor.objects.filter(account=account, stream="dms").update(last_error="X is unavailable: 503",
                                                                      consecutive_failures=3)
    XAccount.objects.filter(pk=account.pk).update(needs_reconnect=True, last_error="reconnect it",
                                                  last_error_at=timezone.now())
    response = client.get(reverse("twitter_channel:accounts"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "@AcmeHelp" in body
    assert "Reconnect needed" in body
    assert "287/300" in body
    assert "X is unavailable: 503" in body and "3 failures" in body
    assert "2\xa0minutes ago" in body


def test_tokens_never_appear_on_any_page(client, account, quarantined):
    client.force_login(AdminFactory())
    for url in (reverse("twitter_channel:accounts"), reverse("twitter_channel:account_settings", args=[account.pk]),
                reverse("twitter_channel:quarantine"), reverse("admin:twitter_channel_xaccount_change", args=[account.pk])):
        body = client.get(url).content.decode()
        assert "secret-access-123" not in body and "secret-refresh-456" not in body, url


def test_admin_changes_account_settings(client, account):
    client.force_login(AdminFactory())
    group = GroupFactory(name="Social")
    response = client.post(reverse("twitter_channel:account_settings", args=[account.pk]), {
        "capture_mentions": "on", "capture_likes": "on", "ignore_retweets": "on", "default_group": group.pk,
        "is_active": "on",
    })
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.capture_mentions and account.capture_likes and not account.capture_dms
    assert account.default_group == group and not account.allowed_for_replies
    assert account.access_token == "secret-access-123"


def test_disconnect_revokes_tokens_and_stops_polling_but_keeps_tickets(client, account, monkeypatch):
    revoked = []
    monkeypatch.setattr(x_oauth, "revoke", revoked.append)
    client.force_login(AdminFactory())
    client.post(reverse("twitter_channel:disconnect", args=[account.pk]))
    account.refresh_from_db()
    assert not account.is_active and account.access_token == "" and account.refresh_token == ""
    assert revoked == ["secret-refresh-456", "secret-access-123"]
    assert XAccount.objects.filter(pk=account.pk).exists()


def test_quarantine_list_and_retry(client, account, quarantined):
    client.force_login(AdminFactory())
    body = client.get(reverse("twitter_channel:quarantine")).content.decode()
    assert "post has no author_id" in body
    quarantined.raw = {"id": "1800000000000000999", "text": "@AcmeHelp fixed", "author_id": "111",
                       "created_at": "2026-11-20T10:00:00.000Z", "conversation_id": "1800000000000000999"}
    quarantined.x_id = "1800000000000000999"
    quarantined.save()
    client.post(reverse("twitter_channel:retry_item", args=[quarantined.pk]))
    quarantined.refresh_from_db()
    assert quarantined.state == "ticketed"
    assert Ticket.objects.get().subject == "fixed"


def test_callback_with_wrong_state_connects_nothing(client, db):
    client.force_login(AdminFactory())
    client.post(reverse("twitter_channel:connect"))
    response = client.get(reverse("twitter_channel:oauth_callback") + "?state=forged&code=abc", follow=True)
    assert "could not be verified" in response.content.decode()
    assert XAccount.objects.count() == 0


def test_connect_starts_pkce_with_the_needed_scopes(client, db, settings):
    settings.X_OAUTH_AUTHORIZE_URL = "https://x.example/i/oauth2/authorize"
    client.force_login(AdminFactory())
    response = client.post(reverse("twitter_channel:connect"))
    query = parse_qs(urlsplit(response.url).query)
    assert response.url.startswith("https://x.example/i/oauth2/authorize")
    assert query["scope"] == ["tweet.read users.read tweet.write like.read dm.read dm.write offline.access"]
    assert query["redirect_uri"] == [settings.SITE_URL + reverse("twitter_channel:oauth_callback")]
    assert query["state"] == [client.session["x_oauth"]["state"]]
    assert query["code_challenge"] == [x_oauth.code_challenge(client.session["x_oauth"]["verifier"])]


def test_the_accounts_page_lets_its_connect_forms_lead_to_xs_consent_page(client, db, settings):
    # Browsers check a form's Content-Security-Policy form-action on every redirect of the
    # submission: without X's origin there, Connect would stop at our own redirect.
    settings.X_OAUTH_AUTHORIZE_URL = ""
    client.force_login(AdminFactory())

    policy = client.get(reverse("twitter_channel:accounts"))["Content-Security-Policy"]

    form_action = next(part.split()[1:] for part in policy.split(";") if part.split()[0] == "form-action")
    assert form_action == ["'self'", "https://x.com"]


def test_connect_through_the_sandbox_over_http(client, db, settings):
    from xsandbox.testing import running_sandbox

    with running_sandbox() as sb:
        settings.X_API_BASE_URL = sb.base_url
        settings.X_OAUTH_AUTHORIZE_URL = sb.base_url + "/i/oauth2/authorize"
        brand = sb.create_user("AcmeSupport", name="Acme Support", brand=True)
        client.force_login(AdminFactory())
        client.post(reverse("twitter_channel:connect"))
        pending = client.session["x_oauth"]
        redirect_uri = settings.SITE_URL + reverse("twitter_channel:oauth_callback")
        back = sb.authorize(settings.X_CLIENT_ID, redirect_uri, brand["id"], x_oauth_scopes(),
                            x_oauth.code_challenge(pending["verifier"]), state=pending["state"])
        response = client.get(urlsplit(back).path + "?" + urlsplit(back).query)
        assert response.status_code == 302
    account = XAccount.objects.get()
    assert (account.user_id, account.username, account.display_name) == (brand["id"], "AcmeSupport", "Acme Support")
    assert account.access_token and account.refresh_token and account.token_expires_at
    assert "dm.read" in account.scopes
    assert StreamCursor.objects.filter(account=account).count() == 3


def x_oauth_scopes():
    from twitter_channel.accounts.views import SCOPES

    return SCOPES


def test_reconnecting_clears_the_flag_and_polls_at_once(account):
    from twitter_channel.accounts.views import save_connected_account
    from twitter_channel.x.types import OAuthTokens, XUser

    XAccount.objects.filter(pk=account.pk).update(needs_reconnect=True, last_error="reconnect it")
    StreamCursor.objects.filter(account=account).update(next_poll_at=timezone.now() + timedelta(hours=1),
                                                        last_error="401")
    save_connected_account(XUser(id=BRAND_ID, username="AcmeHelp2", name="Acme"),
                           OAuthTokens("new-access", "new-refresh", timezone.now() + timedelta(hours=2), ("dm.read",)))
    account.refresh_from_db()
    assert not account.needs_reconnect and account.last_error == "" and account.username == "AcmeHelp2"
    assert account.access_token == "new-access" and account.refresh_token == "new-refresh"
    assert not StreamCursor.objects.filter(account=account, next_poll_at__gt=timezone.now()).exists()
    assert XAccount.objects.count() == 1


def test_pushed_events_that_could_not_be_read_are_shown_with_the_quarantine(client, failed_event):
    client.force_login(AdminFactory())

    body = client.get(reverse("twitter_channel:quarantine")).content.decode()

    assert "Pushed events that could not be read (1)" in body
    assert "Could not parse: event has no event_uuid" in body and "{&quot;hello&quot;: &quot;world&quot;}" in body


def test_retrying_an_event_that_still_cannot_be_read_brings_it_back(client, failed_event,
                                                                    django_capture_on_commit_callbacks):
    client.force_login(AdminFactory())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("twitter_channel:retry_event", args=[failed_event.pk]), follow=True)

    failed_event.refresh_from_db()
    assert failed_event.state == "failed" and "event_uuid" in failed_event.detail
    assert "processed again" in response.content.decode()


def test_retrying_an_event_after_a_fix_processes_it(client, account, failed_event, django_capture_on_commit_callbacks):
    client.force_login(AdminFactory())
    ActivityEvent.objects.filter(pk=failed_event.pk).update(
        body=json.dumps({"data": {"event_type": "follow.follow", "event_uuid": "9", "filter": {"user_id": BRAND_ID}}}))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("twitter_channel:retry_event", args=[failed_event.pk]))

    failed_event.refresh_from_db()
    assert (failed_event.state, failed_event.account) == ("ignored", account)


def test_pushed_events_and_webhook_health_are_read_only_in_django_admin(client, failed_event):
    client.force_login(AdminFactory())

    for model in ("activityevent", "webhookhealth"):
        assert client.get(reverse(f"admin:twitter_channel_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:twitter_channel_{model}_add")).status_code == 403
    page = client.get(reverse("admin:twitter_channel_activityevent_change", args=[failed_event.pk]))
    assert page.status_code == 200 and "Save" not in page.content.decode()
