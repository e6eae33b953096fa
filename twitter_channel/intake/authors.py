"""The requesters behind stored X items' authors, through tickets' requester services."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction

from tickets.models import Identity, Requester
from tickets.requesters import Person, requester_for_identity, requesters_for_identities
from twitter_channel.intake.texts import author_label
from twitter_channel.models import IncomingItem

log = logging.getLogger(__name__)

Kind = IncomingItem.Kind


# What `ensure_requesters` reads of each item (with its kind): the author and their profile.
AUTHOR_FIELDS = ("kind", "author_x_id", "author_handle", "author_name", "author_avatar_url", "author_followers",
                 "author_verified")


def ensure_requesters(items) -> dict[str, Requester]:
    """The requesters of a batch's authors, created or refreshed before the batch is
    converted, set-based (`tickets.requesters.requesters_for_identities`), in one short
    transaction of its own."""
    newest = {
        i.author_x_id: i for i in items if i.author_x_id and i.kind in (Kind.MENTION, Kind.LIKE, Kind.DM)
    }
    if not newest:
        return {}
    try:
        with transaction.atomic():
            return requesters_for_identities(
                Identity.Kind.X, {author_id: person_of(item) for author_id, item in newest.items()}
            )
    except Exception:  # noqa: BLE001 — each item's own conversion meets the problem again and quarantines
        log.debug("Could not prepare the requesters of %d authors", len(newest), exc_info=True)
        return {}


def requester_for(item: IncomingItem, prepared: Mapping[str, Requester]) -> Requester:
    """The requester behind the item's X author (`prepared` for the batch, else looked up and
    created on first sight); the identity's handle, name, avatar, followers and verified
    mark are kept up to date."""
    if not item.author_x_id:
        raise ValueError("item has no author id")
    requester = prepared.get(item.author_x_id)
    if requester is not None:
        return requester
    return requester_for_identity(Identity.Kind.X, item.author_x_id, person_of(item))


def person_of(item: IncomingItem) -> Person:
    return Person(name=author_label(item, with_at=False), profile=_profile(item))


def _profile(item: IncomingItem) -> dict:
    profile = {
        "handle": item.author_handle,
        "display_name": item.author_name,
        "avatar_url": item.author_avatar_url,
        "followers": item.author_followers,
    }
    if item.author_handle:  # verified is only known when the profile came along
        profile["verified"] = item.author_verified
    return profile
