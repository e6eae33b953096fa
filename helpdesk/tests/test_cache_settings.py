"""The cache that rate limits count in: Redis from REDIS_URL, shared by every web process;
local memory in development without Redis; production without Redis refuses the check."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

from .test_safe_defaults import OWN_SECRETS


def run(code: str, **environment: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL", *OWN_SECRETS}}
    env.update(environment, DJANGO_SETTINGS_MODULE="helpdesk.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=60)


CACHE = "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default'])"
CHECK = "import django; django.setup(); from django.core.management import call_command; call_command('check')"


def test_redis_url_gives_the_shared_redis_cache():
    started = run(CACHE, DEBUG="true", REDIS_URL="redis://127.0.0.1:6399/3")
    assert started.returncode == 0, started.stderr
    assert "django.core.cache.backends.redis.RedisCache" in started.stdout
    assert "redis://127.0.0.1:6399/3" in started.stdout


def test_development_without_redis_uses_local_memory_and_passes_the_check():
    assert "LocMemCache" in run(CACHE, DEBUG="true").stdout
    checked = run(CHECK, DEBUG="true")
    assert checked.returncode == 0, checked.stderr


def test_production_without_redis_fails_the_check():
    checked = run(CHECK, **OWN_SECRETS)
    assert checked.returncode != 0
    assert "is not a shared cache" in checked.stderr


def test_production_with_redis_passes_the_check():
    checked = run(CHECK, REDIS_URL="redis://127.0.0.1:6399/3", **OWN_SECRETS)
    assert checked.returncode == 0, checked.stderr
