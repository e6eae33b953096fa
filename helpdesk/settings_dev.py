"""Development mode: the settings with DEBUG on unless the environment says otherwise.

Production is the default of `helpdesk.settings`; the test suite (pytest.ini) runs in
development mode through this module. It sets the variable in the environment rather than
overriding the setting, so the processes the end-to-end tests start (Celery, gunicorn, the
stream consumer) inherit the same mode.
"""

import os

os.environ.setdefault("DEBUG", "true")

from .settings import *  # noqa: E402, F403
