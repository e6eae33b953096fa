"""Admins set automations and SLA policies up in the Django admin, like triggers."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from business_rules.models import Automation, SlaPolicy
from tickets.models import Ticket
from tickets.tests.factories import AdminFactory, TicketFactory, UserFactory

from .helpers import make_automation
from .test_trigger_admin import management, trigger_post

pytestmark = pytest.mark.django_db

ADD = reverse("admin:business_rules_automation_add")
POLICY_ADD = reverse("admin:business_rules_slapolicy_add")


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def test_admin_creates_an_automation_with_a_time_condition(admin_client):
    response = admin_client.post(
        ADD,
        trigger_post(
            title="Remind pending",
            conditions=[("status", "is", "pending"), ("hours_since_status_changed", "greater_than", "48")],
            actions=[("email_requester", "", "Still there?", "Hi {{requester.name}}")],
        ),
    )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    automation = Automation.objects.get(title="Remind pending")
    assert list(automation.conditions.values_list("field", "value")) == [
        ("status", "pending"),
        ("hours_since_status_changed", "48"),
    ]


def test_an_automation_needs_a_time_condition(admin_client):
    response = admin_client.post(
        ADD,
        trigger_post(title="No time", conditions=[("status", "is", "pending")], actions=[("add_tags", "x", "", "")]),
    )
    assert response.status_code == 200
    assert "at least one time condition" in response.content.decode()
    assert not Automation.objects.filter(title="No time").exists()


def test_an_automation_refuses_trigger_only_conditions(admin_client):
    response = admin_client.post(
        ADD,
        trigger_post(
            title="Bad",
            conditions=[("hours_since_created", "greater_than", "1"), ("status", "changed_to", "open")],
            actions=[("add_tags", "x", "", "")],
        ),
    )
    assert response.status_code == 200
    assert not Automation.objects.filter(title="Bad").exists()


def test_dry_run_lists_what_the_next_pass_would_do_and_changes_nothing(admin_client):
    automation = make_automation(
        "Escalate", all=[("status", "is", "open"), ("hours_since_created", "greater_than", "1")],
        actions=[("set_priority", "4")],
    )
    old = TicketFactory(status=Ticket.Status.OPEN, subject="Old one")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    TicketFactory(status=Ticket.Status.OPEN, subject="Fresh one")
    response = admin_client.get(reverse("admin:business_rules_automation_dry_run", args=[automation.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Old one" in body and "Fresh one" not in body
    assert "Priority: Normal → Urgent" in body
    old.refresh_from_db()
    assert old.priority == Ticket.Priority.NORMAL


def test_agents_cannot_reach_automations_or_their_dry_run(client):
    client.force_login(UserFactory())
    automation = make_automation(all=[("hours_since_created", "greater_than", "1")], actions=[("add_tags", "x")])
    for url in (ADD, reverse("admin:business_rules_automation_dry_run", args=[automation.pk]), POLICY_ADD):
        assert client.get(url).status_code in (302, 403)


def test_admin_creates_an_sla_policy_with_targets_per_priority(admin_client):
    data = {"title": "X first", "description": "", "active": "on", "position": "1", "schedule": ""}
    data |= management("all_conditions", 1) | management("any_conditions", 0) | management("targets", 1)
    data |= {"all_conditions-0-field": "channel", "all_conditions-0-operator": "is", "all_conditions-0-value": "x"}
    data |= {"all_conditions-0-position": "0", "targets-0-priority": "4", "targets-0-first_reply": "15"}
    data |= {"targets-0-resolution": "240"}
    response = admin_client.post(POLICY_ADD, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    policy = SlaPolicy.objects.get(title="X first")
    assert policy.targets.get().seconds() == {"first_reply": 900.0, "resolution": 14400.0}


def test_policy_and_schedule_pages_render(admin_client):
    assert admin_client.get(POLICY_ADD).status_code == 200
    assert admin_client.get(reverse("admin:business_rules_schedule_add")).status_code == 200
    assert admin_client.get(reverse("admin:business_rules_automation_changelist")).status_code == 200


def test_a_policy_takes_one_target_row_per_priority(admin_client):
    data = {"title": "Twice", "description": "", "active": "on", "position": "1", "schedule": ""}
    data |= management("all_conditions", 0) | management("any_conditions", 0) | management("targets", 2)
    data |= {"targets-0-priority": "2", "targets-0-first_reply": "60", "targets-1-priority": "2"}
    data |= {"targets-1-first_reply": "30"}
    response = admin_client.post(POLICY_ADD, data)
    assert response.status_code == 200
    assert not SlaPolicy.objects.filter(title="Twice").exists()


def test_a_schedule_refuses_an_unknown_time_zone(admin_client):
    data = {"name": "Mars office", "time_zone": "Mars/Olympus_Mons"}
    data |= management("intervals", 0) | management("holidays", 0)
    response = admin_client.post(reverse("admin:business_rules_schedule_add"), data)
    assert response.status_code == 200
    assert "is not a time zone" in response.content.decode()
