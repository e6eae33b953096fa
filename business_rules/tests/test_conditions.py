"""Every condition field with every operator it offers, on a ticket whose facts are known."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from business_rules.conditions import FIELDS, clean_condition, compile_condition
from business_rules.state import TicketState
from tickets.models import Channel, Comment, Identity, Ticket
from tickets.tests.factories import GroupFactory, RequesterFactory, TicketFactory, UserFactory
from twitter_channel.models import XAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """An open, normal-priority X ticket of a verified requester, just answered by them."""
    requester = RequesterFactory(name="Alice Doe")
    Identity.objects.create(
        requester=requester, kind="x", value="111", handle="AliceD", followers=500, verified=True
    )
    Identity.objects.create(requester=requester, kind="email", value="alice@example.com", confirmed_at=timezone.now(),
                            is_primary=True)
    # Never confirmed (held from before confirmation existed): anybody's, so no condition sees it.
    Identity.objects.create(requester=requester, kind="email", value="someone@example.org")
    group, other_group = GroupFactory(name="Social"), GroupFactory(name="Billing")
    agent, other_agent = UserFactory(), UserFactory()
    account = XAccount.objects.create(user_id="900", username="brand")
    other_account = XAccount.objects.create(user_id="901", username="brand_help")
    ticket = TicketFactory(
        requester=requester,
        status=Ticket.Status.OPEN,
        priority=Ticket.Priority.NORMAL,
        group=group,
        assignee=agent,
        channel=Channel.X,
        x_account=account,
    )
    ticket.tags.create(name="billing")
    ticket.tags.create(name="vip")
    comment = Comment.objects.create(
        ticket=ticket, body="I need a Refund please, order #42", author_requester=requester, is_public=True
    )
    ids = {
        "<group>": str(group.pk),
        "<other_group>": str(other_group.pk),
        "<agent>": str(agent.pk),
        "<other_agent>": str(other_agent.pk),
        "<account>": str(account.pk),
        "<other_account>": str(other_account.pk),
    }
    state = TicketState(
        ticket,
        created=False,
        changes={"status": ("pending", "open"), "group_id": (other_group.pk, group.pk)},
        comment=comment,
    )
    return state, ids


CASES = [
    # field, operator, value, holds
    ("update_type", "is", "updated", True),
    ("update_type", "is", "created", False),
    ("channel", "is", "x", True),
    ("channel", "is", "email", False),
    ("channel", "is_not", "email", True),
    ("channel", "is_not", "x", False),
    ("channel", "changed", "", False),
    ("channel", "not_changed", "", True),
    ("channel", "changed_to", "x", False),
    ("channel", "changed_from", "web", False),
    ("x_account", "is", "<account>", True),
    ("x_account", "is", "<other_account>", False),
    ("x_account", "is", "", False),
    ("x_account", "is_not", "<other_account>", True),
    ("x_account", "is_not", "", True),
    ("x_account", "changed", "", False),
    ("x_account", "not_changed", "", True),
    ("x_account", "changed_to", "<account>", False),
    ("x_account", "changed_from", "", False),
    ("status", "is", "open", True),
    ("status", "is", "new", False),
    ("status", "is_not", "solved", True),
    ("status", "is_not", "open", False),
    ("status", "less_than", "solved", True),
    ("status", "less_than", "open", False),
    ("status", "greater_than", "new", True),
    ("status", "greater_than", "pending", False),
    ("status", "changed", "", True),
    ("status", "not_changed", "", False),
    ("status", "changed_to", "open", True),
    ("status", "changed_to", "solved", False),
    ("status", "changed_from", "pending", True),
    ("status", "changed_from", "solved", False),
    ("priority", "is", "2", True),
    ("priority", "is", "3", False),
    ("priority", "is_not", "3", True),
    ("priority", "is_not", "2", False),
    ("priority", "less_than", "3", True),
    ("priority", "less_than", "2", False),
    ("priority", "greater_than", "1", True),
    ("priority", "greater_than", "2", False),
    ("priority", "changed", "", False),
    ("priority", "not_changed", "", True),
    ("priority", "changed_to", "2", False),
    ("priority", "changed_from", "2", False),
    ("group", "is", "<group>", True),
    ("group", "is", "", False),
    ("group", "is_not", "<other_group>", True),
    ("group", "is_not", "<group>", False),
    ("group", "changed", "", True),
    ("group", "not_changed", "", False),
    ("group", "changed_to", "<group>", True),
    ("group", "changed_to", "<other_group>", False),
    ("group", "changed_from", "<other_group>", True),
    ("group", "changed_from", "", False),
    ("assignee", "is", "<agent>", True),
    ("assignee", "is", "<other_agent>", False),
    ("assignee", "is_not", "", True),
    ("assignee", "is_not", "<agent>", False),
    ("assignee", "changed", "", False),
    ("assignee", "not_changed", "", True),
    ("assignee", "changed_to", "<agent>", False),
    ("assignee", "changed_from", "", False),
    ("tags", "contains_any", "vip spam", True),
    ("tags", "contains_any", "spam, urgent", False),
    ("tags", "contains_all", "vip billing", True),
    ("tags", "contains_all", "vip spam", False),
    ("tags", "contains_none", "spam urgent", True),
    ("tags", "contains_none", "spam vip", False),
    ("requester_handle", "is", "@alicED", True),
    ("requester_handle", "is", "bob", False),
    ("requester_handle", "is_not", "bob", True),
    ("requester_handle", "is_not", "aliced", False),
    ("requester_email_domain", "is", "Example.com", True),
    ("requester_email_domain", "is", "example.org", False),
    ("requester_email_domain", "is_not", "example.org", True),
    ("requester_email_domain", "is_not", "example.com", False),
    ("requester_followers", "at_least", "500", True),
    ("requester_followers", "at_least", "501", False),
    ("requester_followers", "less_than", "501", True),
    ("requester_followers", "less_than", "500", False),
    ("requester_verified", "is", "true", True),
    ("requester_verified", "is", "false", False),
    ("comment_text", "contains", "refund", True),
    ("comment_text", "contains", "cancel, invoice", False),
    ("comment_text", "contains", "cancel, REFUND", True),
    ("comment_text", "not_contains", "cancel", True),
    ("comment_text", "not_contains", "refund", False),
    ("comment_text", "matches", r"order #\d+", True),
    ("comment_text", "matches", r"^refund", False),
    ("comment_visibility", "is", "public", True),
    ("comment_visibility", "is", "internal", False),
    ("updated_by", "is", "requester", True),
    ("updated_by", "is", "agent", False),
    ("updated_by", "is_not", "agent", True),
    ("updated_by", "is_not", "requester", False),
]


@pytest.mark.parametrize(("field", "operator", "value", "holds"), CASES)
def test_condition(world, field, operator, value, holds):
    state, ids = world
    value = ids.get(value, value)
    check = compile_condition(field, operator, clean_condition(field, operator, value))
    assert check(state) is holds


def test_every_field_and_operator_is_covered():
    covered = {(f, o) for f, o, _, _ in CASES}
    offered = {(name, op) for name, field in FIELDS.items() for op in field.operators}
    assert offered - covered == set()


def test_creation_is_told_apart_from_updates(world):
    state, _ = world
    state.created = True
    assert compile_condition("update_type", "is", "created")(state)
    assert not compile_condition("update_type", "is", "updated")(state)


def test_internal_comment_and_agent_author(world):
    state, _ = world
    state.comment.is_public = False
    state.comment.author_requester = None
    state.comment.author_user = UserFactory()
    assert compile_condition("comment_visibility", "is", "internal")(state)
    assert compile_condition("updated_by", "is", "agent")(state)


def test_an_agent_update_without_comment_counts_as_agent(world):
    state, _ = world
    state.comment = None
    state.actor = UserFactory()
    assert compile_condition("updated_by", "is", "agent")(state)
    assert not compile_condition("comment_visibility", "is", "public")(state)


def test_comment_text_conditions_without_a_comment(world):
    state, _ = world
    state.comment = None
    assert not compile_condition("comment_text", "contains", "refund")(state)
    assert not compile_condition("comment_text", "matches", "refund")(state)
    assert compile_condition("comment_text", "not_contains", "refund")(state)


def test_unknown_follower_count_matches_no_bound(world):
    state, _ = world
    Identity.objects.filter(kind="x").update(followers=None)
    fresh = TicketState(state.ticket)
    assert not compile_condition("requester_followers", "at_least", "0")(fresh)
    assert not compile_condition("requester_followers", "less_than", "10")(fresh)


@pytest.mark.parametrize(
    ("field", "operator", "value", "error_on"),
    [
        ("no_such_field", "is", "x", "field"),
        ("status", "contains", "open", "operator"),
        ("tags", "is", "vip", "operator"),
        ("requester_verified", "changed", "", "operator"),
        ("status", "is", "bogus", "value"),
        ("status", "less_than", "", "value"),
        ("priority", "is", "9", "value"),
        ("group", "is", "999999", "value"),
        ("assignee", "is", "abc", "value"),
        ("channel", "is", "fax", "value"),
        ("requester_followers", "at_least", "-3", "value"),
        ("requester_followers", "at_least", "many", "value"),
        ("tags", "contains_any", " , ", "value"),
        ("comment_text", "contains", "", "value"),
        ("comment_text", "matches", "(unclosed", "value"),
        ("comment_text", "matches", r"(a)\1", "value"),  # backreferences cannot run in linear time
        ("comment_text", "matches", "a" * 501, "value"),
        ("requester_handle", "is", "", "value"),
    ],
)
def test_invalid_combinations_are_refused(field, operator, value, error_on):
    with pytest.raises(ValidationError) as caught:
        clean_condition(field, operator, value)
    assert error_on in caught.value.message_dict


def test_values_are_normalised_on_save():
    assert clean_condition("tags", "contains_any", "VIP, billing  vip") == "billing vip"
    assert clean_condition("requester_handle", "is", "@AliceD") == "aliced"
    assert clean_condition("requester_followers", "at_least", "007") == "7"
    assert clean_condition("status", "changed", "ignored") == ""


def test_regex_is_linear_time_on_hostile_input(world):
    """The classic catastrophic pattern returns at once under RE2."""
    state, _ = world
    state.comment.body = "a" * 100_000 + "!"
    check = compile_condition("comment_text", "matches", clean_condition("comment_text", "matches", "(a+)+$"))
    assert check(state) is False
