"""Add, list and remove X accounts without the OAuth dance (tokens minted elsewhere, the
sandbox's demo token, scripted set-ups)."""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from twitter_channel.accounts.connection import resume_polling
from twitter_channel.models import XAccount

# X ids are unsigned 64-bit integers written in ASCII digits (str.isdigit() also takes "١٢٣").
X_ID = re.compile(r"[0-9]{1,20}", re.ASCII)
X_ID_MAX = 2**64 - 1
# X's rule for usernames: letters, digits and underscores, at most 15.
X_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII)


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
        user_id, username = user_id.strip(), username.strip().removeprefix("@")
        access_token, refresh_token, display_name = access_token.strip(), refresh_token.strip(), display_name.strip()
        if not X_ID.fullmatch(user_id) or int(user_id) > X_ID_MAX:
            raise CommandError(f"--user-id must be X's numeric user id (ASCII digits, at most 20), not {user_id!r}.")
        if not X_USERNAME.fullmatch(username):
            raise CommandError(f"--username must be an X username (letters, digits, _; at most 15), not {username!r}.")
        if not access_token:
            raise CommandError("--access-token must not be empty.")
        if any(not token.isprintable() or " " in token for token in (access_token, refresh_token) if token):
            raise CommandError("Tokens are single words of printable characters.")
        if len(display_name) > 200 or "\x00" in display_name:
            raise CommandError("--display-name must be at most 200 characters, without NUL.")
        taken = XAccount.objects.filter(username__iexact=username).exclude(user_id=user_id).first()
        if taken is not None:
            raise CommandError(f"@{username} is already X user {taken.user_id}; remove that account first.")
        with transaction.atomic():  # the account and its poll cursors, or nothing
            account, created = XAccount.objects.update_or_create(
                user_id=user_id,
                defaults={
                    "username": username,
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
        username = name.strip().removeprefix("@")
        account = XAccount.objects.filter(username__iexact=username).first() if X_USERNAME.fullmatch(username) else None
        if account is None:
            raise CommandError(f"No X account named {name}.")
        account.delete()
        self.stdout.write(f"Removed {account}.")
