"""Secrets at rest: X tokens are Fernet ciphertext in the database, plaintext in Python,
and survive a key rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from twitter_channel.crypto import EncryptedTextField, decrypt, encrypt, rotate
from twitter_channel.models import XAccount

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def old_key_only(settings):
    settings.SECRET_ENCRYPTION_KEYS = [OLD_KEY]


def _stored_access_token(account: XAccount) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT access_token FROM {XAccount._meta.db_table} WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_encrypt_then_decrypt_gives_the_text_back(old_key_only):
    assert decrypt(encrypt("AAAA-token-é")) == "AAAA-token-é"


def test_same_text_encrypts_differently_each_time(old_key_only):
    assert encrypt("token") != encrypt("token")


@pytest.mark.django_db
def test_token_in_the_database_is_ciphertext_not_the_plaintext(old_key_only):
    account = XAccount.objects.create(user_id="1", username="acme", access_token="plain-access-token")

    stored = _stored_access_token(account)

    assert "plain-access-token" not in stored
    assert decrypt(stored) == "plain-access-token"
    assert XAccount.objects.get(pk=account.pk).access_token == "plain-access-token"


@pytest.mark.django_db
def test_empty_token_stays_empty(old_key_only):
    account = XAccount.objects.create(user_id="1", username="acme")

    assert _stored_access_token(account) == ""
    assert XAccount.objects.get(pk=account.pk).access_token == ""


@pytest.mark.django_db
def test_rotation_with_two_keys(settings, old_key_only):
    account = XAccount.objects.create(user_id="1", username="acme", access_token="tok")
    under_old_key = _stored_access_token(account)

    # Step 1 of a rotation: the new key first, the old one still there to decrypt.
    settings.SECRET_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert XAccount.objects.get(pk=account.pk).access_token == "tok"
    rotated = rotate(under_old_key)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {XAccount._meta.db_table} SET access_token = %s WHERE id = %s", [rotated, account.pk])

    # Step 2: the old key dropped; rotated values still read, old ciphertext no longer does.
    settings.SECRET_ENCRYPTION_KEYS = [NEW_KEY]
    assert XAccount.objects.get(pk=account.pk).access_token == "tok"
    with pytest.raises(ImproperlyConfigured):
        decrypt(under_old_key)


def test_new_values_are_encrypted_with_the_first_key(settings):
    settings.SECRET_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    token = encrypt("tok")

    assert Fernet(NEW_KEY).decrypt(token.encode()) == b"tok"


def test_decrypt_failure_names_the_setting_and_never_the_secret(settings):
    settings.SECRET_ENCRYPTION_KEYS = [OLD_KEY]
    token = encrypt("the-secret-token")
    settings.SECRET_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(ImproperlyConfigured) as caught:
        decrypt(token)

    message = str(caught.value)
    assert "SECRET_ENCRYPTION_KEYS" in message
    assert "the-secret-token" not in message and NEW_KEY not in message and OLD_KEY not in message


def test_an_invalid_key_names_the_setting_and_never_the_key(settings):
    settings.SECRET_ENCRYPTION_KEYS = [NEW_KEY, "not-a-fernet-key"]

    with pytest.raises(ImproperlyConfigured) as caught:
        encrypt("x")

    assert "Key #2 of SECRET_ENCRYPTION_KEYS" in str(caught.value)
    assert "not-a-fernet-key" not in str(caught.value)


def test_no_keys_is_a_configuration_error(settings):
    settings.SECRET_ENCRYPTION_KEYS = []

    with pytest.raises(ImproperlyConfigured, match="SECRET_ENCRYPTION_KEYS"):
        encrypt("x")


def test_field_prepares_ciphertext_and_reads_plaintext(old_key_only):
    field = EncryptedTextField()

    prepared = field.get_prep_value("tok")

    assert prepared != "tok" and decrypt(prepared) == "tok"
    assert field.from_db_value(prepared, None, connection) == "tok"
    assert field.to_python("tok") == "tok"
    assert field.get_prep_value(None) is None and field.get_prep_value("") == ""
