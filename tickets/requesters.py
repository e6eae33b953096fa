"""Finding the requester behind an identity (an X user id, an email address…), creating the
person on first contact and keeping the identity's profile (handle, name, avatar…) current.

Channels call these instead of writing `Requester` and `Identity` rows themselves, one at a
time (`requester_for_identity`) or set-based for a batch (`requesters_for_identities`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Identity, Requester

# What a channel may say about an identity's owner; blanks never erase what is stored.
PROFILE_FIELDS = ("handle", "display_name", "avatar_url", "followers", "verified")


@dataclass(frozen=True)
class Person:
    """Who writes from an identity, as the channel saw them: `name` names a requester
    created for them; `profile` holds PROFILE_FIELDS to keep on the identity."""

    name: str
    profile: dict[str, Any] = field(default_factory=dict)


def requester_for_identity(kind: str, value: str, person: Person) -> Requester:
    """The requester behind the identity (`kind`, `value`), created on first sight; the
    identity's profile is brought up to date with what `person` says."""
    identity = Identity.objects.select_related("requester").filter(kind=kind, value=value).first()
    if identity is None:
        try:
            with transaction.atomic():
                requester = Requester.objects.create(name=person.name)
                Identity.objects.create(requester=requester, kind=kind, value=value, **person.profile)
            return requester
        except IntegrityError:
            # Someone created this identity a moment ago.
            identity = Identity.objects.select_related("requester").get(kind=kind, value=value)
    changed = _profile_changes(identity, person)
    if changed:
        Identity.objects.filter(pk=identity.pk).update(updated_at=timezone.now(), **changed)
    return identity.requester


def requesters_for_identities(kind: str, people: Mapping[str, Person]) -> dict[str, Requester]:
    """`requester_for_identity` for many identities of one kind at once, set-based: one query
    finds the known ones, the unknown get their requesters and identities in two multi-row
    INSERTs, and changed profiles are saved in one UPDATE. Returns value -> requester.

    Run it in a transaction of its own. Rows are written in value order: callers meeting the
    same new people in parallel wait for each other instead of deadlocking, and the unique
    identity decides who created whom (ON CONFLICT DO NOTHING; a requester made in vain is
    deleted again)."""
    if not people:
        return {}

    def identities(values):
        return {
            identity.value: identity
            for identity in Identity.objects.select_related("requester").filter(kind=kind, value__in=values)
        }

    known = identities(list(people))
    missing = sorted(value for value in people if value not in known)
    if missing:
        made = Requester.objects.bulk_create([Requester(name=people[value].name) for value in missing])
        Identity.objects.bulk_create(
            [Identity(requester=requester, kind=kind, value=value, **people[value].profile)
             for value, requester in zip(missing, made, strict=True)],
            ignore_conflicts=True,
        )
        created = identities(missing)
        known.update(created)
        # Someone else created some of these people first: theirs stay, ours go.
        in_vain = [r.pk for value, r in zip(missing, made, strict=True)
                   if value not in created or created[value].requester_id != r.pk]
        if in_vain:
            Requester.objects.filter(pk__in=in_vain, tickets__isnull=True).delete()
    changed = []
    for value in sorted(known):
        identity = known[value]
        changes = _profile_changes(identity, people[value])
        if changes:
            for name, new in changes.items():
                setattr(identity, name, new)
            identity.updated_at = timezone.now()
            changed.append(identity)
    if changed:
        # Locked in id order first: one UPDATE of many rows locks them in whatever order it
        # meets them, and two callers refreshing the same people would deadlock.
        list(Identity.objects.select_for_update().filter(pk__in=[i.pk for i in changed]).order_by("pk")
             .values_list("pk", flat=True))
        Identity.objects.bulk_update(changed, [*PROFILE_FIELDS, "updated_at"])
    return {value: identity.requester for value, identity in known.items()}


def update_identity_profile(kind: str, value: str, **profile: Any) -> int:
    """Write what the channel now says about an identity's owner (PROFILE_FIELDS, as given:
    the channel's own word, blanks included); returns the identities updated (0 or 1)."""
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
    return Identity.objects.filter(kind=kind, value=value).update(updated_at=timezone.now(), **profile)


def _profile_changes(identity: Identity, person: Person) -> dict[str, Any]:
    return {k: v for k, v in person.profile.items() if v not in ("", None) and getattr(identity, k) != v}
