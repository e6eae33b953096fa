"""Who may do what, for every URL of the agent UI: role × URL × action.

Anonymous users are sent to the login page; a ticket outside a restricted agent's groups and
channels is a 404 everywhere (never a 403 that would confirm it exists); deleting is for
admins only (403 for others on tickets they can see).
"""

import pytest
from django.urls import reverse

from tickets.models import Channel, Comment, Ticket

from .factories import TicketFactory
from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "admin_user", "agent", "restricted"]
LOGIN = "login"


def login_as(client, request, role):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def expect(role, *, admin, agent, restricted):
    return {"anonymous": LOGIN, "admin_user": admin, "agent": agent, "restricted": restricted}[role]


def check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/login/"), response
    else:
        assert response.status_code == expected, response


# --- Pages without a ticket -------------------------------------------------------------------

LIST_URLS = [
    reverse("tickets:queue"),
    *(reverse("tickets:queue_view", args=[slug]) for slug in ("unassigned", "mine", "open", "solved", "all")),
    *(reverse("tickets:channel_queue", args=[c]) for c in Channel.values),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", LIST_URLS)
def test_queue_pages(client, request, role, url):
    login_as(client, request, role)
    check(client.get(url), expect(role, admin=200, agent=200, restricted=200))


@pytest.mark.parametrize("role", ROLES)
def test_queues_list_only_visible_tickets(client, request, role, allowed_ticket, forbidden_ticket):
    login_as(client, request, role)
    response = client.get(reverse("tickets:queue_view", args=["all"]), {"q": "i"})  # matches both subjects
    if role == "anonymous":
        check(response, LOGIN)
        return
    listed = {t.pk for t in response.context["page"].object_list}
    if role == "restricted":
        assert listed == {allowed_ticket.pk}
        assert forbidden_ticket.subject not in response.content.decode()
    else:
        assert listed == {allowed_ticket.pk, forbidden_ticket.pk}


def test_restricted_agent_sees_tickets_of_allowed_channels(client, restricted, billing_group):
    x_ticket = TicketFactory(channel=Channel.X, group=billing_group)
    client.force_login(restricted)
    assert client.get(x_ticket.get_absolute_url()).status_code == 200


# --- Ticket pages and actions -------------------------------------------------------------------


def ticket_for(request, which):
    return request.getfixturevalue({"allowed": "allowed_ticket", "forbidden": "forbidden_ticket"}[which])


# (url name, method, POST data, expectations for the allowed ticket, for the forbidden ticket)
# Expectations are (admin, agent, restricted).
TICKET_ACTIONS = [
    ("tickets:detail", "get", {}, (200, 200, 200), (200, 200, 404)),
    ("tickets:reply", "post", {"body": "hi", "kind": "internal"}, (302, 302, 302), (302, 302, 404)),
    ("tickets:update", "post", {"status": "pending", "priority": "3", "tags": "x"}, (302, 302, 302), (302, 302, 404)),
    ("tickets:delete", "get", {}, (200, 403, 403), (200, 403, 404)),
    ("tickets:delete", "post", {}, (302, 403, 403), (302, 403, 404)),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["allowed", "forbidden"])
@pytest.mark.parametrize(
    ("name", "method", "data", "on_allowed", "on_forbidden"), TICKET_ACTIONS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_ticket_urls(client, request, role, which, name, method, data, on_allowed, on_forbidden):
    ticket = ticket_for(request, which)
    login_as(client, request, role)
    admin, agent, restricted = on_allowed if which == "allowed" else on_forbidden
    response = getattr(client, method)(reverse(name, args=[ticket.pk]), data)
    expected = expect(role, admin=admin, agent=agent, restricted=restricted)
    check(response, expected)
    if expected in (LOGIN, 403, 404):
        # Refused means untouched.
        assert Ticket.objects.filter(pk=ticket.pk, status=Ticket.Status.NEW, priority=2).exists()
        assert not Comment.objects.filter(ticket_id=ticket.pk).exists()


@pytest.mark.parametrize("name", ["tickets:reply", "tickets:update"])
def test_actions_refuse_get(client, agent, allowed_ticket, name):
    client.force_login(agent)
    assert client.get(reverse(name, args=[allowed_ticket.pk])).status_code == 405


def test_missing_ticket_is_404(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("tickets:detail", args=[999999])).status_code == 404


# --- Bulk actions ------------------------------------------------------------------------------

BULK_ACTIONS = [
    ("assign", {}, lambda t: t.assignee_id is None),
    ("status", {"status": "solved"}, lambda t: t.status == "solved"),
    ("tag", {"tag": "bulk"}, lambda t: t.tags.filter(name="bulk").exists()),
    ("delete", {"confirmed": "1"}, None),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "extra", "applied"), BULK_ACTIONS, ids=[a[0] for a in BULK_ACTIONS])
def test_bulk_actions(client, request, role, action, extra, applied, allowed_ticket, forbidden_ticket, agent):
    Ticket.objects.update(assignee=agent)
    login_as(client, request, role)
    response = client.post(
        reverse("tickets:bulk"),
        {"ticket_ids": [allowed_ticket.pk, forbidden_ticket.pk], "action": action, "next": "/", **extra},
    )
    may_delete = role == "admin_user"
    if role == "anonymous":
        check(response, LOGIN)
        may_act_on = set()
    elif action == "delete" and not may_delete:
        check(response, 403)
        may_act_on = set()
    else:
        check(response, 302)
        may_act_on = {allowed_ticket.pk} if role == "restricted" else {allowed_ticket.pk, forbidden_ticket.pk}
    for ticket in (allowed_ticket, forbidden_ticket):
        exists = Ticket.objects.filter(pk=ticket.pk).first()
        if action == "delete":
            assert (exists is None) == (ticket.pk in may_act_on)
        else:
            assert applied(exists) == (ticket.pk in may_act_on)


# --- Django admin ------------------------------------------------------------------------------

ADMIN_URLS = ["/admin/", "/admin/tickets/ticket/", "/admin/tickets/user/", "/admin/tickets/group/add/"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_django_admin_is_for_admins_only(client, request, role, url):
    login_as(client, request, role)
    response = client.get(url)
    if role == "admin_user":
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
