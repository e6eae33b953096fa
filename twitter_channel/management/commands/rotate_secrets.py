"""Re-encrypt every encrypted column with the newest key of SECRET_ENCRYPTION_KEYS.

Loading a row decrypts with whichever key fits; saving encrypts with the first key. So a
rotation is: put the new key first, run this, then drop the old key.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from twitter_channel.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all secrets at rest with the first key in SECRET_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        report = []
        try:
            # One transaction for every model: a value no key decrypts stops the rotation with
            # nothing re-encrypted, rather than half the secrets on the new key.
            with transaction.atomic():
                for model in apps.get_models():
                    fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
                    if not fields:
                        continue
                    count = 0
                    # A list, not .iterator(): a server-side cursor left open by the error would
                    # be closed after the rollback, and that CLOSE fails the enclosing transaction.
                    # (Rows with secrets are few: the connected accounts.)
                    for row in list(model._default_manager.select_for_update().only("pk", *fields)):
                        row.save(update_fields=fields)
                        count += 1
                    report.append(f"{model._meta.label}: re-encrypted {', '.join(fields)} on {count} rows")
        except ImproperlyConfigured as exc:
            raise CommandError(f"Nothing was rotated: {exc}") from exc
        for line in report:
            self.stdout.write(line)
