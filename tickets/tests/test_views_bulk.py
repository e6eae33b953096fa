import pytest
from django.urls import reverse

from tickets.events import ticket_changed
from tickets.models import Comment, Ticket

from .factories import CommentFactory, TicketFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
BULK = reverse("tickets:bulk")


def post_bulk(client, tickets, **data):
    return client.post(BULK, {"ticket_ids": [t.pk for t in tickets], "next": "/views/all/", **data})


def test_bulk_assign(client, agent):
    tickets = TicketFactory.create_batch(3)
    client.force_login(agent)
    response = post_bulk(client, tickets[:2], action="assign", assignee=agent.pk)
    assert response.status_code == 302 and response["Location"] == "/views/all/"
    assert list(Ticket.objects.filter(assignee=agent).order_by("pk")) == tickets[:2]


def test_bulk_solve_tells_listeners_about_every_ticket(client, agent, django_capture_on_commit_callbacks):
    tickets = TicketFactory.create_batch(3, status=Ticket.Status.OPEN)
    heard = []

    def listener(ticket, changes, **kwargs):
        heard.append((ticket.pk, changes.get("status")))

    ticket_changed.connect(listener)
    try:
        client.force_login(agent)
        with django_capture_on_commit_callbacks(execute=True):
            post_bulk(client, tickets, action="status", status="solved")
    finally:
        ticket_changed.disconnect(listener)
    assert set(Ticket.objects.values_list("status", flat=True)) == {"solved"}
    assert sorted(heard) == sorted((t.pk, ("open", "solved")) for t in tickets)


def test_bulk_status_skips_closed_tickets_it_cannot_reopen(client, agent):
    closed = TicketFactory(status=Ticket.Status.CLOSED)
    pending = TicketFactory(status=Ticket.Status.PENDING)
    client.force_login(agent)
    response = post_bulk(client, [closed, pending], action="status", status="open")
    closed.refresh_from_db()
    pending.refresh_from_db()
    assert (closed.status, pending.status) == ("closed", "open")
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any("cannot be reopened" in m for m in shown)


def test_bulk_add_tag_keeps_existing_tags(client, agent):
    from tickets.lifecycle import update_ticket

    ticket = TicketFactory()
    update_ticket(ticket, tags=["old"])
    client.force_login(agent)
    post_bulk(client, [ticket], action="tag", tag="VIP")
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["old", "vip"]


def test_bulk_needs_a_selection(client, agent):
    client.force_login(agent)
    response = client.post(BULK, {"action": "assign", "next": "/views/all/"})
    assert response.status_code == 302
    assert any("Select at least one" in str(m) for m in response.wsgi_request._messages)


def test_bulk_ignores_an_offsite_next(client, agent):
    ticket = TicketFactory()
    client.force_login(agent)
    response = client.post(
        BULK, {"ticket_ids": [ticket.pk], "action": "assign", "assignee": agent.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("tickets:queue")


def test_bulk_delete_asks_for_confirmation_first(client, admin_user):
    tickets = TicketFactory.create_batch(2)
    CommentFactory(ticket=tickets[0])
    client.force_login(admin_user)
    response = post_bulk(client, tickets, action="delete")
    assert response.status_code == 200
    assert "Delete 2 tickets?" in response.content.decode()
    assert Ticket.objects.count() == 2
    response = post_bulk(client, tickets, action="delete", confirmed="1")
    assert response.status_code == 302
    assert Ticket.objects.count() == 0 and Comment.objects.count() == 0


def test_bulk_delete_keeps_follow_ups(client, admin_user):
    original = TicketFactory()
    follow_up = TicketFactory(follow_up_of=original)
    client.force_login(admin_user)
    post_bulk(client, [original], action="delete", confirmed="1")
    follow_up.refresh_from_db()
    assert follow_up.follow_up_of is None


@pytest.mark.parametrize("user_fixture", ["agent", "restricted"])
def test_only_admins_bulk_delete(client, request, user_fixture, allowed_ticket):
    client.force_login(request.getfixturevalue(user_fixture))
    assert post_bulk(client, [allowed_ticket], action="delete", confirmed="1").status_code == 403
    assert Ticket.objects.filter(pk=allowed_ticket.pk).exists()


def test_restricted_bulk_action_skips_tickets_out_of_reach(client, restricted, allowed_ticket, forbidden_ticket):
    client.force_login(restricted)
    post_bulk(client, [allowed_ticket, forbidden_ticket], action="status", status="solved")
    allowed_ticket.refresh_from_db()
    forbidden_ticket.refresh_from_db()
    assert allowed_ticket.status == "solved"
    assert forbidden_ticket.status == "new"


def test_queue_offers_delete_only_to_admins(client, agent, admin_user):
    TicketFactory()
    client.force_login(agent)
    assert 'value="delete"' not in client.get("/views/all/").content.decode()
    client.force_login(admin_user)
    assert 'value="delete"' in client.get("/views/all/").content.decode()


def queue_form(client) -> dict:
    from .page_forms import form_data

    return form_data(client.get("/views/all/").content.decode(), "bulk-form")


def test_bulk_assign_from_an_old_queue_page_leaves_a_ticket_another_agent_took(client, agent):
    from .factories import UserFactory

    taken, free = TicketFactory.create_batch(2)
    maria = UserFactory(username="maria", first_name="Maria")
    client.force_login(agent)
    page = queue_form(client)
    from tickets.lifecycle import update_ticket

    update_ticket(taken, assignee=maria, actor=maria)

    response = client.post(
        BULK, {**page, "ticket_ids": [taken.pk, free.pk], "action": "assign", "assignee": agent.pk}
    )

    taken.refresh_from_db()
    free.refresh_from_db()
    assert (taken.assignee, free.assignee) == (maria, agent)
    shown = [str(m) for m in response.wsgi_request._messages]
    assert f"#{taken.pk} not changed: Assignee: Maria changed it from Unassigned to Maria" in " ".join(shown)


def test_bulk_status_from_an_old_queue_page_leaves_a_status_another_agent_set(client, agent):
    from tickets.lifecycle import update_ticket

    moved, still = TicketFactory.create_batch(2, status=Ticket.Status.OPEN)
    client.force_login(agent)
    page = queue_form(client)
    update_ticket(moved, status=Ticket.Status.PENDING)

    client.post(BULK, {**page, "ticket_ids": [moved.pk, still.pk], "action": "status", "status": "solved"})

    moved.refresh_from_db()
    still.refresh_from_db()
    assert (moved.status, still.status) == (Ticket.Status.PENDING, Ticket.Status.SOLVED)


def test_bulk_tag_keeps_tags_added_since_the_page_was_drawn(client, agent):
    from tickets.lifecycle import update_ticket

    ticket = TicketFactory()
    client.force_login(agent)
    page = queue_form(client)
    update_ticket(ticket, add_tags=["urgent-review"])

    client.post(BULK, {**page, "ticket_ids": [ticket.pk], "action": "tag", "tag": "vip"})

    assert sorted(ticket.tags.values_list("name", flat=True)) == ["urgent-review", "vip"]


# --- Only the chosen action's value counts -------------------------------------------------
# The bar shows one action's control at a time (queue.js); a browser without JavaScript, or a
# stale page, still sends every control. The server reads the chosen action's value only.


def test_a_picked_assignee_does_not_change_tickets_when_setting_status(client, agent, admin_user):
    tickets = TicketFactory.create_batch(2, status=Ticket.Status.OPEN)
    client.force_login(agent)

    post_bulk(client, tickets, action="status", status="pending", assignee=admin_user.pk, tag="vip")

    assert set(Ticket.objects.values_list("status", "assignee", flat=False)) == {("pending", None)}
    assert not Ticket.objects.filter(tags__isnull=False).exists()


def test_a_picked_status_does_not_change_tickets_when_assigning(client, agent):
    tickets = TicketFactory.create_batch(2, status=Ticket.Status.OPEN)
    client.force_login(agent)

    post_bulk(client, tickets, action="assign", assignee=agent.pk, status="solved", tag="vip")

    assert set(Ticket.objects.values_list("status", "assignee", flat=False)) == {("open", agent.pk)}


@pytest.mark.parametrize("action,chosen,hidden", [
    ("assign", {}, {"status": "no-such-status", "tag": "x" * 200}),
    ("status", {"status": "pending"}, {"assignee": "999999", "tag": "two tags"}),
    ("tag", {"tag": "vip"}, {"assignee": "not-a-number", "status": "no-such-status"}),
])
def test_a_bad_value_in_another_actions_control_does_not_refuse_the_chosen_action(client, agent, action, chosen,
                                                                                    hidden):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    client.force_login(agent)
    if action == "assign":
        chosen = {"assignee": agent.pk}

    response = post_bulk(client, [ticket], action=action, **chosen, **hidden)

    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == ["Updated 1 ticket."]
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status, list(ticket.tags.values_list("name", flat=True))) == {
        "assign": (agent.pk, "open", []), "status": (None, "pending", []), "tag": (None, "open", ["vip"])}[action]


def test_a_bad_value_in_the_chosen_actions_control_is_refused(client, agent):
    ticket = TicketFactory(status=Ticket.Status.OPEN)
    client.force_login(agent)

    post_bulk(client, [ticket], action="status", status="no-such-status")

    ticket.refresh_from_db()
    assert ticket.status == "open"
