"""Secrets at rest (X access and refresh tokens): Fernet encryption with key rotation.

`settings.SECRET_ENCRYPTION_KEYS` lists Fernet keys; the first encrypts, all decrypt, so a
new key can be put first, every value re-encrypted with `rotate`, and the old key dropped.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

SETTING = "SECRET_ENCRYPTION_KEYS"


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(f"{SETTING} is empty: secrets cannot be encrypted or decrypted.")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # Never echo the key itself: it is the secret.
            raise ImproperlyConfigured(
                f"Key #{position} of {SETTING} is not a valid Fernet key (32 url-safe base64-encoded bytes; "
                "make one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)."
            ) from None
    return MultiFernet(fernets)


def _fernet() -> MultiFernet:
    keys = settings.SECRET_ENCRYPTION_KEYS
    if isinstance(keys, str):
        keys = [k for k in keys.split(",") if k]
    return _fernet_for(tuple(k.strip() for k in keys))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise ImproperlyConfigured(
            f"A stored secret cannot be decrypted with any key in {SETTING}: was a key removed or changed "
            "before every value was rotated to the new one?"
        ) from None


def rotate(ciphertext: str) -> str:
    """The same secret encrypted with the first (newest) key, for a rotate command."""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise ImproperlyConfigured(
            f"A stored secret cannot be decrypted with any key in {SETTING}, so it cannot be rotated."
        ) from None


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python code only sees the plaintext.

    The empty string is stored as is (an unset token), so `blank=True, default=""` work.
    Lookups on the plaintext (`filter(token=...)`) cannot work: each encryption differs."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value):
        # Model attributes, forms and fixtures hold plaintext; ciphertext only exists in the
        # database, and from_db_value has already decrypted it.
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
