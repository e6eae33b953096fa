"""Disconnecting an account ends its real-time subscriptions with X.

The disconnect view belongs to the accounts pages; rather than reach into it, the push path
listens for the account being saved inactive and removes the subscriptions in a task (an X
call has no place inside the admin's request or its transaction)."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from tickets.outbox import enqueue_after_commit

from ..models import XAccount
from .models import ActivitySubscription


@receiver(post_save, sender=XAccount, dispatch_uid="realtime_unsubscribe_on_disconnect")
def unsubscribe_disconnected(sender, instance: XAccount, **kwargs) -> None:
    if instance.is_active or not ActivitySubscription.objects.filter(account_id=instance.pk).exists():
        return
    from .tasks import unsubscribe_account

    account_id = instance.pk
    enqueue_after_commit(unsubscribe_account, account_id)  # a broker that is down must not fail the disconnect
