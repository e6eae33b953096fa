"""Disconnecting an account ends its real-time subscriptions with X.

The disconnect view belongs to the accounts pages; rather than reach into it, the push path
listens for the account being saved inactive and removes the subscriptions in a task (an X
call has no place inside the admin's request or its transaction)."""

from __future__ import annotations

from django.db.models.signals import post_save

from tickets.outbox import enqueue_after_commit
from twitter_channel.models import XAccount
from twitter_channel.realtime.models import ActivitySubscription
from twitter_channel.realtime.tasks import unsubscribe_account


def connect() -> None:
    """Called from the app's ready()."""
    post_save.connect(unsubscribe_disconnected, sender=XAccount, dispatch_uid="realtime_unsubscribe_on_disconnect")


def unsubscribe_disconnected(sender, instance: XAccount, **kwargs) -> None:
    if instance.is_active or not ActivitySubscription.objects.filter(account_id=instance.pk).exists():
        return
    account_id = instance.pk
    enqueue_after_commit(unsubscribe_account, account_id)  # a broker that is down must not fail the disconnect
