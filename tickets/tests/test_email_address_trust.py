"""Which email addresses may receive mail: the data migration that marked the addresses held
before confirmation existed, and what writing from an address means."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.utils import timezone

from tickets.mail.addresses import email_address_for, requester_for_address
from tickets.mail.models import InboundEmail
from tickets.models import Channel, Identity

from .factories import CommentFactory, RequesterFactory, TicketFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tickets.migrations.0006_mark_known_email_addresses")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def legacy_address(requester, value):
    """An address as stored before 0005: no confirmation, no primary."""
    return Identity.objects.create(requester=requester, kind=Identity.Kind.EMAIL, value=value)


def wrote_from(requester, address, when):
    ticket = TicketFactory(requester=requester, channel=Channel.EMAIL)
    comment = CommentFactory(ticket=ticket, author_requester=requester, channel=Channel.EMAIL)
    row = InboundEmail.objects.create(message_id=f"<{address}-{when.timestamp()}@x>", from_address=address,
                                      raw=ContentFile(b"raw", name="m.eml"), outcome="threaded", ticket=ticket,
                                      comment=comment)
    InboundEmail.objects.filter(pk=row.pk).update(received_at=when)
    return ticket


def test_migration_confirms_addresses_the_requester_wrote_from_and_makes_the_latest_primary():
    ann = RequesterFactory()
    home, work = legacy_address(ann, "ann@home.example"), legacy_address(ann, "ann@work.example")
    long_ago = timezone.now() - timedelta(days=300)
    ticket = wrote_from(ann, "ann@home.example", long_ago)
    wrote_from(ann, "ann@work.example", long_ago + timedelta(days=1))
    work.save()  # used most recently: where replies went before

    migration.mark(apps, None)

    home.refresh_from_db()
    work.refresh_from_db()
    assert home.confirmed_at == long_ago and work.confirmed_at is not None
    assert (home.is_primary, work.is_primary) == (False, True)
    # Replies on the ticket written from home still go home; elsewhere to the primary.
    assert email_address_for(ticket) == "ann@home.example"


def test_migration_leaves_addresses_nobody_wrote_from_unconfirmed():
    ann = RequesterFactory()
    left = legacy_address(ann, "left-on-the-form@example.com")
    x_ticket = TicketFactory(requester=ann, channel=Channel.X)

    migration.mark(apps, None)

    left.refresh_from_db()
    assert left.confirmed_at is None and not left.is_primary
    assert email_address_for(x_ticket) is None


def test_an_address_somebody_else_wrote_from_is_not_confirmed_for_this_requester():
    ann, mallory = RequesterFactory(), RequesterFactory()
    left = legacy_address(ann, "mallory@example.com")
    wrote_from(mallory, "mallory@example.com", timezone.now())

    migration.mark(apps, None)

    left.refresh_from_db()
    assert left.confirmed_at is None


def test_migration_reversal_clears_the_marks():
    ann = RequesterFactory()
    identity = legacy_address(ann, "ann@example.com")
    wrote_from(ann, "ann@example.com", timezone.now())
    migration.mark(apps, None)

    migration.unmark(apps, None)

    identity.refresh_from_db()
    assert identity.confirmed_at is None and not identity.is_primary


def test_first_contact_by_email_gives_a_confirmed_primary_address():
    requester = requester_for_address("New@Example.com", "New Person")
    identity = requester.identities.get()
    assert identity.value == "new@example.com" and identity.confirmed_at and identity.is_primary


def test_writing_from_an_unconfirmed_address_confirms_it_without_taking_the_primary():
    ann = RequesterFactory()
    Identity.objects.create(requester=ann, kind=Identity.Kind.EMAIL, value="ann@example.com",
                            confirmed_at=timezone.now(), is_primary=True)
    legacy_address(ann, "ann@old.example")

    assert requester_for_address("ann@old.example") == ann

    old = Identity.objects.get(value="ann@old.example")
    assert old.confirmed_at is not None and not old.is_primary


def test_one_primary_address_per_requester_is_a_database_constraint():
    from django.db import IntegrityError

    ann = RequesterFactory()
    Identity.objects.create(requester=ann, kind=Identity.Kind.EMAIL, value="a@example.com", is_primary=True)
    with pytest.raises(IntegrityError):
        Identity.objects.create(requester=ann, kind=Identity.Kind.EMAIL, value="b@example.com", is_primary=True)
