"""Add, list and remove X accounts without the OAuth dance (tokens minted elsewhere, the
sandbox's demo token, scripted set-ups)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from twitter_channel.models import XAccount
from twitter_channel.polling import resume_polling


class Command(BaseCommand):
    help = "Manage connected X accounts: add, list, remove."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Connect (or update) an account from existing tokens.")
        add.add_argument("--user-id", required=True)
        add.add_argument("--username", required=True)
        add.add_argument("--access-token", required=True)
        add.add_argument("--refresh-token", default="")
        add.add_argument("--display-name", default="")
        sub.add_parser("list", help="List accounts and their polling health.")
        remove = sub.add_parser("remove", help="Delete an account (by username, with or without @).")
        remove.add_argument("name")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, *, user_id, username, access_token, refresh_token, display_name, **_):
        if not user_id.isdigit():
            raise CommandError("--user-id must be X's numeric user id.")
        account, created = XAccount.objects.update_or_create(
            user_id=user_id,
            defaults={
                "username": username.lstrip("@"),
                "display_name": display_name,
                "access_token": access_token,
                "refresh_token": refresh_token,
                "needs_reconnect": False,
                "is_active": True,
                "last_error": "",
            },
        )
        resume_polling(account)
        self.stdout.write(f"{'Added' if created else 'Updated'} {account} (id {account.pk}, X user {user_id}).")

    def _list(self, **_):
        accounts = XAccount.objects.prefetch_related("cursors").order_by("username")
        if not accounts:
            self.stdout.write("No X accounts.")
        for account in accounts:
            status = "reconnect needed" if account.needs_reconnect else ("active" if account.is_active else "paused")
            self.stdout.write(f"{account} (X user {account.user_id}): {status}")
            for cursor in sorted(account.cursors.all(), key=lambda c: c.stream):
                last = cursor.last_success_at.isoformat(timespec="seconds") if cursor.last_success_at else "never"
                line = f"  {cursor.stream}: last success {last}, {cursor.items_fetched} items"
                if cursor.rate_limit is not None:
                    line += f", budget {cursor.rate_remaining}/{cursor.rate_limit}"
                if cursor.last_error:
                    line += f", last error: {cursor.last_error}"
                self.stdout.write(line)

    def _remove(self, *, name, **_):
        account = XAccount.objects.filter(username__iexact=name.lstrip("@")).first()
        if account is None:
            raise CommandError(f"No X account named {name}.")
        account.delete()
        self.stdout.write(f"Removed {account}.")
