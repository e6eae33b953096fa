"""The requesters behind stored X items' authors, through tickets' requester services."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction
from django.db.models import QuerySet

from tickets.models import Identity, Requester
from tickets.requesters import Person, requester_for_identity, requesters_for_identities
from twitter_channel.intake.texts import author_label
from twitter_channel.models import IncomingItem

log = logging.getLogger(__name__)

Kind = IncomingItem.Kind


# The kinds of item whose author becomes a requester (not the brand's own posts).
PEOPLES_KINDS = (Kind.MENTION, Kind.LIKE, Kind.DM)

# What `requesters_ahead` reads of each item (with its kind): the author and their profile.
AUTHOR_FIELDS = ("kind", "author_x_id", "author_handle", "author_name", "author_avatar_url", "author_followers",
                 "author_verified")


def requesters_ahead(pending: QuerySet[IncomingItem], size: int) -> dict[str, Requester] | None:
    """The requesters of the authors of the next `size` pending items, created or refreshed
    before a batch of them is claimed and converted, set-based
    (`tickets.requesters.requesters_for_identities`), in one short transaction of their own;
    None when no item is left.

    The items another converter holds are skipped, as the claim that follows skips them:
    read with them, the batch would find its authors unprepared (each then looked up alone,
    and its item converted one by one) whenever two converters run."""
    try:
        with transaction.atomic():
            items = list(pending.select_for_update(skip_locked=True, of=("self",)).order_by("id")
                         .only(*AUTHOR_FIELDS)[:size])
            if not items:
                return None
            return _prepared(items)
    except Exception:  # noqa: BLE001 — each item's own conversion meets the problem again and quarantines
        log.debug("Could not prepare the requesters of the next %d items", size, exc_info=True)
        return {}


def with_batch_authors(batch: list[IncomingItem], prepared: Mapping[str, Requester]) -> Mapping[str, Requester]:
    """`prepared`, with the requesters of the claimed batch's authors it lacks, set-based, in a
    savepoint of the claim's transaction. The look-ahead misses the items stored after it read
    the pending ones: a push worker stores events while this one converts, and each of those
    authors was looked up, and its item opened, one by one (a third of a worker's CPU under
    a sustained push). Identities are written in sorted order, as the look-ahead writes them,
    so two converters doing this at once cannot deadlock on them."""
    missing = [item for item in batch
               if item.kind in PEOPLES_KINDS and item.author_x_id and item.author_x_id not in prepared]
    if not missing:
        return prepared
    try:
        with transaction.atomic():
            found = _prepared(missing)
    except Exception:  # noqa: BLE001 — each item's own conversion meets the problem again and quarantines
        log.debug("Could not prepare the requesters of a batch's %d new authors", len(missing), exc_info=True)
        return prepared
    return {**prepared, **found}


def _prepared(items: list[IncomingItem]) -> dict[str, Requester]:
    """The requesters of the items' authors (the newest item's profile for each)."""
    newest = {i.author_x_id: i for i in items if i.author_x_id and i.kind in PEOPLES_KINDS}
    if not newest:
        return {}
    return requesters_for_identities(
        Identity.Kind.X, {author_id: person_of(item) for author_id, item in newest.items()}
    )


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
