"""Requesters' email addresses: finding a requester by address, adding one, choosing where
to send. Addresses are stored lower-cased in `Identity(kind=email)`, unique across requesters.

Trust: mail goes only to confirmed addresses, i.e. ones the requester wrote from, ones whose
owner clicked the confirmation link (an address left on the public form is not even an
identity until then: see `capture`), and ones an agent added (recorded in `added_by`).
Replies go to the address the requester last wrote from on the ticket, else to their
primary address, never merely to the newest one: adding an address never redirects mail.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Identity, Requester, Ticket, User
from .models import InboundEmail

log = logging.getLogger(__name__)


class AddressBelongsToAnotherRequester(ValidationError):
    """The address is already an identity of someone else; we never move it silently.
    The message names nobody: whoever reads it may not see that other requester."""

    def __init__(self, identity: Identity):
        super().__init__(
            "This address belongs to another requester. Nothing was changed: merging two requesters is for an "
            "admin to decide."
        )
        self.identity = identity


def normalize_address(address: str) -> str:
    """Lower-cased and validated; raises ValidationError for anything that is not an address."""
    address = address.strip().lower()
    validate_email(address)
    return address


def set_requester_email(requester: Requester, address: str, *, actor: User | None) -> Identity:
    """Give `requester` the confirmed email identity `address` (idempotent): an agent
    (`actor`) vouches for it, or, with no actor, its owner just confirmed it by the link
    mailed to it. It becomes the primary address when the requester has none yet.

    Raises ValidationError for an invalid address and AddressBelongsToAnotherRequester when
    someone else already has it: merging two requesters is a decision for a person.
    Whether `actor` may change this requester at all is the caller's check
    (`tickets.access.can_change_requester`).
    """
    address = normalize_address(address)
    now = timezone.now()
    try:
        with transaction.atomic():
            identity, created = Identity.objects.get_or_create(
                kind=Identity.Kind.EMAIL, value=address,
                defaults={"requester": requester, "confirmed_at": now, "added_by": actor},
            )
    except IntegrityError:
        # Someone stored the same address between our read and our insert.
        identity, created = Identity.objects.get(kind=Identity.Kind.EMAIL, value=address), False
    if identity.requester_id != requester.pk:
        raise AddressBelongsToAnotherRequester(identity)
    if not created and (identity.confirmed_at is None or actor is not None):
        identity.confirmed_at = identity.confirmed_at or now
        identity.added_by = actor or identity.added_by
        identity.save(update_fields=["confirmed_at", "added_by", "updated_at"])
    _primary_if_none(identity)
    log.info("Email %s %s for requester %s by %s", address, "added" if created else "confirmed", requester.pk,
             actor or "its owner")
    return identity


def make_primary(identity: Identity) -> None:
    """Replies by email go to `identity` from now on (it must be confirmed)."""
    if identity.kind != Identity.Kind.EMAIL or identity.confirmed_at is None:
        raise ValidationError("Only a confirmed email address can be the primary one.")
    with transaction.atomic():
        Identity.objects.filter(requester_id=identity.requester_id, kind=Identity.Kind.EMAIL, is_primary=True).exclude(
            pk=identity.pk).update(is_primary=False)
        Identity.objects.filter(pk=identity.pk).update(is_primary=True)
    identity.is_primary = True


def _primary_if_none(identity: Identity) -> None:
    if identity.is_primary or identity.confirmed_at is None:
        return
    has_primary = Identity.objects.filter(
        requester_id=identity.requester_id, kind=Identity.Kind.EMAIL, is_primary=True
    ).exists()
    if not has_primary:
        try:
            with transaction.atomic():
                Identity.objects.filter(pk=identity.pk).update(is_primary=True)
            identity.is_primary = True
        except IntegrityError:
            pass  # another address became primary a moment ago: it stays so


def requester_for_address(address: str, display_name: str = "") -> Requester:
    """The requester who writes from `address`, created on first contact. Writing from an
    address confirms it (we answer mail where it came from, as every helpdesk does)."""
    address = address.strip().lower()
    identity = Identity.objects.select_related("requester").filter(kind=Identity.Kind.EMAIL, value=address).first()
    if identity is None:
        try:
            with transaction.atomic():
                requester = Requester.objects.create(name=display_name or address.partition("@")[0] or address)
                identity = Identity.objects.create(
                    requester=requester, kind=Identity.Kind.EMAIL, value=address, display_name=display_name,
                    confirmed_at=timezone.now(), is_primary=True,
                )
        except IntegrityError:
            identity = Identity.objects.select_related("requester").get(kind=Identity.Kind.EMAIL, value=address)
    elif identity.confirmed_at is None:
        identity.confirmed_at = timezone.now()
        identity.save(update_fields=["confirmed_at", "updated_at"])
        _primary_if_none(identity)
    return identity.requester


def email_address_for(ticket: Ticket) -> str | None:
    """Where an email reply on `ticket` goes: the confirmed address the requester last wrote
    from on this ticket, else their primary address; None when there is neither (yet)."""
    confirmed = Identity.objects.filter(
        requester_id=ticket.requester_id, kind=Identity.Kind.EMAIL, confirmed_at__isnull=False
    )
    wrote_from = (
        InboundEmail.objects.filter(ticket_id=ticket.pk, comment__author_requester_id=ticket.requester_id)
        .order_by("-received_at", "-pk")
        .values_list("from_address", flat=True)
        .first()
    )
    if wrote_from and confirmed.filter(value=wrote_from.strip().lower()).exists():
        return wrote_from.strip().lower()
    return confirmed.filter(is_primary=True).values_list("value", flat=True).first()
