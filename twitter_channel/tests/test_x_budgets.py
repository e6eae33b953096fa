"""Monthly X budgets, per account and for the app: a warning at 80 % (a notice on the X pages
and an email to the admins, once a month), at 100 % reads slow to the floor the admin chose
and the account page says so; replies keep working unless the admin chose a hard stop.
The account page shows the spend; the composer's price note uses the meter's price table."""

from __future__ import annotations

import calendar
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tickets.models import User
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.answering.replies import XReplyRefused, reply_on_x
from twitter_channel.costs import meter as cost_meter
from twitter_channel.costs.models import XBudget
from twitter_channel.intake import bulk_convert, schedule
from twitter_channel.x.pricing import Charge, CostStream, Kind
from twitter_channel.x.types import RateLimit

from .answering_helpers import make_account, make_item


@pytest.fixture
def account(db):
    return make_account()


@pytest.fixture
def admin(db):
    return AdminFactory(email="boss@acme.test")


def spend(account, dollars: str) -> None:
    """Bill `dollars` of posts with a URL ($0.20 each) to the account, now."""
    writes = int(Decimal(dollars) / Decimal("0.2"))
    cost_meter.record(account.pk, [Charge(Kind.POST_WITH_URL_WRITE, CostStream.LINKS)] * writes)


def run_on_commit(django_capture_on_commit_callbacks, account, dollars):
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, dollars)


def next_poll(account):
    now = timezone.now()
    plenty = RateLimit(limit=450, remaining=400, reset_at=now + timedelta(minutes=15))
    return (schedule.next_poll_after_success(plenty, now, account=account) - now).total_seconds()


def test_the_account_page_shows_spend_today_this_month_projected_and_per_stream(client, admin, account):
    spend(account, "0.40")
    cost_meter.record(account.pk, [Charge(Kind.OWNED_READ, CostStream.MENTIONS, "post:1")])
    client.force_login(admin)
    page = client.get(reverse("twitter_channel:account_costs", args=[account.pk])).content.decode()
    assert "$0.401" in page  # today and this month
    assert "Links in replies" in page and "Mentions" in page
    settings_page = client.get(reverse("twitter_channel:account_settings", args=[account.pk])).content.decode()
    assert "X spend: $0.401 today, $0.401 this month" in settings_page


def test_the_projection_extrapolates_the_months_daily_rate(account):
    today = timezone.now().date().replace(day=10)
    cost_meter.record(account.pk, [Charge(Kind.POST_WITH_URL_WRITE, CostStream.LINKS)] * 5, day=today)  # $1.00
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    # $1.00 in 10 days: $0.10 a day for the whole month
    assert cost_meter.spend_of(account, today=today).projection == Decimal(days_in_month) / 10


def test_only_admins_see_the_spend_pages(client, account):
    client.force_login(UserFactory(role=User.Role.AGENT))
    assert client.get(reverse("twitter_channel:account_costs", args=[account.pk])).status_code == 404
    assert client.get(reverse("twitter_channel:costs")).status_code == 404


def test_at_80_percent_admins_are_warned_once_a_month(client, admin, account, django_capture_on_commit_callbacks):
    XBudget.objects.create(account=account, monthly_usd=Decimal("1.00"))
    run_on_commit(django_capture_on_commit_callbacks, account, "0.60")
    assert mail.outbox == []
    run_on_commit(django_capture_on_commit_callbacks, account, "0.20")  # $0.80 of $1.00
    assert [m.to for m in mail.outbox] == [["boss@acme.test"]]
    assert "80%" in mail.outbox[0].subject
    run_on_commit(django_capture_on_commit_callbacks, account, "0.00")
    assert len(mail.outbox) == 1
    client.force_login(admin)
    assert "data-budget-warning" in client.get(reverse("twitter_channel:account_costs", args=[account.pk])).content.decode()
    assert "data-budget-notice" in client.get(reverse("twitter_channel:accounts")).content.decode()
    # not yet slowed
    assert next_poll(account) < 60


def test_at_100_percent_reads_slow_to_the_chosen_floor_and_replies_keep_working(
        client, admin, account, django_capture_on_commit_callbacks):
    XBudget.objects.create(account=account, monthly_usd=Decimal("1.00"), slow_floor_seconds=1800)
    ticket = _ticket(account)
    run_on_commit(django_capture_on_commit_callbacks, account, "1.00")
    assert "spent" in mail.outbox[-1].subject
    assert next_poll(account) >= 1800
    client.force_login(admin)
    page = client.get(reverse("twitter_channel:account_settings", args=[account.pk])).content.decode()
    assert "data-budget-exceeded" in page and "every 1800 s; replies keep working" in page
    assert reply_on_x(ticket, "We are on it", append_link=False).body == "We are on it"


def test_a_hard_stop_refuses_replies_too(account, django_capture_on_commit_callbacks):
    XBudget.objects.create(account=account, monthly_usd=Decimal("1.00"), hard_stop=True)
    ticket = _ticket(account)
    reply_on_x(ticket, "before the budget is spent", append_link=False)
    run_on_commit(django_capture_on_commit_callbacks, account, "1.00")
    with pytest.raises(XReplyRefused, match="budget"):
        reply_on_x(ticket, "after", append_link=False)
    with pytest.raises(XReplyRefused, match="budget"):
        reply_on_x(ticket, "after, by DM", mode="dm", append_link=False)


def test_the_apps_budget_covers_every_account(account, django_capture_on_commit_callbacks):
    other = make_account(username="AcmeShop", user_id="4242")
    XBudget.objects.create(account=None, monthly_usd=Decimal("1.00"), slow_floor_seconds=600)
    run_on_commit(django_capture_on_commit_callbacks, account, "0.60")
    run_on_commit(django_capture_on_commit_callbacks, other, "0.40")
    assert next_poll(account) >= 600 and next_poll(other) >= 600


def test_a_budget_set_on_the_page_applies_at_once(client, admin, account):
    spend(account, "1.00")
    client.force_login(admin)
    url = reverse("twitter_channel:account_costs", args=[account.pk])
    client.post(url, {"monthly_usd": "0.50", "slow_floor_seconds": "3600", "hard_stop": "on"})
    assert cost_meter.replies_stopped(account.pk)
    assert next_poll(account) >= 3600
    client.post(url, {"monthly_usd": "", "slow_floor_seconds": "900"})  # removed
    assert not XBudget.objects.exists() and not cost_meter.replies_stopped(account.pk)


def test_the_composers_price_note_uses_the_price_table(client, account, settings):
    settings.X_PRICE_POST_WITH_URL = "0.25"
    ticket = _ticket(account)
    client.force_login(UserFactory(role=User.Role.AGENT))
    page = client.get(reverse("twitter_channel:reply", args=[ticket.pk])).content.decode()
    price = page.split("data-price ", 1)[1].split("</p>", 1)[0]
    assert 'data-plain="$0.015" data-with-link="$0.25"' in price and "$0.015</strong><span data-price-why>; $0.25 with a link" in price


def _ticket(account):
    item = make_item(account, text="@AcmeHelp my order is late")
    bulk_convert.convert_by_hand(item.pk)
    item.refresh_from_db()
    return item.ticket


def test_the_daily_spend_plot_gets_each_kind_per_day(client, admin, account):
    today = cost_meter.utc_today()
    cost_meter.record(account.pk, [Charge(Kind.POST_WITH_URL_WRITE, CostStream.LINKS)], day=today)
    cost_meter.record(account.pk, [Charge(Kind.OWNED_READ, CostStream.MENTIONS, "post:9")], day=today)
    client.force_login(admin)
    data = client.get(reverse("twitter_channel:account_costs_json", args=[account.pk])).json()
    assert data["labels"] == [today.isoformat()]
    assert {d["label"]: d["data"] for d in data["datasets"]} == {"Owned reads (own mentions and likes)": [0.001],
                                                                 "Posts with a URL": [0.2]}
