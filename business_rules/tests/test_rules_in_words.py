"""Admin pages name conditions and actions by their labels ("Channel is X DM", "Set group
Billing"), never by the codes stored in the rows (x_dm, a group's id)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tickets.tests.factories import AdminFactory, GroupFactory, UserFactory

from .helpers import make_automation, make_trigger
from .sla_helpers import make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_trigger_list_and_page_say_channel_is_x_dm(admin_client):
    billing = GroupFactory(name="Billing")
    dana = UserFactory(username="dana", first_name="Dana", last_name="Scully")
    trigger = make_trigger(
        "VIP DMs",
        all=[("channel", "is", "x_dm"), ("status", "changed_to", "open"), ("group", "changed", "")],
        any=[("priority", "is", "4"), ("requester_verified", "is", "true")],
        actions=[("set_group", str(billing.pk)), ("set_assignee", str(dana.pk)), ("set_status", "pending"),
                 ("add_tags", "vip")],
    )

    listing = text_of(admin_client.get(reverse("admin:business_rules_trigger_changelist")))
    page = text_of(admin_client.get(reverse("admin:business_rules_trigger_change", args=[trigger.pk])))

    for text in (listing, page):
        assert "Channel is X DM" in text
        assert "Status changed to Open" in text and "Group changed" in text
        assert "Priority is Urgent" in text and "Requester is verified on X is Yes" in text
        assert "Set group Billing" in text and f"Set assignee {dana}" in text
        assert "Set status Pending" in text and "Add tags vip" in text
        for code in ("x_dm", "changed_to", "set_group", "set_status", "requester_verified"):
            assert f" {code} " not in f" {text} ", code
    assert "and any of: Priority is Urgent" in listing


def test_a_deleted_group_shows_as_deleted_not_as_a_bare_id(admin_client):
    gone = GroupFactory(name="Gone")
    pk = gone.pk
    trigger = make_trigger("Old", all=[("group", "is", str(pk))], actions=[("add_tags", "old")])
    gone.delete()

    assert str(trigger.conditions.get()) == f"Group is {pk} (deleted)"


def test_automations_and_sla_policies_name_their_conditions_too(admin_client):
    automation = make_automation("Nudge", all=[("hours_since_updated", "greater_than", "48"),
                                               ("channel", "is", "x")], actions=[("set_status", "solved")])
    policy = make_policy("X DMs fast", all=[("channel", "is", "x_dm")], targets={"first_reply": 60})

    listing = text_of(admin_client.get(reverse("admin:business_rules_automation_changelist")))
    page = text_of(admin_client.get(reverse("admin:business_rules_automation_change", args=[automation.pk])))
    policy_page = text_of(admin_client.get(reverse("admin:business_rules_slapolicy_change", args=[policy.pk])))

    for text in (listing, page):
        assert "Hours since updated greater than 48" in text and "Channel is X" in text
        assert "Set status Solved" in text
    assert "Channel is X DM" in policy_page
