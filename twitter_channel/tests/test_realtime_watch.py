"""The webhook watch: the helpdesk challenges its own webhook as X does, notices an outage, and
when the webhook is back asks X to replay the window X could not deliver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tickets.tests.factories import AdminFactory
from twitter_channel.models import WebhookHealth, XAccount
from twitter_channel.realtime import watch
from twitter_channel.x.activity_types import Webhook
from twitter_channel.x.types import XTransientError

from .intake_helpers import BRAND_ID

URL = "https://help.example.com/x/webhook/"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class FakeApp:
    """The app's side of X: one registered webhook, and the replays asked of it."""

    def __init__(self):
        self.replays: list[tuple[str, datetime, datetime]] = []
        self.refuse: Exception | None = None

    def list_webhooks(self):
        return [Webhook(id="wh1", url=URL, valid=True)]

    def replay_webhook(self, webhook_id, from_time, to_time):
        if self.refuse:
            raise self.refuse
        self.replays.append((webhook_id, from_time, to_time))
        return f"job{len(self.replays)}"


class Webhook503:
    def __init__(self):
        self.answers = ""  # "" = the CRC is answered right

    def __call__(self, url):
        return self.answers


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def check():
    return Webhook503()


@pytest.fixture
def account(db, settings):
    settings.X_WEBHOOK_URL = URL
    settings.X_WEBHOOK_WATCH_SECONDS = 60
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok",
                                   intake_mode=XAccount.IntakeMode.WEBHOOK)


def watch_at(minutes: float, check, app) -> str:
    return watch.watch_webhook(now=T0 + timedelta(minutes=minutes), check=check, app=app)


def health() -> WebhookHealth:
    return WebhookHealth.objects.get(url=URL)


def test_nothing_is_checked_while_no_account_takes_webhooks(db, settings, check, app):
    XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok")

    assert watch_at(0, check, app) == "idle"
    assert not WebhookHealth.objects.exists()


def test_a_webhook_that_answers_is_noted_and_nothing_is_replayed(account, check, app):
    assert [watch_at(0, check, app), watch_at(1, check, app)] == ["ok", "ok"]

    assert health().last_ok_at == T0 + timedelta(minutes=1)
    assert app.replays == []


def test_a_failing_webhook_is_down_since_its_last_good_answer(account, check, app):
    watch_at(0, check, app)
    check.answers = "answered HTTP 502"

    assert [watch_at(1, check, app), watch_at(2, check, app)] == ["down", "down"]

    row = health()
    assert (row.down_since, row.last_error, row.checked_at) == (T0, "answered HTTP 502", T0 + timedelta(minutes=2))
    assert app.replays == []


def test_when_it_answers_again_x_replays_the_outage(account, check, app):
    watch_at(0, check, app)
    check.answers = "unreachable: ConnectionError"
    watch_at(1, check, app)
    watch_at(2, check, app)
    check.answers = ""

    assert watch_at(3, check, app) == "replayed"

    # From a minute before the last good answer: an event sent just then may have failed.
    assert app.replays == [("wh1", T0 - timedelta(minutes=1), T0 + timedelta(minutes=3))]
    row = health()
    assert (row.down_since, row.last_error, row.last_ok_at) == (None, "", T0 + timedelta(minutes=3))
    assert (row.replayed_from, row.replayed_to, row.replay_job) == (
        T0 - timedelta(minutes=1), T0 + timedelta(minutes=3), "job1")
    assert watch_at(4, check, app) == "ok" and len(app.replays) == 1


def test_a_silence_of_several_intervals_is_an_outage_of_the_whole_helpdesk(account, check, app):
    watch_at(0, check, app)

    assert watch_at(2.5, check, app) == "ok"  # a late tick is no outage
    assert watch_at(10, check, app) == "replayed"  # beat, worker and web were all down

    assert app.replays == [("wh1", T0 + timedelta(minutes=1.5), T0 + timedelta(minutes=10))]


def test_a_refused_replay_keeps_the_outage_open_until_x_takes_it(account, check, app):
    watch_at(0, check, app)
    check.answers = "answered HTTP 503"
    watch_at(1, check, app)
    check.answers = ""
    app.refuse = XTransientError("503 Service Unavailable")

    assert watch_at(2, check, app) == "replay refused"
    assert health().down_since == T0 and health().last_error == "Replay refused: 503 Service Unavailable"

    app.refuse = None
    assert watch_at(3, check, app) == "replayed"
    assert app.replays == [("wh1", T0 - timedelta(minutes=1), T0 + timedelta(minutes=3))]


def test_replay_reaches_back_24_hours_at_most(account, check, app):
    watch_at(0, check, app)
    check.answers = "answered HTTP 500"
    watch_at(1, check, app)
    check.answers = ""

    watch_at(3 * 24 * 60, check, app)

    now = T0 + timedelta(days=3)
    assert app.replays == [("wh1", now - timedelta(hours=24), now)]


def test_the_account_page_shows_an_outage_and_its_recovery(account, check, app, client):
    client.force_login(AdminFactory())
    page = reverse("twitter_channel:account_settings", args=[account.pk])
    watch_at(0, check, app)
    check.answers = "answered HTTP 502"
    watch_at(1, check, app)

    html = client.get(page).content.decode()
    assert 'data-state="down"' in html and "answered HTTP 502" in html

    check.answers = ""
    watch_at(2, check, app)
    html = client.get(page).content.decode()
    assert 'data-state="ok"' in html and "X replayed" in html and "job1" in html


# --- the CRC check itself, against the real webhook ------------------------------------------------


@pytest.fixture
def live_webhook(live_server, settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = "the-apps-secret"
    return live_server.url + reverse("twitter_channel:x_webhook")


def test_the_check_passes_when_the_webhook_answers_the_crc(live_webhook):
    assert watch.crc_check(live_webhook) == ""


def test_the_check_fails_when_the_secret_is_not_the_apps(live_webhook, monkeypatch):
    from twitter_channel.realtime import signatures

    # The webhook answers with the configured secret; the check expects another.
    monkeypatch.setattr(watch, "crc_response_token", lambda token: signatures.sign(token.encode(), "another"))

    assert "wrong token" in watch.crc_check(live_webhook)


def test_the_check_fails_when_the_webhook_refuses(live_webhook, settings):
    settings.X_WEBHOOK_CONSUMER_SECRET = ""  # the webhook then answers 503

    assert watch.crc_check(live_webhook) == "answered HTTP 503"


def test_the_check_fails_when_nothing_listens(db):
    assert watch.crc_check("http://127.0.0.1:9/x/webhook/").startswith("unreachable: ")
