from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from twitter_channel.models import XAccount

pytestmark = pytest.mark.django_db


def stored_ciphertext(account):
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM twitter_channel_xaccount WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_tokens_with_the_new_key(settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRET_ENCRYPTION_KEYS = [old_key]
    account = XAccount.objects.create(user_id="42", username="brand", access_token="secret-token")
    assert Fernet(old_key).decrypt(stored_ciphertext(account).encode()) == b"secret-token"

    settings.SECRET_ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_secrets", stdout=out)

    assert "on 1 rows" in out.getvalue()
    assert "secret-token" not in out.getvalue()
    assert Fernet(new_key).decrypt(stored_ciphertext(account).encode()) == b"secret-token"
    settings.SECRET_ENCRYPTION_KEYS = [new_key]
    assert XAccount.objects.get(pk=account.pk).access_token == "secret-token"


def test_a_secret_no_key_decrypts_stops_the_rotation_with_a_clear_error_and_nothing_rotated(settings):
    old_key, lost_key, new_key = (Fernet.generate_key().decode() for _ in range(3))
    settings.SECRET_ENCRYPTION_KEYS = [old_key]
    first = XAccount.objects.create(user_id="42", username="brand", access_token="one")
    settings.SECRET_ENCRYPTION_KEYS = [lost_key]
    XAccount.objects.create(user_id="43", username="other", access_token="two")
    before = stored_ciphertext(first)

    settings.SECRET_ENCRYPTION_KEYS = [new_key, old_key]  # the lost key is gone
    with pytest.raises(CommandError, match="Nothing was rotated: A stored secret cannot be decrypted"):
        call_command("rotate_secrets", stdout=StringIO())

    assert stored_ciphertext(first) == before
