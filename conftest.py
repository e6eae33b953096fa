"""Project-wide test set-up."""

import factory.random
import pytest

from helpdesk.celery import app as celery_app

# Unit tests run tasks in-process; end-to-end tests start a real worker in its own process,
# which reads its configuration from the environment, not from here.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


def _flush_retrying_deadlocks():
    """End-to-end tests leave real Celery workers and beats running between tests (module
    fixtures), and their transactions can deadlock with the TRUNCATE that empties the test
    database after each transactional test. PostgreSQL then aborts one side; when it picks
    the flush, the next test starts on leftovers. Try the flush again instead (a worker's
    aborted transaction is retried by Celery in any case)."""
    from django.core.management.base import CommandError
    from django.test.testcases import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def flush_until_done(self):
        for attempt in range(5):
            try:
                return flush(self)
            except CommandError as exc:
                if "deadlock" not in str(exc.__cause__ or exc) or attempt == 4:
                    raise

    TransactionTestCase._fixture_teardown = flush_until_done


_flush_retrying_deadlocks()


@pytest.fixture(autouse=True)
def _same_fake_data_every_run():
    # Factories draw names and sentences from Faker: a fixed seed per test makes a clash
    # between random data and a search term fail every run, not one run in a hundred.
    factory.random.reseed_random("helpdesk-tests")


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings):
    # Rate limits count in the cache (Redis under REDIS_URL): each test gets its own key
    # prefix, so one test's posts never count against another's. Never cache.clear(): on
    # Redis that flushes the database the Celery broker shares.
    import uuid

    default = dict(settings.CACHES["default"])
    default["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {**settings.CACHES, "default": default}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Browser tests ---------------------------------------------------------------------
# Debian's chromium driven by Playwright's sync API (never a browser Playwright downloads).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # This machine has no internet: without these chromium keeps dialling Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    """A headless chromium, closed after the test."""
    import os
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        # In CI a missing browser is a broken machine, not a reason to pass quietly.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an asyncio loop in the test's thread, which makes Django
    # refuse ORM calls there; the tests' ORM calls are plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshot():
    """`screenshot(page, name)` keeps a full-page PNG in test-artifacts/ (CI keeps them)."""
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "test-artifacts"

    def take(page, name: str) -> None:
        folder.mkdir(exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take
