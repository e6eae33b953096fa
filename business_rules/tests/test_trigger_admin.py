"""Admins set triggers up in the Django admin: create, edit, validation, reorder, dry run."""

import pytest
from django.urls import reverse

from business_rules.models import Trigger, TriggerFiring
from tickets.models import Channel, Comment, Identity, Ticket, User
from tickets.tests.factories import AdminFactory, GroupFactory, RequesterFactory, TicketFactory, UserFactory

from .helpers import make_trigger

pytestmark = pytest.mark.django_db

ADD = reverse("admin:business_rules_trigger_add")
CHANGELIST = reverse("admin:business_rules_trigger_changelist")


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def management(prefix: str, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def trigger_post(title="VIP DMs", conditions=(), any_conditions=(), actions=(), **extra) -> dict:
    data = {"title": title, "description": "", "active": "on", "position": "5"}
    data |= management("all_conditions", len(conditions))
    data |= management("any_conditions", len(any_conditions))
    data |= management("actions", len(actions))
    for prefix, rows in (("all_conditions", conditions), ("any_conditions", any_conditions)):
        for i, (field, operator, value) in enumerate(rows):
            data |= {f"{prefix}-{i}-field": field, f"{prefix}-{i}-operator": operator, f"{prefix}-{i}-value": value}
            data[f"{prefix}-{i}-position"] = str(i)
    for i, (action, value, subject, body) in enumerate(actions):
        data |= {
            f"actions-{i}-action": action,
            f"actions-{i}-value": value,
            f"actions-{i}-subject": subject,
            f"actions-{i}-body": body,
            f"actions-{i}-position": str(i),
        }
    return data | extra


def test_admin_creates_a_trigger_with_conditions_and_actions(admin_client):
    response = admin_client.post(
        ADD,
        trigger_post(
            conditions=[("channel", "is", "x_dm"), ("requester_verified", "is", "true")],
            any_conditions=[("tags", "contains_any", "VIP, press")],
            actions=[("set_priority", "3", "", ""), ("add_tags", "vip", "", "")],
        ),
    )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    trigger = Trigger.objects.get(title="VIP DMs")
    assert trigger.position == 5
    assert list(trigger.conditions.order_by("kind", "position").values_list("kind", "field", "operator", "value")) == [
        ("all", "channel", "is", "x_dm"),
        ("all", "requester_verified", "is", "true"),
        ("any", "tags", "contains_any", "press vip"),
    ]
    assert list(trigger.actions.values_list("action", "value")) == [("set_priority", "3"), ("add_tags", "vip")]


def test_the_new_trigger_takes_effect_at_once(admin_client):
    admin_client.post(
        ADD,
        trigger_post(conditions=[("update_type", "is", "updated")], actions=[("add_tags", "seen", "", "")]),
    )
    from business_rules.engine import run_triggers

    ticket = TicketFactory()
    run_triggers(ticket)
    assert set(ticket.tags.values_list("name", flat=True)) == {"seen"}


@pytest.mark.parametrize(
    ("conditions", "actions", "message"),
    [
        ([("status", "contains", "open")], [("add_tags", "x", "", "")], "Status takes these operators"),
        ([("status", "is", "bogus")], [("add_tags", "x", "", "")], "Choose a valid status"),
        ([("comment_text", "matches", "(unclosed")], [("add_tags", "x", "", "")], "Not a valid RE2"),
        ([("requester_followers", "at_least", "lots")], [("add_tags", "x", "", "")], "Give a whole number"),
        ([("channel", "is", "x")], [("set_status", "new", "", "")], "Choose a valid value"),
        ([("channel", "is", "x")], [("email_assignee", "", "", "Hi")], "An email needs a subject"),
        ([("channel", "is", "x")], [("email_requester", "", "Hi {{ticket.secret}}", "x")], "Unknown placeholder"),
        ([("channel", "is", "x")], [("add_internal_note", "", "", "")], "Write the text to send"),
        ([], [("add_tags", "x", "", "")], "at least one condition"),
        ([("channel", "is", "x")], [], "at least one action"),
    ],
)
def test_invalid_rows_are_refused_on_save(admin_client, conditions, actions, message):
    response = admin_client.post(ADD, trigger_post(conditions=conditions, actions=actions))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Trigger.objects.filter(title="VIP DMs").exists()


def test_any_conditions_alone_are_enough(admin_client):
    response = admin_client.post(
        ADD,
        trigger_post(any_conditions=[("channel", "is", "x"), ("channel", "is", "x_dm")], actions=[("add_tags", "x", "", "")]),
    )
    assert response.status_code == 302
    assert Trigger.objects.get(title="VIP DMs").conditions.filter(kind="any").count() == 2


def test_admin_edits_a_trigger(admin_client):
    trigger = make_trigger("Old", all=[("channel", "is", "x")], actions=[("add_tags", "a")])
    condition, action = trigger.conditions.get(), trigger.actions.get()
    data = trigger_post(title="Renamed", conditions=[("channel", "is", "email")], actions=[("add_tags", "b", "", "")])
    data |= management("all_conditions", 1, initial=1) | management("actions", 1, initial=1)
    data |= {"all_conditions-0-id": str(condition.pk), "all_conditions-0-trigger": str(trigger.pk)}
    data |= {"actions-0-id": str(action.pk), "actions-0-trigger": str(trigger.pk)}
    response = admin_client.post(reverse("admin:business_rules_trigger_change", args=[trigger.pk]), data)
    assert response.status_code == 302
    trigger.refresh_from_db()
    assert trigger.title == "Renamed"
    assert list(trigger.conditions.values_list("field", "operator", "value")) == [("channel", "is", "email")]
    assert list(trigger.actions.values_list("action", "value")) == [("add_tags", "b")]


def test_the_change_form_offers_choices_by_field(admin_client):
    GroupFactory(name="Social")
    trigger = make_trigger("T", all=[("channel", "is", "x")], actions=[("add_tags", "a")])
    response = admin_client.get(reverse("admin:business_rules_trigger_change", args=[trigger.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="trigger-rules-schema"' in page
    assert "business_rules/trigger_admin.js" in page
    schema = response.context["rules_schema"]
    assert schema["fields"]["status"]["operators"] == [
        "is", "is_not", "less_than", "greater_than", "changed", "changed_to", "changed_from", "not_changed"
    ]
    assert ["", "(none)"] in [list(c) for c in schema["fields"]["group"]["choices"]]
    assert "Social" in [label for _, label in schema["fields"]["group"]["choices"]]
    assert schema["fields"]["comment_text"]["choices"] is None
    assert schema["actions"]["email_group"] == {"choices": None, "hasValue": False, "subject": True, "body": True}


def test_position_is_editable_in_the_list(admin_client):
    first = make_trigger("first", all=[("channel", "is", "x")], actions=[("add_tags", "a")], position=1)
    second = make_trigger("second", all=[("channel", "is", "x")], actions=[("add_tags", "a")], position=2)
    data = management("form", 2, initial=2) | {
        "form-0-id": str(first.pk), "form-0-position": "20", "form-0-active": "on",
        "form-1-id": str(second.pk), "form-1-position": "10", "form-1-active": "on",
        "_save": "Save",
    }
    response = admin_client.post(CHANGELIST, data)
    assert response.status_code == 302
    assert list(Trigger.objects.filter(pk__in=[first.pk, second.pk]).values_list("title", flat=True)) == [
        "second", "first"
    ]


def ordered_titles():
    return list(Trigger.objects.order_by("position", "id").values_list("title", flat=True))


def test_move_up_and_down_actions_reorder(admin_client):
    Trigger.objects.all().delete()
    a, b, c = (make_trigger(t, all=[("channel", "is", "x")], actions=[("add_tags", "a")], position=5) for t in "abc")
    response = admin_client.post(CHANGELIST, {"action": "move_up", "_selected_action": [str(c.pk)]})
    assert response.status_code == 302
    assert ordered_titles() == ["a", "c", "b"]
    admin_client.post(CHANGELIST, {"action": "move_down", "_selected_action": [str(a.pk)]})
    assert ordered_titles() == ["c", "a", "b"]
    # Renumbered, so equal positions no longer leave the order to chance.
    assert list(Trigger.objects.order_by("position").values_list("position", flat=True)) == [1, 2, 3]
    admin_client.post(CHANGELIST, {"action": "move_up", "_selected_action": [str(c.pk)]})
    assert ordered_titles() == ["c", "a", "b"]  # already first


def test_moving_changes_firing_order_at_once(admin_client):
    Trigger.objects.all().delete()
    make_trigger("set low", all=[("update_type", "is", "updated")], actions=[("set_priority", "1")], position=1)
    high = make_trigger("set high", all=[("update_type", "is", "updated")], actions=[("set_priority", "3")], position=2)
    from business_rules.engine import run_triggers

    ticket = TicketFactory()
    run_triggers(ticket)
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.HIGH  # the last one to fire wins
    admin_client.post(CHANGELIST, {"action": "move_up", "_selected_action": [str(high.pk)]})
    ticket = TicketFactory()
    run_triggers(ticket)
    ticket.refresh_from_db()
    assert ticket.priority == Ticket.Priority.LOW


@pytest.fixture
def recent_tickets():
    """Three tickets: an X DM from a verified account, an email, and an X DM from an unverified one."""
    verified = RequesterFactory(name="Verified")
    Identity.objects.create(requester=verified, kind="x", value="1", handle="v", verified=True)
    plain = RequesterFactory(name="Plain")
    Identity.objects.create(requester=plain, kind="x", value="2", handle="p")
    vip_dm = TicketFactory(requester=verified, channel=Channel.X_DM, subject="VIP DM")
    email = TicketFactory(requester=verified, channel=Channel.EMAIL, subject="Email")
    plain_dm = TicketFactory(requester=plain, channel=Channel.X_DM, subject="Plain DM")
    for ticket in (vip_dm, email, plain_dm):
        Comment.objects.create(ticket=ticket, body="hello", author_requester=ticket.requester)
        Ticket.objects.filter(pk=ticket.pk).update(comment_count=1)
    return vip_dm, email, plain_dm


def test_dry_run_lists_matching_tickets_and_changes_without_changing_them(admin_client, recent_tickets):
    vip_dm, email, plain_dm = recent_tickets
    trigger = make_trigger(
        "VIP",
        all=[("channel", "is", "x_dm"), ("requester_verified", "is", "true")],
        actions=[("set_priority", "3"), ("add_tags", "vip"), ("add_internal_note", "", "", "VIP!")],
        active=False,
    )
    response = admin_client.get(reverse("admin:business_rules_trigger_dry_run", args=[trigger.pk]) + "?n=10")
    assert response.status_code == 200
    rows = {row.ticket.pk: row for row in response.context["rows"]}
    assert rows[vip_dm.pk].matched and not rows[email.pk].matched and not rows[plain_dm.pk].matched
    assert rows[vip_dm.pk].outcomes == ("Priority: Normal → High", "Tags: +vip", "Add internal note: VIP!")
    page = response.content.decode()
    assert "1 of 3 tickets would match" in page and "Priority: Normal → High" in page
    vip_dm.refresh_from_db()
    assert vip_dm.priority == Ticket.Priority.NORMAL
    assert not vip_dm.tags.exists() and vip_dm.comments.count() == 1
    assert not TriggerFiring.objects.exists()


def test_dry_run_limits_to_the_last_n_tickets(admin_client, recent_tickets):
    trigger = make_trigger("any", all=[("channel", "is_not", "web")], actions=[("add_tags", "x")])
    response = admin_client.get(reverse("admin:business_rules_trigger_dry_run", args=[trigger.pk]) + "?n=2")
    assert len(response.context["rows"]) == 2


def test_dry_run_action_redirects_to_the_dry_run_page(admin_client):
    trigger = make_trigger("T", all=[("channel", "is", "x")], actions=[("add_tags", "a")])
    response = admin_client.post(CHANGELIST, {"action": "dry_run_selected", "_selected_action": [str(trigger.pk)]})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:business_rules_trigger_dry_run", args=[trigger.pk])


def test_example_triggers_ship_inactive(admin_client):
    titles = set(Trigger.objects.filter(active=False).values_list("title", flat=True))
    assert {
        "VIP: X DM from a verified account",
        "New X mention: tag and route to Social",
        "Requester replied to a solved ticket: notify the assignee",
    } <= titles


# --- Who may -------------------------------------------------------------------------------

PAGES = [
    ("get", "admin:business_rules_trigger_changelist", False),
    ("get", "admin:business_rules_trigger_add", False),
    ("get", "admin:business_rules_trigger_dry_run", True),
    ("get", "admin:business_rules_noiserule_changelist", False),
]


def page_url(name, needs_trigger):
    if needs_trigger:
        trigger = make_trigger("T", all=[("channel", "is", "x")], actions=[("add_tags", "a")])
        return reverse(name, args=[trigger.pk])
    return reverse(name)


@pytest.mark.parametrize(("method", "name", "needs_trigger"), PAGES)
def test_admin_may_open_the_rules_pages(client, method, name, needs_trigger):
    client.force_login(AdminFactory())
    assert client.get(page_url(name, needs_trigger)).status_code == 200


@pytest.mark.parametrize(("method", "name", "needs_trigger"), PAGES)
@pytest.mark.parametrize(
    "user_kind", ["agent", "restricted", "staff agent"],
)
def test_agents_may_not_open_the_rules_pages(client, method, name, needs_trigger, user_kind):
    user = {
        "agent": lambda: UserFactory(),
        "restricted": lambda: UserFactory(role=User.Role.RESTRICTED),
        # Staff status alone (say, set by mistake) does not make an agent an admin.
        "staff agent": lambda: UserFactory(is_staff=True),
    }[user_kind]()
    client.force_login(user)
    response = client.get(page_url(name, needs_trigger))
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(("method", "name", "needs_trigger"), PAGES)
def test_anonymous_is_sent_to_log_in(client, method, name, needs_trigger):
    response = client.get(page_url(name, needs_trigger))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_agents_cannot_post_reorder(client):
    client.force_login(UserFactory(is_staff=True))
    trigger = make_trigger("T", all=[("channel", "is", "x")], actions=[("add_tags", "a")], position=7)
    client.post(CHANGELIST, {"action": "move_up", "_selected_action": [str(trigger.pk)]})
    trigger.refresh_from_db()
    assert trigger.position == 7
