"""Raw emails are kept `RAW_RETENTION_DAYS` days, then deleted; the comment (the parsed
reply), the subject, the sender and the attachments stay."""

from __future__ import annotations

from datetime import datetime

from .models import InboundEmail

BATCH = 500


def delete_raw_emails_received_before(cutoff: datetime) -> int:
    deleted = 0
    while True:
        batch = list(InboundEmail.objects.filter(received_at__lt=cutoff).exclude(raw="").order_by("pk")[:BATCH])
        if not batch:
            return deleted
        for email in batch:
            # The file first: a crash between the two leaves a row naming a missing file
            # (the download then says so), never a file no row names.
            email.raw.storage.delete(email.raw.name)
        InboundEmail.objects.filter(pk__in=[e.pk for e in batch]).update(raw="")
        deleted += len(batch)
