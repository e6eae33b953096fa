"""Re-encrypt every encrypted column with the newest key of SECRET_ENCRYPTION_KEYS.

Loading a row decrypts with whichever key fits; saving encrypts with the first key. So a
rotation is: put the new key first, run this, then drop the old key.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from twitter_channel.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all secrets at rest with the first key in SECRET_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            with transaction.atomic():
                for row in model._default_manager.select_for_update().only("pk", *fields).iterator():
                    row.save(update_fields=fields)
                    count += 1
            self.stdout.write(f"{model._meta.label}: re-encrypted {', '.join(fields)} on {count} rows")
