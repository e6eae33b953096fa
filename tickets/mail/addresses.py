"""Requesters' email addresses: finding a requester by address, adding one, choosing where
to send. Addresses are stored lower-cased in `Identity(kind=email)`, unique across requesters.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from ..models import Identity, Requester, Ticket, User

log = logging.getLogger(__name__)


class AddressBelongsToAnotherRequester(ValidationError):
    """The address is already an identity of someone else; we never move it silently."""

    def __init__(self, identity: Identity):
        super().__init__(
            f"{identity.value} already belongs to requester {identity.requester} (#{identity.requester_id})."
        )
        self.identity = identity


def normalize_address(address: str) -> str:
    """Lower-cased and validated; raises ValidationError for anything that is not an address."""
    address = address.strip().lower()
    validate_email(address)
    return address


def set_requester_email(requester: Requester, address: str, *, actor: User | None) -> Identity:
    """Give `requester` the email identity `address` (idempotent).

    Raises ValidationError for an invalid address and AddressBelongsToAnotherRequester when
    someone else already has it: merging two requesters is a decision for a person.
    """
    address = normalize_address(address)
    try:
        with transaction.atomic():
            identity, created = Identity.objects.get_or_create(
                kind=Identity.Kind.EMAIL, value=address, defaults={"requester": requester}
            )
    except IntegrityError:
        # Someone stored the same address between our read and our insert.
        identity, created = Identity.objects.get(kind=Identity.Kind.EMAIL, value=address), False
    if identity.requester_id != requester.pk:
        raise AddressBelongsToAnotherRequester(identity)
    if created:
        log.info("Email %s added to requester %s by %s", address, requester.pk, actor or "the requester")
    return identity


def requester_for_address(address: str, display_name: str = "") -> Requester:
    """The requester who writes from `address`, created on first contact."""
    address = address.strip().lower()
    identity = Identity.objects.select_related("requester").filter(kind=Identity.Kind.EMAIL, value=address).first()
    if identity is None:
        try:
            with transaction.atomic():
                requester = Requester.objects.create(name=display_name or address.partition("@")[0] or address)
                identity = Identity.objects.create(
                    requester=requester, kind=Identity.Kind.EMAIL, value=address, display_name=display_name
                )
        except IntegrityError:
            identity = Identity.objects.select_related("requester").get(kind=Identity.Kind.EMAIL, value=address)
    else:
        # Touching updated_at makes this the address replies go to (see email_address_for).
        identity.save(update_fields=["updated_at"])
    return identity.requester


def email_address_for(ticket: Ticket) -> str | None:
    """Where an email reply on `ticket` goes: the requester's address used most recently,
    or None when the requester has no email address (yet)."""
    return (
        Identity.objects.filter(requester_id=ticket.requester_id, kind=Identity.Kind.EMAIL)
        .order_by("-updated_at", "-pk")
        .values_list("value", flat=True)
        .first()
    )
