"""Feed incoming mail to the helpdesk.

    manage.py ingest_email < message.eml        # one message on stdin (an MTA pipe alias)
    manage.py ingest_email --maildir ~/Maildir   # every message in new/, moved to cur/ once taken

A message that fails stays in new/ to be tried on the next run; the command then exits
non-zero so cron or the MTA reports it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.mail.inbound import ingest_email


class Command(BaseCommand):
    help = "Ingest one raw email from stdin, or all new messages of a Maildir."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", type=Path, help="Maildir whose new/ messages to ingest and move to cur/")

    def handle(self, *args, maildir: Path | None = None, **options):
        if maildir is None:
            raw = sys.stdin.buffer.read()
            if not raw.strip():
                raise CommandError("No message on stdin.")
            result = ingest_email(raw)
            self.stdout.write(self._describe(result))
            return
        failures = self._ingest_maildir(maildir)
        if failures:
            raise CommandError(f"{failures} message(s) failed and stay in {maildir / 'new'}.")

    def _ingest_maildir(self, maildir: Path) -> int:
        new, cur = maildir / "new", maildir / "cur"
        if not new.is_dir() or not cur.is_dir():
            raise CommandError(f"{maildir} is not a Maildir (no new/ and cur/).")
        failures = 0
        # Maildir file names start with the delivery time, so sorting keeps arrival order.
        for path in sorted(p for p in new.iterdir() if p.is_file() and not p.name.startswith(".")):
            try:
                result = ingest_email(path.read_bytes())
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
                failures += 1
                self.stderr.write(f"{path.name}: {exc.__class__.__name__}: {exc}")
                continue
            # ":2,S" marks it seen, as a mail client would on moving it out of new/.
            name = path.name if ":2," in path.name else f"{path.name}:2,S"
            os.replace(path, cur / name)
            self.stdout.write(f"{path.name}: {self._describe(result)}")
        return failures

    @staticmethod
    def _describe(result) -> str:
        where = f" ticket #{result.ticket.pk}" if result.ticket else ""
        return f"{result.outcome}{where}"
