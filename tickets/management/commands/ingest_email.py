"""Feed incoming mail to the helpdesk.

    manage.py ingest_email < message.eml        # one message on stdin (an MTA pipe alias)
    manage.py ingest_email --maildir ~/Maildir   # every message in new/, moved to cur/ once taken

Every message is either ingested or quarantined (kept raw with the reason, on the email
quarantine page): both count as taken, so a Maildir run moves them to cur/ and never stops on
one bad file. The exit status still tells the MTA or cron what happened, in sysexits terms:
65 (EX_DATAERR: a bounce, never a retry) when a message was quarantined, 75 (EX_TEMPFAIL: try
again later) when the database was away, in which case the message stays in new/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.mail.inbound import DATABASE_AWAY, IngestResult, ingest_email
from tickets.mail.models import InboundEmail

EX_DATAERR, EX_TEMPFAIL = 65, 75
QUARANTINED = InboundEmail.Outcome.QUARANTINED


class Command(BaseCommand):
    help = "Ingest one raw email from stdin, or all new messages of a Maildir."

    def add_arguments(self, parser):
        parser.add_argument("--maildir", type=Path, help="Maildir whose new/ messages to ingest and move to cur/")

    def handle(self, *args, maildir: Path | None = None, **options):
        if maildir is None:
            self._ingest_stdin()
            return
        quarantined, failures = self._ingest_maildir(maildir)
        if failures:
            raise CommandError(
                f"{failures} message(s) could not be stored and stay in {maildir / 'new'} for the next run.",
                returncode=EX_TEMPFAIL,
            )
        if quarantined:
            raise CommandError(
                f"{quarantined} message(s) quarantined (kept; see the email quarantine page).", returncode=EX_DATAERR
            )

    def _ingest_stdin(self) -> None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("No message on stdin.", returncode=EX_DATAERR)
        try:
            result = ingest_email(raw)
        except DATABASE_AWAY as exc:
            raise CommandError(f"Database unavailable, try again later: {exc}", returncode=EX_TEMPFAIL) from exc
        self.stdout.write(self._describe(result))
        if result.outcome == QUARANTINED:
            raise CommandError(
                f"Message quarantined: {result.reason} (kept; see the email quarantine page).", returncode=EX_DATAERR
            )

    def _ingest_maildir(self, maildir: Path) -> tuple[int, int]:
        new, cur = maildir / "new", maildir / "cur"
        if not new.is_dir() or not cur.is_dir():
            raise CommandError(f"{maildir} is not a Maildir (no new/ and cur/).")
        quarantined = failures = 0
        # Maildir file names start with the delivery time, so sorting keeps arrival order.
        for path in sorted(p for p in new.iterdir() if p.is_file() and not p.name.startswith(".")):
            try:
                result = ingest_email(path.read_bytes())
            except Exception as exc:  # noqa: BLE001 - one message that could not be stored must not stop the others
                failures += 1
                self.stderr.write(f"{path.name}: {exc.__class__.__name__}: {exc}")
                continue
            # ":2,S" marks it seen, as a mail client would on moving it out of new/.
            name = path.name if ":2," in path.name else f"{path.name}:2,S"
            os.replace(path, cur / name)
            self.stdout.write(f"{path.name}: {self._describe(result)}")
            if result.outcome == QUARANTINED:
                quarantined += 1
                self.stderr.write(f"{path.name}: quarantined: {result.reason}")
        return quarantined, failures

    @staticmethod
    def _describe(result: IngestResult) -> str:
        where = f" ticket #{result.ticket.pk}" if result.ticket else ""
        return f"{result.outcome}{where}"
