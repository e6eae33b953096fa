"""Project-wide test set-up."""

import pytest

from helpdesk.celery import app as celery_app

# Unit tests run tasks in-process; end-to-end tests start a real worker in its own process,
# which reads its configuration from the environment, not from here.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
