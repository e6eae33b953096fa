"""A requester's export and erasure, across every channel: after erasure nothing of the person
is left in any table (every text and JSON column of every model is searched for their name,
handle and email) nor in any stored file; their tickets stay, anonymised; an audit row says
who erased them; their next message starts afresh. Only admins may export or erase."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import TextField
from django.db.models.functions import Cast
from django.urls import reverse

from tickets.comments import add_comment
from tickets.events import Actor
from tickets.lifecycle import update_ticket
from tickets.mail.capture import new_email_request, take_address
from tickets.mail.inbound import ingest_email
from tickets.mail.notifications import queue_notification
from tickets.mail.testing import build_email
from tickets.models import Channel, Erasure, Identity, Requester, Ticket
from tickets.privacy import erase_requester, export_requester
from tickets.tests.factories import AdminFactory, UserFactory
from twitter_channel.intake import conversion, polling
from twitter_channel.models import ActivityEvent, IncomingItem, OutgoingMessage, XAccount

from .intake_helpers import BRAND_ID, FakeX, dm, tweet, user

NAME, HANDLE, EMAIL = "Zelda Quokkaface", "zquokka77", "zelda.q@example.org"
# X user ids as X writes them (snowflakes): the erasure test searches every text column for
# Zelda's, and a four-digit id turned up by chance in a notification's random Message-ID.
ZELDA, OTHER = "1590000000424242", "1590000000515151"
NEEDLES = (NAME, HANDLE, EMAIL)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def account(db):
    return XAccount.objects.create(user_id=BRAND_ID, username="AcmeHelp", access_token="tok-a", refresh_token="ref-a")


@pytest.fixture
def x(account):
    fake = FakeX()
    fake.add_user(ZELDA, HANDLE, name=NAME)
    fake.add_user(OTHER, "otto", name="Otto Other")
    return fake


def poll(x, account, stream="mentions"):
    polling.poll_stream(account.pk, stream, client_factory=x.client_for)
    conversion.convert_pending(account.pk)


@pytest.fixture
def zelda(x, account, django_capture_on_commit_callbacks):
    """Zelda wrote on X (a mention and a DM), by email (with an attachment) and left her
    address on the form; agents answered naming her; X pushed an event with her profile."""
    x.mentions.append(tweet(f"@AcmeHelp hi, {NAME} here, order 55 is late", ZELDA))
    x.mentions.append(tweet("@AcmeHelp otto's unrelated question", OTHER))
    x.mentions.append(tweet(f"@AcmeHelp @{HANDLE} sent me: ask for {NAME} at the desk", OTHER,
                            mentions=("AcmeHelp", HANDLE)))
    poll(x, account)
    x.dm_events.append(dm(f"my email is {EMAIL}", ZELDA, f"{ZELDA}-{BRAND_ID}"))
    poll(x, account, "dms")
    requester = Identity.objects.get(kind="x", value=ZELDA).requester
    ticket = requester.tickets.order_by("pk").first()
    agent = UserFactory(first_name="Bea", last_name="Agent")
    add_comment(ticket, body=f"Hi @{HANDLE}, sorry {NAME}! We will write to {EMAIL}.", author_user=agent)
    update_ticket(ticket, status=Ticket.Status.SOLVED, actor=agent)
    update_ticket(ticket, status=Ticket.Status.OPEN, actor=Actor.requester_message(requester, Channel.X))
    OutgoingMessage.objects.create(comment=ticket.comments.last(), account=account, kind="tweet",
                                   text=f"@{HANDLE} sorry {NAME}!", recipient_x_id=ZELDA)
    with django_capture_on_commit_callbacks(execute=True):
        take_address(new_email_request(ticket, agent).pk, EMAIL)
    Identity.objects.create(requester=requester, kind=Identity.Kind.EMAIL, value=EMAIL,
                            confirmed_at=datetime.now(UTC), is_primary=True)
    ingest_email(build_email(sender=f"{NAME} <{EMAIL}>", subject=f"Order 55 for {NAME}",
                             body=f"Regards,\n{NAME}\n@{HANDLE}",
                             attachments=[(f"{HANDLE}-receipt.txt", "text/plain", f"receipt of {NAME}".encode())]))
    queue_notification([EMAIL], f"[#{ticket.pk}] Update for {NAME}", f"Dear {NAME}, your ticket was updated.")
    ActivityEvent.objects.create(event_id="ev-z", source="webhook", event_type="post.mention.create", state="processed",
                                 body=json.dumps({"data": {"includes": {"users": [user(ZELDA, HANDLE, NAME)]}}}))
    LogEntry.objects.create(user=agent, content_type=ContentType.objects.get_for_model(Requester),
                            object_id=str(requester.pk), object_repr=NAME, action_flag=CHANGE,
                            change_message=f"Changed name of {NAME}")
    return requester


def text_columns(model):
    for field in model._meta.concrete_fields:
        if isinstance(field, (models.CharField, models.TextField, models.FileField)):
            yield field.name, False
        elif isinstance(field, models.JSONField):
            yield field.name, True


def rows_naming(needle: str) -> list[str]:
    found = []
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        for name, is_json in text_columns(model):
            qs = model._default_manager.all()
            if is_json:
                qs = qs.annotate(_as_text=Cast(name, TextField())).filter(_as_text__icontains=needle)
            else:
                qs = qs.filter(**{f"{name}__icontains": needle})
            found += [f"{model._meta.label}.{name} #{pk}" for pk in qs.values_list("pk", flat=True)]
    return found


def files_naming(root, needle: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle.lower().encode() in p.read_bytes().lower()]


def test_erasure_leaves_nothing_of_the_person_in_any_table_or_file(zelda, media, django_capture_on_commit_callbacks):
    tickets_before = set(zelda.tickets.values_list("pk", flat=True))
    assert all(rows_naming(needle) for needle in NEEDLES)  # the search finds them before
    assert files_naming(media, NAME)
    admin = AdminFactory(first_name="Ada", last_name="Admin")

    with django_capture_on_commit_callbacks(execute=True):
        erasure = erase_requester(zelda, by=admin)

    for needle in NEEDLES:
        assert rows_naming(needle) == [], needle
        assert files_naming(media, needle) == [], needle
    assert rows_naming(ZELDA) == []  # nor her X user id
    # Her tickets stay, with an anonymous requester; Otto's are untouched.
    assert set(Ticket.objects.filter(requester=zelda).values_list("pk", flat=True)) == tickets_before
    zelda.refresh_from_db()
    assert zelda.name == f"Erased requester #{zelda.pk}" and not zelda.identities.exists()
    assert IncomingItem.objects.filter(author_x_id=OTHER, text="@AcmeHelp otto's unrelated question").exists()
    # Otto's post that named her keeps its words, not her.
    assert IncomingItem.objects.filter(author_x_id=OTHER, text="@AcmeHelp [erased] sent me: ask for [erased] at the desk",
                                       mentioned_usernames=["AcmeHelp"]).exists()
    assert Requester.objects.get(identities__value=OTHER).name == "Otto Other"
    assert (erasure.requester_id, erasure.erased_by, erasure.erased_by_name) == (zelda.pk, admin, "Ada Admin")
    assert erasure.counts["comments"] >= 3


def test_the_erased_persons_next_message_starts_afresh(zelda, x, account):
    erase_requester(zelda, by=AdminFactory())
    x.dm_events.append(dm("hello again", ZELDA, f"{ZELDA}-{BRAND_ID}"))
    x.mentions.append(tweet("@AcmeHelp me again", ZELDA))
    poll(x, account, "dms")
    poll(x, account)

    fresh = Identity.objects.get(kind="x", value=ZELDA).requester
    assert fresh.pk != zelda.pk and fresh.name == NAME
    new_tickets = Ticket.objects.filter(requester=fresh)
    assert new_tickets.count() == 2  # the DM did not join the erased conversation's ticket
    assert not Ticket.objects.filter(requester=zelda, comments__body__in=["hello again", "@AcmeHelp me again"]).exists()


def test_export_holds_everything_about_the_person(zelda):
    archive = zipfile.ZipFile(io.BytesIO(export_requester(zelda)))
    names = archive.namelist()
    document = json.loads(archive.read("requester.json"))

    assert {(i["kind"], i["value"]) for i in document["identities"]} == {("x", ZELDA), ("email", EMAIL)}
    bodies = [c["body"] for t in document["tickets"] for c in t["comments"]]
    assert any(NAME in b for b in bodies) and any(EMAIL in b for b in bodies)
    assert document["email_addresses_given"][0]["address"] == EMAIL
    assert {i["author_handle"] for i in document["x"]["items"]} == {HANDLE}
    assert any(i["raw"].get("text", "").startswith("@AcmeHelp hi") for i in document["x"]["items"])
    attachment = next(n for n in names if n.startswith("attachments/"))
    assert archive.read(attachment) == f"receipt of {NAME}".encode()
    assert any(n.startswith("emails/") and NAME.encode() in archive.read(n) for n in names)
    # Internal notes are the team's, not the requester's data.
    assert not any(c["body"].startswith("An email address was left") for t in document["tickets"]
                   for c in t["comments"])


# --- who may ----------------------------------------------------------------------------------


def changelist():
    return reverse("admin:tickets_requester_changelist")


def test_admin_exports_a_requester_as_a_zip(zelda, client):
    client.force_login(AdminFactory())
    response = client.post(changelist(), {"action": "export_personal_data", "_selected_action": [zelda.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "requester.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()


def test_admin_erases_after_confirming(zelda, client):
    admin = AdminFactory()
    client.force_login(admin)
    asked = client.post(changelist(), {"action": "erase_personal_data", "_selected_action": [zelda.pk]})
    assert asked.status_code == 200 and b"Yes, erase" in asked.content
    assert not Erasure.objects.exists()

    client.post(changelist(), {"action": "erase_personal_data", "_selected_action": [zelda.pk], "confirmed": "yes"})

    assert Erasure.objects.get().erased_by == admin
    assert rows_naming(HANDLE) == []


@pytest.mark.parametrize("role", ["agent", "restricted"])
def test_agents_may_neither_export_nor_erase(zelda, client, role):
    client.force_login(UserFactory(role=role, is_staff=True))
    for action in ("export_personal_data", "erase_personal_data"):
        response = client.post(changelist(), {"action": action, "_selected_action": [zelda.pk], "confirmed": "yes"})
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Erasure.objects.exists()
    assert Identity.objects.filter(value=EMAIL).exists()


def test_the_audit_trail_of_erasures_cannot_be_deleted(zelda, client):
    erasure = erase_requester(zelda, by=AdminFactory())
    client.force_login(AdminFactory())
    response = client.post(reverse("admin:tickets_erasure_delete", args=[erasure.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Erasure.objects.filter(pk=erasure.pk).exists()
