"""Merging tickets: comments move to the target, the source closes pointing at it, both
logs say so, and what still reaches the source is passed on. Refused beyond the comment
cap, for closed tickets, for tickets the agent cannot see, and when the source's status
moved since the agent's page was drawn."""

from __future__ import annotations

import pytest

from tickets.comments import add_comment, open_ticket_with_comment
from tickets.events import ticket_changed
from tickets.lifecycle import EditConflict, update_ticket
from tickets.merging import MergeRefused, merge_candidates, merge_tickets, plan_merge
from tickets.models import Channel, Comment, Identity, Ticket, TicketEvent, User

from .factories import EmailIdentityFactory, GroupFactory, RequesterFactory, UserFactory, XIdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(username="maria", first_name="Maria", last_name="")


@pytest.fixture
def customer():
    requester = RequesterFactory(name="Alice")
    XIdentityFactory(requester=requester, handle="alice")
    return requester


def ticket_with(requester, *bodies, channel=Channel.X, **fields) -> Ticket:
    ticket = open_ticket_with_comment(requester=requester, subject=bodies[0], body=bodies[0], channel=channel,
                                      **fields).ticket
    for body in bodies[1:]:
        add_comment(ticket, body=body, author_requester=requester)
    return Ticket.objects.get(pk=ticket.pk)


def test_comments_move_and_the_source_closes_with_a_link(agent, customer):
    mention = ticket_with(customer, "@AcmeHelp order 123 is late", "still nothing")
    dm = ticket_with(customer, "It's order 123, can you check?", channel=Channel.X_DM)
    add_comment(dm, body="Looking into it", author_user=agent)

    plan = merge_tickets(dm, mention, by=agent, source_status_seen="open")

    assert plan.moving == 2
    mention.refresh_from_db()
    dm.refresh_from_db()
    bodies = list(mention.comments.order_by("created_at", "id").values_list("body", flat=True))
    assert bodies[:5] == ["@AcmeHelp order 123 is late", "still nothing", "It's order 123, can you check?",
                          "Looking into it", f"Merged #{dm.pk} “It's order 123, can you check?” into this ticket: 2 "
                          "messages moved."]
    assert mention.comment_count == 5 == mention.comments.count()
    assert dm.status == Ticket.Status.CLOSED and dm.merged_into == mention
    assert list(dm.comments.values_list("body", "is_public")) == [
        (f"Merged into #{mention.pk} “@AcmeHelp order 123 is late”.", False)]
    assert dm.comment_count == 1
    assert mention.agent_replied_at is not None  # the DM's answer counts on the target


def test_both_event_logs_record_the_merge(agent, customer):
    source, target = ticket_with(customer, "a"), ticket_with(customer, "b")

    merge_tickets(source, target, by=agent)

    assert list(source.events.values_list("field", "old_label", "new_label", "actor_name")) == [
        ("status", "New", "Closed", "Maria"), ("merged_into", "", f"#{target.pk} b", "Maria")]
    assert list(target.events.values_list("field", "new_value", "actor_name")) == [
        ("merged_from", source.pk, "Maria")]


def test_both_tickets_are_announced_once_committed(agent, customer, django_capture_on_commit_callbacks):
    source, target = ticket_with(customer, "a"), ticket_with(customer, "b")
    heard = []
    ticket_changed.connect(lambda **kw: heard.append((kw["ticket"].pk, kw["changes"])), weak=False,
                           dispatch_uid="test_merge_announced")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            merge_tickets(source, target, by=agent)
    finally:
        ticket_changed.disconnect(dispatch_uid="test_merge_announced")
    assert (source.pk, {"status": ("new", "closed")}) in heard
    assert (target.pk, {}) in heard


def test_a_requester_message_for_the_merged_ticket_lands_on_the_target(agent, customer):
    source, target = ticket_with(customer, "a"), ticket_with(customer, "b")
    merge_tickets(source, target, by=agent)

    # What still names the source (its email reply-to address, say) is passed on.
    comment = add_comment(Ticket.objects.get(pk=source.pk), body="any news?", author_requester=customer,
                          channel=Channel.EMAIL)

    assert comment.ticket_id == target.pk
    assert not Ticket.objects.filter(follow_up_of=source).exists()


def test_merges_of_merges_are_followed(agent, customer):
    first, second, third = ticket_with(customer, "1"), ticket_with(customer, "2"), ticket_with(customer, "3")
    merge_tickets(first, second, by=agent)
    merge_tickets(second, third, by=agent)

    comment = add_comment(Ticket.objects.get(pk=first.pk), body="hello?", author_requester=customer)

    assert comment.ticket_id == third.pk
    assert third.comments.filter(body="1").exists()


def test_the_comment_cap_refuses_a_merge_that_would_exceed_it(agent, customer, settings):
    settings.TICKET_COMMENT_LIMIT = 5
    source = ticket_with(customer, "a", "b")  # 2
    target = ticket_with(customer, "c", "d")  # 2; with the merge note: 5, the limit
    assert plan_merge(source, target, user=agent).total == 5
    bigger = ticket_with(customer, "e", "f", "g")

    with pytest.raises(MergeRefused, match="more than the limit of 5"):
        merge_tickets(bigger, target, by=agent)

    assert Comment.objects.filter(ticket=bigger).count() == 3 and bigger.events.count() == 0


@pytest.mark.parametrize("closed", ["source", "target"])
def test_closed_tickets_are_not_merged(agent, customer, closed):
    source, target = ticket_with(customer, "a"), ticket_with(customer, "b")
    update_ticket(locals()[closed], status=Ticket.Status.CLOSED)

    with pytest.raises(MergeRefused, match="is closed"):
        merge_tickets(source, target, by=agent)


def test_a_ticket_is_not_merged_into_itself(agent, customer):
    ticket = ticket_with(customer, "a")
    with pytest.raises(MergeRefused):
        merge_tickets(ticket, ticket, by=agent)


def test_a_restricted_agent_merges_only_tickets_they_can_see(customer):
    support, billing = GroupFactory(name="Support"), GroupFactory(name="Billing")
    rita = UserFactory(username="rita", role=User.Role.RESTRICTED)
    rita.allowed_groups.add(support)
    mine = ticket_with(customer, "mine", channel=Channel.EMAIL, group=support)
    also_mine = ticket_with(customer, "also mine", channel=Channel.EMAIL, group=support)
    hidden = ticket_with(customer, "hidden", channel=Channel.EMAIL, group=billing)

    with pytest.raises(MergeRefused, match="No such ticket"):
        merge_tickets(mine, hidden, by=rita)
    with pytest.raises(MergeRefused, match="No such ticket"):
        merge_tickets(hidden, mine, by=rita)
    assert [t.pk for t in merge_candidates(rita, mine, "")] == [also_mine.pk]

    merge_tickets(mine, also_mine, by=rita)
    assert Ticket.objects.get(pk=mine.pk).merged_into_id == also_mine.pk


def test_a_status_changed_since_the_page_was_drawn_is_an_edit_conflict(agent, customer):
    source, target = ticket_with(customer, "a"), ticket_with(customer, "b")
    ben = UserFactory(username="ben", first_name="Ben", last_name="")
    update_ticket(source, status=Ticket.Status.PENDING, actor=ben)

    with pytest.raises(EditConflict, match="Ben changed it from New to Pending"):
        merge_tickets(source, target, by=agent, source_status_seen="new")

    assert Ticket.objects.get(pk=source.pk).merged_into is None
    assert source.comments.count() == 1


def test_the_other_requesters_identities_join_the_target_requester(agent, customer):
    by_email = RequesterFactory(name="alice@example.com")
    address = EmailIdentityFactory(requester=by_email, value="alice@example.com")
    EmailIdentityFactory(requester=customer, value="alice.work@example.com")  # the target's primary
    source = ticket_with(by_email, "Order 123", channel=Channel.EMAIL)
    target = ticket_with(customer, "@AcmeHelp order 123")

    plan = merge_tickets(source, target, by=agent)

    assert plan.identities == [address]
    address.refresh_from_db()
    assert address.requester == customer and not address.is_primary
    assert customer.identities.filter(kind=Identity.Kind.EMAIL, is_primary=True).get().value == "alice.work@example.com"
    assert "alice@example.com now belong to Alice" in target.comments.last().body


def test_identities_stay_with_a_requester_who_has_other_tickets(agent, customer):
    other = RequesterFactory(name="Bob")
    address = EmailIdentityFactory(requester=other, value="bob@example.com")
    source = ticket_with(other, "Order 123", channel=Channel.EMAIL)
    ticket_with(other, "Another matter", channel=Channel.EMAIL)
    target = ticket_with(customer, "@AcmeHelp order 123")

    plan = merge_tickets(source, target, by=agent)

    assert plan.identities == [] and "they have other tickets" in plan.identities_stay
    address.refresh_from_db()
    assert address.requester == other


def test_the_picker_finds_tickets_by_id_subject_and_requester(agent, customer):
    source = ticket_with(customer, "Order 123 late")
    dm = ticket_with(customer, "my parcel", channel=Channel.X_DM)
    bob = RequesterFactory(name="Bob Stone")
    XIdentityFactory(requester=bob, handle="bobstone")
    bobs = ticket_with(bob, "Refund for order 9")

    assert [t.pk for t in merge_candidates(agent, source, "")] == [dm.pk]  # the same requester's
    assert [t.pk for t in merge_candidates(agent, source, f"#{bobs.pk}")] == [bobs.pk]
    assert [t.pk for t in merge_candidates(agent, source, "refund")] == [bobs.pk]
    assert [t.pk for t in merge_candidates(agent, source, "@bobst")] == [bobs.pk]
    assert [t.pk for t in merge_candidates(agent, source, "Bob Stone")] == [bobs.pk]
    assert merge_candidates(agent, source, f"{source.pk}") == []


def test_merge_events_are_logged_with_their_own_fields():
    assert {TicketEvent.Field.MERGED_INTO, TicketEvent.Field.MERGED_FROM} <= set(TicketEvent.Field.values)
