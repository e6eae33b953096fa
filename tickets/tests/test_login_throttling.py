"""Guessing passwords is throttled (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for
one username from one address, that pair is locked out, on the agents' login and the admin's."""

import pytest
from django.test import Client

from .ui_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"  # the agent fixture's


def guess(client: Client, username: str, password: str, *, path: str = "/login/", address: str = "203.0.113.7"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_username_out_even_with_the_right_one(client, agent, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert guess(client, "alan", "wrong").status_code == 200  # the form again, with its error

    locked = guess(client, "alan", "wrong")
    right_password = guess(client, "alan", PASSWORD)

    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_throttled_too(client, admin_user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        guess(client, "ada", "wrong", path="/admin/login/?next=/admin/")

    assert guess(client, "ada", PASSWORD, path="/admin/login/?next=/admin/").status_code == 429


def test_a_lock_out_is_per_address_so_nobody_can_lock_an_agent_out_from_elsewhere(client, agent, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        guess(client, "alan", "wrong", address="198.51.100.66")

    response = guess(Client(), "alan", PASSWORD, address="203.0.113.7")

    assert response.status_code == 302


def test_a_successful_login_clears_the_count(client, agent, settings):
    settings.AXES_FAILURE_LIMIT = 3
    guess(client, "alan", "wrong")
    guess(client, "alan", "wrong")
    assert guess(client, "alan", PASSWORD).status_code == 302
    client.logout()

    guess(client, "alan", "wrong")
    guess(client, "alan", "wrong")
    assert guess(client, "alan", PASSWORD).status_code == 302


def test_behind_trusted_proxies_the_address_comes_from_x_forwarded_for(client, agent, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    # Every request reaches us from the proxy (10.0.0.2); the proxy appends who it saw.
    for _ in range(3):
        client.post("/login/", {"username": "alan", "password": "wrong"}, REMOTE_ADDR="10.0.0.2",
                    HTTP_X_FORWARDED_FOR="forged-by-attacker, 198.51.100.66")

    other_customer = Client().post("/login/", {"username": "alan", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="203.0.113.7")
    attacker = client.post("/login/", {"username": "alan", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2",
                           HTTP_X_FORWARDED_FOR="another-forgery, 198.51.100.66")

    assert other_customer.status_code == 302
    assert attacker.status_code == 429
