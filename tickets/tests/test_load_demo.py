from io import StringIO

import pytest
from django.core.management import call_command

from tickets.access import visible_tickets
from tickets.models import Channel, Comment, Identity, Requester, Ticket, User

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def counts():
    return [m.objects.count() for m in (User, Requester, Identity, Ticket, Comment)]


def test_demo_has_every_role_and_channel():
    load()
    assert set(User.objects.values_list("role", flat=True)) == {"admin", "agent", "restricted"}
    assert {Channel.WEB, Channel.EMAIL, Channel.X} <= set(Ticket.objects.values_list("channel", flat=True))
    assert Identity.objects.filter(kind="x").exists() and Identity.objects.filter(kind="email").exists()
    assert Comment.objects.filter(is_public=False).exists()  # an internal note to look at


def test_loading_twice_changes_nothing():
    load()
    before = counts()
    load()
    assert counts() == before


def test_it_prints_logins_that_work(client):
    output = load()
    for username, password in [("admin", "admin-demo-pass"), ("alice", "alice-demo-pass"), ("rita", "rita-demo-pass")]:
        assert f"{username} / {password}" in output
        # Through the login page, as a person would (and as the login throttle requires).
        logged_in = client.post("/login/", {"username": username, "password": password})
        assert logged_in.status_code == 302 and "_auth_user_id" in client.session


def test_demo_restricted_agent_sees_only_social_and_x():
    load()
    rita = User.objects.get(username="rita")
    visible = visible_tickets(rita)
    assert visible.exists()
    assert visible.count() < Ticket.objects.count()
    assert all(t.group.name == "Social" or t.is_x for t in visible.select_related("group"))


def test_demo_admin_reaches_the_django_admin(client):
    load()
    client.post("/login/", {"username": "admin", "password": "admin-demo-pass"})
    assert client.get("/admin/").status_code == 200
