import pytest
from django.contrib import admin

from tickets.mail.inbound import ingest_email
from tickets.mail.models import EmailAttachment, InboundEmail
from tickets.mail.testing import build_email
from tickets.models import Comment, Group, Identity, Requester, Tag, Ticket, TicketEvent, User

from .factories import AdminFactory, CommentFactory, TicketFactory, UserFactory, XIdentityFactory

pytestmark = pytest.mark.django_db

MODELS = [User, Group, Requester, Identity, Tag, Ticket, Comment, TicketEvent, InboundEmail, EmailAttachment]


def test_only_admins_and_superusers_are_staff():
    agent = UserFactory(is_staff=True)
    restricted = UserFactory(role=User.Role.RESTRICTED, is_staff=True)
    boss = UserFactory(role=User.Role.ADMIN)
    root = UserFactory(is_superuser=True)
    assert [u.is_staff for u in (agent, restricted, boss, root)] == [False, False, True, True]


def test_changing_the_role_changes_staff_status():
    user = UserFactory()
    user.role = User.Role.ADMIN
    user.save(update_fields=["role"])
    user.refresh_from_db()
    assert user.is_staff
    user.role = User.Role.AGENT
    user.save()
    user.refresh_from_db()
    assert not user.is_staff


def test_admin_role_holds_every_permission_and_agents_none():
    assert AdminFactory().has_perm("tickets.delete_ticket")
    assert not UserFactory().has_perm("tickets.delete_ticket")
    inactive = AdminFactory(is_active=False)
    assert not inactive.has_perm("tickets.delete_ticket")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_is_in_the_admin_with_lookups(model):
    model_admin = admin.site._registry[model]
    assert model_admin.search_fields
    assert model_admin.list_display
    if model not in (Group, Tag, Requester):
        assert model_admin.list_filter
    if model not in (Group, Tag, Requester):
        assert model_admin.autocomplete_fields


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_admin_changelists_render_and_search(client, model):
    ticket = TicketFactory()
    CommentFactory(ticket=ticket)
    XIdentityFactory(requester=ticket.requester)
    Tag.objects.create(name="vip")
    Group.objects.create(name="Support")
    client.force_login(AdminFactory())
    url = f"/admin/tickets/{model._meta.model_name}/"
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "a"}).status_code == 200


def test_admin_sets_a_restricted_agents_reach(client):
    support = Group.objects.create(name="Support")
    user = UserFactory(username="rita")
    client.force_login(AdminFactory())
    response = client.post(
        f"/admin/tickets/user/{user.pk}/change/",
        {
            "username": "rita",
            "first_name": "Rita",
            "last_name": "",
            "email": "rita@example.com",
            "role": "restricted",
            "allowed_groups": [support.pk],
            "allowed_channels": '["x"]',
            "is_active": "on",
            "last_login_0": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.role == "restricted" and user.allowed_channels == ["x"]
    assert list(user.allowed_groups.all()) == [support]
    assert not user.is_staff


def test_admin_creates_an_agent(client):
    client.force_login(AdminFactory())
    response = client.post(
        "/admin/tickets/user/add/",
        {"username": "newbie", "email": "n@example.com", "role": "agent", "password1": "Str0ng-pass-99",
         "password2": "Str0ng-pass-99", "usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="newbie").role == "agent"


def test_requester_page_edits_identities_inline(client):
    requester = XIdentityFactory(handle="grace").requester
    client.force_login(AdminFactory())
    html = client.get(f"/admin/tickets/requester/{requester.pk}/change/").content.decode()
    assert 'name="identities-0-handle"' in html and 'value="grace"' in html


def test_comments_cannot_be_added_in_the_admin(client):
    client.force_login(AdminFactory())
    assert client.get("/admin/tickets/comment/add/").status_code == 403


def test_received_emails_and_attachments_are_looked_up_not_edited(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    comment = ingest_email(
        build_email(sender="Ann <ann@example.com>", subject="Printer on fire", attachments=[("photo.png", "image/png", b"png")])
    ).comment
    ingest_email(build_email(sender="Bob <bob@example.com>", subject="Other matter"))
    inbound, attachment = comment.inbound_email, comment.email_attachments.get()
    client.force_login(AdminFactory())
    found = client.get("/admin/tickets/inboundemail/", {"q": "ann@example.com"}).content.decode()
    assert "Printer on fire" in found and "Other matter" not in found
    by_outcome = client.get("/admin/tickets/inboundemail/", {"outcome": "new_ticket"}).content.decode()
    assert "Printer on fire" in by_outcome and "Other matter" in by_outcome
    assert "photo.png" in client.get("/admin/tickets/emailattachment/", {"q": "photo"}).content.decode()
    # A record of what arrived: readable, never added or changed by hand.
    for model, obj in (("inboundemail", inbound), ("emailattachment", attachment)):
        assert client.get(f"/admin/tickets/{model}/add/").status_code == 403
        page = client.get(f"/admin/tickets/{model}/{obj.pk}/change/")
        assert page.status_code == 200 and not page.context["has_change_permission"]
        assert "/media/" not in page.content.decode()  # files are downloaded through the checked views
        assert client.post(f"/admin/tickets/{model}/{obj.pk}/change/", {}).status_code == 403
    html = client.get(f"/admin/tickets/inboundemail/{inbound.pk}/change/").content.decode()
    assert f'href="/email/original/{comment.pk}/"' in html
    html = client.get(f"/admin/tickets/emailattachment/{attachment.pk}/change/").content.decode()
    assert f'href="/email/attachments/{attachment.pk}/"' in html


def test_agents_do_not_reach_the_email_records(client):
    client.force_login(UserFactory())
    assert client.get("/admin/tickets/inboundemail/").status_code == 302
