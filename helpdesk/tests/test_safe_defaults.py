"""Production is the default: a deployment that forgets DEBUG, or copies the development
secrets out of this public repository, refuses to start instead of running exposed."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

OWN_SECRETS = {
    "SECRET_KEY": "a-production-secret-key-that-nobody-else-knows-0123456789abcdef",
    "SECRET_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1vbmx5LWVuY3J5cHRpb24ta2V5ISE=",
    "X_WEBHOOK_CONSUMER_SECRET": "our-own-consumer-secret",
    "X_APP_BEARER_TOKEN": "our-own-app-bearer-token",
}


def start_settings(**environment: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with only `environment` set (no .env either)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", *OWN_SECRETS}}
    env.update(environment, DJANGO_SETTINGS_MODULE="helpdesk.settings")
    code = "import django; django.setup(); from django.conf import settings; print('DEBUG', settings.DEBUG)"
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=60)


def test_debug_is_off_when_the_environment_does_not_say():
    started = start_settings(**OWN_SECRETS)
    assert started.returncode == 0, started.stderr
    assert "DEBUG False" in started.stdout


def test_forgotten_debug_without_secrets_refuses_to_start():
    started = start_settings()
    assert started.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in started.stderr


def test_production_refuses_each_public_development_value():
    development_values = {
        "SECRET_KEY": settings.DEV_SECRET_KEY,
        "SECRET_ENCRYPTION_KEYS": f"{OWN_SECRETS['SECRET_ENCRYPTION_KEYS']},{settings.DEV_ENCRYPTION_KEY}",
        "X_WEBHOOK_CONSUMER_SECRET": settings.DEV_X_WEBHOOK_CONSUMER_SECRET,
        "X_APP_BEARER_TOKEN": settings.DEV_X_APP_BEARER_TOKEN,
    }
    for name, value in development_values.items():
        started = start_settings(**{**OWN_SECRETS, name: value, "DEBUG": "false"})
        assert started.returncode != 0, name
        assert f"{name} is set to the public development value" in started.stderr


def test_development_mode_is_asked_for_explicitly_and_needs_no_secrets():
    started = start_settings(DEBUG="true")
    assert started.returncode == 0, started.stderr
    assert "DEBUG True" in started.stdout
