"""Poll X now, in this process, and convert what came: for set-up checks, cron-less demos
and debugging. Errors are handled exactly as in the worker (429 → the stream waits for the
reset, 5xx → back-off, 401 → refresh or reconnect needed); the output says what happened."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from twitter_channel.intake import conversion, polling
from twitter_channel.management.commands.x_account import X_USERNAME
from twitter_channel.models import Stream, XAccount


class Command(BaseCommand):
    help = "Poll every active X account's streams once and convert the new items."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", required=True,
                            help="Poll once and exit (the worker polls continuously).")
        parser.add_argument("--account", help="Only this account (username, with or without @).")
        parser.add_argument("--stream", choices=Stream.values, help="Only this stream.")

    def handle(self, *args, once, account=None, stream=None, **options):
        accounts = XAccount.objects.filter(is_active=True)
        if account is not None:
            username = account.strip().removeprefix("@")
            # Not an X username (a NUL, say, which PostgreSQL would refuse): no such account.
            accounts = accounts.filter(username__iexact=username) if X_USERNAME.fullmatch(username) else accounts.none()
            if not accounts:
                raise CommandError(f"No active X account named {account}.")
        for acc in accounts.order_by("username"):
            for s in [stream] if stream else Stream.values:
                self.stdout.write(str(polling.poll_stream(acc.pk, s)))
            stats = conversion.convert_pending(acc.pk)
            self.stdout.write(
                f"{acc}: {stats.converted} item(s) converted, {stats.quarantined} quarantined"
                + (f", {stats.deferred} waiting for their thread" if stats.deferred else "")
            )
