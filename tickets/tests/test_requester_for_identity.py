"""Channels find (or create) the requester behind an identity through tickets' service, one
at a time or set-based for a batch, and keep the identity's profile current."""

from __future__ import annotations

from tickets.models import Identity, Requester
from tickets.requesters import Person, requester_for_identity, requesters_for_identities, update_identity_profile

from .factories import XIdentityFactory

X = Identity.Kind.X


def test_first_sight_creates_the_requester_with_the_identity(db):
    requester = requester_for_identity(X, "101", Person("Alice", {"handle": "alice", "followers": 3}))

    identity = Identity.objects.get(kind=X, value="101")
    assert identity.requester == requester and requester.name == "Alice"
    assert identity.handle == "alice" and identity.followers == 3


def test_a_known_identity_keeps_its_requester_and_gets_the_new_profile_but_no_blanks(db):
    known = XIdentityFactory(value="102", handle="old", display_name="Bob")

    requester = requester_for_identity(X, "102", Person("ignored", {"handle": "new", "display_name": ""}))

    known.refresh_from_db()
    assert requester == known.requester
    assert known.handle == "new" and known.display_name == "Bob"
    assert Requester.objects.count() == 1


def test_many_at_once_cost_the_same_queries_for_ten_and_for_a_hundred(db, django_assert_num_queries):
    XIdentityFactory(value="1", handle="known")
    ten = {str(n): Person(f"P{n}", {"handle": f"p{n}"}) for n in range(1, 11)}
    hundred = {str(n): Person(f"P{n}", {"handle": f"p{n}"}) for n in range(11, 111)}
    hundred["1"] = Person("P1", {"handle": "known"})

    with django_assert_num_queries(6) as ten_queries:
        found = requesters_for_identities(X, ten)
    with django_assert_num_queries(len(ten_queries.captured_queries)):
        found.update(requesters_for_identities(X, hundred))

    assert len(found) == 110 and Identity.objects.count() == 110
    assert Identity.objects.get(value="1").handle == "known"
    assert found["5"] == Identity.objects.get(value="5").requester


def test_a_profile_update_names_only_profile_fields(db):
    XIdentityFactory(value="103", handle="carol")

    assert update_identity_profile(X, "103", handle="") == 1
    assert Identity.objects.get(value="103").handle == ""
    assert update_identity_profile(X, "nobody", handle="x") == 0
