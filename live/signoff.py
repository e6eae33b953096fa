"""A socket lives no longer than the sign-in it was opened with.

A page's socket was authenticated once, when it connected. Logging out (that session's
sockets), deactivating a user or changing their password (all of that user's sockets) must
close them at once, whichever process did it: the logout view, the admin, `changepassword`
in a shell. Each writes a `LiveEvent` of kind SIGNOFF after commit, which every web
process's feed reads like any other event (live/feed.py) and answers by closing its
matching sockets before it sends anything else. The event names a session by a digest of
its key: the key itself is a credential and the event table is no place for it.

What no signal announces (a session expiring, sessions or users changed by a bulk UPDATE or
DELETE) is caught by `signed_out`, which each feed asks of its sockets every heartbeat.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from tickets.models import User

from .models import LiveEvent


@dataclass(frozen=True)
class SignIn:
    """What a socket was authenticated with, read once when it connected."""

    user_id: int
    session_key: str | None = None  # None: a socket opened without a session (tests)
    session_hash: str | None = None  # the session's auth hash, which a password change moves

    @property
    def session_digest(self) -> str | None:
        return digest(self.session_key) if self.session_key else None


def digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def sign_in_of(scope) -> SignIn:
    """The socket's sign-in (synchronous: reading the session may query the database)."""
    session = scope.get("session")
    key = getattr(session, "session_key", None) if session is not None else None
    return SignIn(scope["user"].pk, key, session.get(HASH_SESSION_KEY) if key else None)


def ends(event: LiveEvent, sign_in: SignIn) -> bool:
    """Whether this sign-off event ends this sign-in."""
    data = event.data
    if "user" in data:
        return data["user"] == sign_in.user_id
    return sign_in.session_digest is not None and data.get("session") == sign_in.session_digest


def signed_out(sign_ins: list[SignIn]) -> set[SignIn]:
    """Those of these sign-ins that no longer hold: the user is gone or inactive, the session
    ended, or the user's password changed since the session was made."""
    users = User.objects.in_bulk({s.user_id for s in sign_ins})
    keys = {s.session_key for s in sign_ins if s.session_key}
    live = _live_sessions(keys) if keys else set()
    ended = set()
    for sign_in in sign_ins:
        user = users.get(sign_in.user_id)
        if user is None or not user.is_active:
            ended.add(sign_in)
        elif sign_in.session_key and sign_in.session_key not in live:
            ended.add(sign_in)
        elif sign_in.session_hash and not constant_time_compare(sign_in.session_hash, user.get_session_auth_hash()):
            ended.add(sign_in)
    return ended


def _live_sessions(keys: set[str]) -> set[str]:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if hasattr(store, "get_model_class"):  # database sessions: one query for every socket
        model = store.get_model_class()
        found = model.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return set(found.values_list("session_key", flat=True))
    return {key for key in keys if store().exists(key)}


# --- announcing sign-offs -----------------------------------------------------------------


def publish(data: dict) -> None:
    # After commit: a rolled-back deactivation must not close anything, and the feed must
    # not read the event before the change it announces is visible.
    transaction.on_commit(lambda: LiveEvent.objects.create(kind=LiveEvent.Kind.SIGNOFF, ticket_id=None, data=data))


def on_logged_out(sender, request, user, **kwargs) -> None:
    # Sent before the session is flushed: its key is still the one the sockets carry.
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        publish({"session": digest(key)})


SIGN_IN_FIELDS = {"password", "is_active"}


def remember_sign_in_fields(sender, instance, update_fields=None, **kwargs) -> None:
    # Compare with the stored row: a save that changes neither the password nor is_active
    # (last_login at every login) closes nothing and costs no query.
    if instance.pk is None or (update_fields is not None and not SIGN_IN_FIELDS & set(update_fields)):
        instance._live_sign_in_was = None
        return
    instance._live_sign_in_was = User.objects.filter(pk=instance.pk).values_list("password", "is_active").first()


def on_user_saved(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_live_sign_in_was", None)
    instance._live_sign_in_was = None
    if before is not None and before != (instance.password, instance.is_active):
        publish({"user": instance.pk})


def on_user_deleted(sender, instance, **kwargs) -> None:
    publish({"user": instance.pk})


def connect() -> None:
    user_logged_out.connect(on_logged_out, dispatch_uid="live_logged_out")
    pre_save.connect(remember_sign_in_fields, sender=User, dispatch_uid="live_user_pre_save")
    post_save.connect(on_user_saved, sender=User, dispatch_uid="live_user_saved")
    post_delete.connect(on_user_deleted, sender=User, dispatch_uid="live_user_deleted")
