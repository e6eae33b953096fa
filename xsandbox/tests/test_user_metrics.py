"""A user's public_metrics count their posts still up and the likes they gave, however the
store got there: posting, deleting, liking, unliking, or loading a saved state."""

from __future__ import annotations

from xsandbox.clock import Clock
from xsandbox.sandbox import mode_named
from xsandbox.shapes import Selection, Serializer
from xsandbox.store import Store

METRICS = Selection(user_fields=frozenset({"public_metrics"}))


def metrics(store: Store, user_id: str) -> dict:
    return Serializer(store, mode_named("both").vocabularies).user(store.users[user_id], METRICS)["public_metrics"]


def test_posts_count_those_still_up_and_likes_those_kept():
    store = Store(Clock())
    alice, bob = store.create_user("alice"), store.create_user("bob")
    first, second = store.create_tweet(alice.id, "one"), store.create_tweet(alice.id, "two")
    store.create_tweet(bob.id, "bob's")
    store.like(bob.id, first.id)
    store.like(bob.id, second.id)
    store.like(bob.id, second.id)  # liked already: still one like

    assert metrics(store, alice.id)["tweet_count"] == 2
    assert metrics(store, bob.id)["like_count"] == 2

    store.delete_tweet(first.id)
    store.unlike(bob.id, second.id)

    assert metrics(store, alice.id)["tweet_count"] == 1
    assert metrics(store, alice.id)["post_count"] == 1
    assert metrics(store, bob.id)["like_count"] == 1  # the deleted post's like is kept, as before
    assert metrics(store, bob.id)["tweet_count"] == 1


def test_a_loaded_state_counts_as_the_saved_one():
    store = Store(Clock())
    alice, bob = store.create_user("alice"), store.create_user("bob")
    kept, gone = store.create_tweet(alice.id, "kept"), store.create_tweet(alice.id, "gone")
    store.like(bob.id, kept.id)
    store.delete_tweet(gone.id)

    loaded = Store(Clock())
    loaded.load(store.dump())

    assert metrics(loaded, alice.id) == metrics(store, alice.id)
    assert metrics(loaded, bob.id) == metrics(store, bob.id)
    assert metrics(loaded, alice.id)["tweet_count"] == 1 and metrics(loaded, bob.id)["like_count"] == 1
