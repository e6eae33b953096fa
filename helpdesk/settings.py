"""Settings for the helpdesk, read from the environment (django-environ).

Production is the default: DEBUG is off unless the environment turns it on, every secret is
mandatory, the public development values of those secrets are refused at start-up, and the
secure-transport settings are on, so a deployment passes `manage.py check --deploy`.
Development (`make run`, `make test`) sets DEBUG=true and then needs no configuration at all:
SQLite in the project folder, a filesystem Celery broker, the console email backend, and
development keys that are public and therefore only ever accepted with DEBUG on.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Development values of the secrets. They are in this public repository, so anyone could sign
# a webhook delivery, a session or an encrypted token with them: production refuses them.
DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
DEV_ENCRYPTION_KEY = "aGVscGRlc2stZGV2ZWxvcG1lbnQtb25seS1rZXkhISE="
DEV_X_WEBHOOK_CONSUMER_SECRET = "xsandbox-consumer-secret"  # the sandbox's, xsandbox/activity.py
DEV_X_APP_BEARER_TOKEN = "xsandbox-app-bearer-token"


def _secret(name: str, dev_default: str) -> str:
    """A secret that has a harmless default in development and none in production."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")


SECRET_KEY = _secret("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tickets",
    "twitter_channel",
    "business_rules",
    "live",
    "monitoring",
    "dashboard",
    "axes",
    "csp",
    "django_ratelimit",
    "helpdesk",  # operations: the beat and worker heartbeats /health/ reads
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses a login attempt while its username and address are locked out, before checking it.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "helpdesk.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
# A connection kept for reuse is checked before a request uses it: after a database restart
# or a blip of a second, the first request would otherwise fail on the dead connection (a 500).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the SQLite file in development: wait for locks
    # instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tickets.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes; attempts kept in the database, so every web process shares
# them): after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair
# is locked out for LOGIN_LOCKOUT_MINUTES. Keyed on the pair so that nobody can lock an agent
# out from elsewhere; the admin's login is covered too. `manage.py axes_reset` lifts every lock.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "helpdesk.client_ip.client_ip"
# Proxies of ours in front of the web process (X-Forwarded-For is trusted that many hops deep).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
# The PostgreSQL text search configuration of ticket search (stemming, stop words):
# "english", "simple" (no stemming, any language), "german", ... (`\dF` in psql lists them).
# Changing it on a database with tickets: run `manage.py rebuild_search_vectors`.
SEARCH_LANGUAGE = env.str("SEARCH_LANGUAGE", default="english")
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (bin/start-production runs it) and WhiteNoise serves from.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
if DEBUG:
    # WhiteNoise serves from STATIC_ROOT and warns on every request when it is missing;
    # in development the files come from the finders instead.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    STATIC_ROOT.mkdir(exist_ok=True)

# --- Email -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds an SMTP conversation may hang before it counts as failed (Django's default waits
# forever, which would hold a worker and leave the outbox row "sending").
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="support@helpdesk.localhost")
# Replies to outgoing mail go to reply+<token>@REPLY_EMAIL_DOMAIN so they thread back.
REPLY_EMAIL_DOMAIN = env.str("REPLY_EMAIL_DOMAIN", default="helpdesk.localhost")
INBOUND_EMAIL_TOKEN = env.str("INBOUND_EMAIL_TOKEN", default="")
# Raw messages posted to the inbound endpoint may be this large (attachments included).
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# Caps on what of a message is read (tickets/mail/caps.py): the standard library's parser has
# none, and one hostile message could otherwise hold a worker for a minute. The raw message is
# kept whole whatever is cut; the ticket gets a note saying what was.
INBOUND_EMAIL_MAX_HEADER_BYTES = env.int("INBOUND_EMAIL_MAX_HEADER_BYTES", default=16 * 1024)  # per header field
INBOUND_EMAIL_MAX_PARTS = env.int("INBOUND_EMAIL_MAX_PARTS", default=100)  # MIME parts, so attachments too
INBOUND_EMAIL_MAX_RECIPIENTS = env.int("INBOUND_EMAIL_MAX_RECIPIENTS", default=100)
# Signed requester-facing ticket links (/t/<token>/) stop working after this many days; 0 = never.
TICKET_LINK_MAX_AGE_DAYS = env.int("TICKET_LINK_MAX_AGE_DAYS", default=30)

# --- Celery ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # No broker server in development: kombu's filesystem transport passes messages
    # between web, worker and beat through a folder, which works across processes.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "store_processed": False,
        # Which queue each exchange routes to: kept with the broker's folders, not in the
        # directory the process was started from.
        "control_folder": str(_broker_dir / "control"),
    }
else:
    # A worker consuming several queues empties them in the order it was given (-Q), so with
    # WORK_QUEUES' order sending goes before conversion even on a single worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"queue_order_strategy": "priority"}
# Work queues by kind, so an agent's reply, a mail or a pushed event never waits behind a
# burst's conversion: production runs a worker per queue (Procfile.production, README
# "Running on several machines"). Most urgent first: a worker consuming several queues
# (make run's single worker) takes from them in this order (Redis: queue_order_strategy
# "priority" below). Anything not routed (beat's ticks, sweeps, automations) goes to default.
WORK_QUEUES = ("send", "mail", "intake", "default", "convert")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Replies to X (posts, DMs) and every email: what a person waits for.
    "twitter_channel.send_tasks.send_outgoing": {"queue": "send"},
    "tickets.mail.tasks.*": {"queue": "mail"},
    "business_rules.tasks.send_trigger_email": {"queue": "mail"},
    # Fetching from X and processing pushed events: stored quickly, converted on "convert".
    "twitter_channel.tasks.poll_stream": {"queue": "intake"},
    "twitter_channel.tasks.dispatch_polls": {"queue": "intake"},
    "twitter_channel.realtime.tasks.process_activity_event": {"queue": "intake"},
    # Turning stored items into tickets: the bulk of a burst's work.
    "twitter_channel.tasks.convert_items": {"queue": "convert"},
    "twitter_channel.send_tasks.bulk_convert_items": {"queue": "convert"},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies mid-run is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Automations (time-based business rules, including closing solved tickets) run every
# AUTOMATIONS_INTERVAL_SECONDS; each pass acts on at most AUTOMATION_BATCH_SIZE tickets per
# automation, and the rest are picked up by the next pass.
AUTOMATIONS_INTERVAL_SECONDS = env.float("AUTOMATIONS_INTERVAL_SECONDS", default=300.0)
AUTOMATION_BATCH_SIZE = env.int("AUTOMATION_BATCH_SIZE", default=1000)
CELERY_BEAT_SCHEDULE = {
    "run-automations": {
        "task": "business_rules.tasks.run_automations",
        "schedule": AUTOMATIONS_INTERVAL_SECONDS,
    },
}
# The outbox (tickets/outbox.py): every outgoing post, DM and email is a row; beat sweeps up
# rows whose task never ran (broker down when the agent replied) or died (worker killed,
# database away), queued rows after the grace, attempts after their channel's stale time.
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
OUTBOX_SWEEP_GRACE_SECONDS = env.float("OUTBOX_SWEEP_GRACE_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["outbox-sweep"] = {
    "task": "tickets.tasks.sweep_outboxes",
    "schedule": OUTBOX_SWEEP_SECONDS,
}
# Liveness of beat and workers for /health/ (helpdesk/heartbeat.py): beat stamps the time as
# it ticks and sends a heartbeat task that a worker stamps; a stamp older than 4 intervals is
# reported as down.
HEARTBEAT_SECONDS = env.float("HEARTBEAT_SECONDS", default=15.0)
CELERY_BEAT_SCHEDULE["heartbeat"] = {
    "task": "helpdesk.tasks.heartbeat",
    "schedule": HEARTBEAT_SECONDS,
    # A heartbeat stuck in a queue proves nothing about the worker when it finally runs.
    "options": {"expires": HEARTBEAT_SECONDS * 2},
}
CELERY_BEAT_SCHEDULER = "helpdesk.heartbeat:StampingScheduler"
# The dashboard's backlog chart (dashboard/backlog.py) shows the unsolved tickets as beat
# last counted them, every DASHBOARD_BACKLOG_SECONDS.
DASHBOARD_BACKLOG_SECONDS = env.float("DASHBOARD_BACKLOG_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["dashboard-backlog"] = {
    "task": "dashboard.tasks.snapshot_backlog",
    "schedule": DASHBOARD_BACKLOG_SECONDS,
    "options": {"expires": DASHBOARD_BACKLOG_SECONDS},
}

# --- Live workspace (live/) ---------------------------------------------------
# Ticket changes travel between processes through the LiveEvent table (live/feed.py); the
# channel layer carries presence and typing between web processes: Redis when there is one,
# else in memory (one web process, as in `make run`).
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 gives up reading after 5 s by default, which is exactly how long
            # channels-redis blocks waiting for a message (BZPOPMIN): an idle socket's
            # receive would time out and drop the connection. Read timeout above the wait.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": "helpdesk-live"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Every socket is pinged every heartbeat and answers from its message handler (a browser runs
# those promptly even in a background tab, unlike timers). A socket silent for
# LIVE_SILENCE_SECONDS vanished without a close (laptop lid, network gone): it is closed and
# its presence ends on every screen.
LIVE_HEARTBEAT_SECONDS = env.float("LIVE_HEARTBEAT_SECONDS", default=10.0)
LIVE_SILENCE_SECONDS = env.float("LIVE_SILENCE_SECONDS", default=3 * LIVE_HEARTBEAT_SECONDS)
# What one socket may send: a token bucket of LIVE_MESSAGE_BURST refilled at LIVE_MESSAGE_RATE
# a second (a page sends a pong per heartbeat and a typing note every 2.5 s); messages beyond
# it are dropped, and a socket that has LIVE_FLOOD_TOLERANCE dropped (refilled at one a
# second) is closed. Larger messages close the socket at once: a page's largest, its
# subscription, is well under a kilobyte.
LIVE_MESSAGE_RATE = env.float("LIVE_MESSAGE_RATE", default=5.0)
LIVE_MESSAGE_BURST = env.int("LIVE_MESSAGE_BURST", default=20)
LIVE_FLOOD_TOLERANCE = env.int("LIVE_FLOOD_TOLERANCE", default=20)
LIVE_MAX_MESSAGE_BYTES = env.int("LIVE_MAX_MESSAGE_BYTES", default=8192)

# --- Cache (rate limits) -----------------------------------------------------
# django-ratelimit counts in the cache, so every web process must share it: Redis when
# REDIS_URL is set (Django's own RedisCache; INCR is atomic, django-ratelimit only knows the
# django-redis package by name, hence W001 silenced). Without Redis, development uses
# local memory: one process's count, exact for `make run`'s single web process, but web
# processes would not share it, so production without REDIS_URL fails `manage.py check`.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                    "KEY_PREFIX": "helpdesk"},
    }
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "helpdesk"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"] + (["django_ratelimit.E003"] if DEBUG else [])
# The client's address for per-IP limits, as login throttling sees it (TRUSTED_PROXY_COUNT).
RATELIMIT_IP_META_KEY = "helpdesk.client_ip.client_ip"
# Posts to the requester's email form and confirmation page (tickets/public.py).
PUBLIC_FORM_RATE_PER_LINK = env.str("PUBLIC_FORM_RATE_PER_LINK", default="10/h")
PUBLIC_FORM_RATE_PER_IP = env.str("PUBLIC_FORM_RATE_PER_IP", default="30/h")

# --- Helpdesk ----------------------------------------------------------------
TICKET_COMMENT_LIMIT = env.int("TICKET_COMMENT_LIMIT", default=5000)
# Raw X JSON (items, pushed events) and raw email messages are deleted this many days after
# they arrived, by beat, once a day; parsed fields, comments and attachments stay. 0: kept.
RAW_RETENTION_DAYS = env.int("RAW_RETENTION_DAYS", default=0)
CELERY_BEAT_SCHEDULE["delete-expired-raw-emails"] = {
    "task": "tickets.tasks.delete_expired_raw_emails",
    "schedule": crontab(hour=3, minute=17),
}
# The batch compliance job (twitter_channel/compliance/jobs.py): started daily, checked often.
CELERY_BEAT_SCHEDULE["x-start-compliance-jobs"] = {
    "task": "twitter_channel.tasks.start_compliance_jobs",
    "schedule": crontab(hour=2, minute=37),
}
CELERY_BEAT_SCHEDULE["x-check-compliance-jobs"] = {
    "task": "twitter_channel.tasks.check_compliance_jobs",
    "schedule": 300,
}
CELERY_BEAT_SCHEDULE["delete-expired-raw-x-json"] = {
    "task": "twitter_channel.tasks.delete_expired_raw_x_json",
    "schedule": crontab(hour=3, minute=27),
}
TICKETS_PER_PAGE = 50
COMMENTS_PER_PAGE = 100

# --- X -------------------------------------------------------------------------
X_API_BASE_URL = env.str("X_API_BASE_URL", default="https://api.twitter.com").rstrip("/")
X_OAUTH_AUTHORIZE_URL = env.str("X_OAUTH_AUTHORIZE_URL", default="")
X_CLIENT_ID = env.str("X_CLIENT_ID", default="helpdesk-dev")
X_CLIENT_SECRET = env.str("X_CLIENT_SECRET", default="")
# Fernet keys, comma separated; the first encrypts, all decrypt (rotation: prepend a new key,
# run `manage.py rotate_secrets`, then drop the old one).
SECRET_ENCRYPTION_KEYS = env.list("SECRET_ENCRYPTION_KEYS", default=[]) or (
    [DEV_ENCRYPTION_KEY]
    if DEBUG
    else _secret("SECRET_ENCRYPTION_KEYS", "")
)

# X intake (twitter_channel). Polling paces itself from the rate-limit headers X sends;
# these only bound it. Seconds unless said otherwise.
X_POLL_MIN_INTERVAL_SECONDS = env.float("X_POLL_MIN_INTERVAL_SECONDS", default=2.0)  # floor per stream
X_POLL_MAX_INTERVAL_SECONDS = env.float("X_POLL_MAX_INTERVAL_SECONDS", default=300.0)  # ceiling when idle
X_POLL_BACKOFF_BASE_SECONDS = env.float("X_POLL_BACKOFF_BASE_SECONDS", default=5.0)  # first 5xx back-off
X_POLL_BACKOFF_MAX_SECONDS = env.float("X_POLL_BACKOFF_MAX_SECONDS", default=900.0)
X_POLL_RATE_LIMITED_FALLBACK_SECONDS = env.float("X_POLL_RATE_LIMITED_FALLBACK_SECONDS", default=60.0)
X_POLL_CLAIM_SECONDS = env.float("X_POLL_CLAIM_SECONDS", default=60.0)  # re-dispatch a poll whose worker died
X_POLL_DISPATCH_SECONDS = env.float("X_POLL_DISPATCH_SECONDS", default=1.0)  # beat tick of dispatch_polls
X_FIRST_POLL_MAX_PAGES = env.int("X_FIRST_POLL_MAX_PAGES", default=1)  # history read when an account connects
X_POLL_MAX_PAGES = env.int("X_POLL_MAX_PAGES", default=500)  # X itself serves at most 800 mentions
X_TOKEN_REFRESH_MARGIN_SECONDS = env.int("X_TOKEN_REFRESH_MARGIN_SECONDS", default=300)
X_CONVERT_PARALLELISM = env.int("X_CONVERT_PARALLELISM", default=2)  # conversion tasks per big batch
# Items claimed and converted per transaction: the set-based part of conversion costs the same
# few statements for 10 items as for 200, so batches are large; one still commits well under a second.
X_CONVERT_BATCH_SIZE = env.int("X_CONVERT_BATCH_SIZE", default=200)
X_SWEEP_GRACE_SECONDS = env.int("X_SWEEP_GRACE_SECONDS", default=30)  # new items older than this get swept
X_SWEEP_INTERVAL_SECONDS = env.float("X_SWEEP_INTERVAL_SECONDS", default=30.0)  # beat tick of sweep_unconverted
CELERY_BEAT_SCHEDULE["x-dispatch-polls"] = {
    "task": "twitter_channel.tasks.dispatch_polls",
    "schedule": X_POLL_DISPATCH_SECONDS,
}
CELERY_BEAT_SCHEDULE["x-sweep-unconverted"] = {
    "task": "twitter_channel.tasks.sweep_unconverted",
    "schedule": X_SWEEP_INTERVAL_SECONDS,
}
# X real time (twitter_channel/realtime). The X app's consumer secret answers X's webhook CRC
# and checks every delivery's signature; the app's bearer token manages webhooks, subscriptions
# and the activity stream. Development defaults are the sandbox's; production has none.
X_WEBHOOK_CONSUMER_SECRET = env.str("X_WEBHOOK_CONSUMER_SECRET", default=DEV_X_WEBHOOK_CONSUMER_SECRET if DEBUG else "")
X_APP_BEARER_TOKEN = env.str("X_APP_BEARER_TOKEN", default=DEV_X_APP_BEARER_TOKEN if DEBUG else "")
X_WEBHOOK_URL = env.str("X_WEBHOOK_URL", default="")  # empty: SITE_URL + the webhook's path
X_REALTIME_RECONCILE_SECONDS = env.float("X_REALTIME_RECONCILE_SECONDS", default=120.0)  # poll floor in real time
CELERY_BEAT_SCHEDULE["x-sweep-activity-events"] = {
    "task": "twitter_channel.realtime.tasks.sweep_activity_events",
    "schedule": X_SWEEP_INTERVAL_SECONDS,
}
# Requesters' profiles follow X by profile.update events (realtime/requester_profiles.py):
# subscriptions for requesters with open tickets, within the app's subscription limit
# (X, July 2026: 1,500 self-serve, 75,000 Enterprise; lower it when other tools share the app).
X_ACTIVITY_SUBSCRIPTION_LIMIT = env.int("X_ACTIVITY_SUBSCRIPTION_LIMIT", default=1500)
X_REQUESTER_PROFILE_SYNC_SECONDS = env.float("X_REQUESTER_PROFILE_SYNC_SECONDS", default=300.0)  # 0: off
if X_REQUESTER_PROFILE_SYNC_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["x-sync-requester-profiles"] = {
        "task": "twitter_channel.realtime.tasks.sync_requester_profile_subscriptions",
        "schedule": X_REQUESTER_PROFILE_SYNC_SECONDS,
    }
# How often the webhook is challenged as X would (realtime/watch.py); after it fails, or after
# several silent intervals, X is asked to replay what it may have lost. 0 switches this off.
X_WEBHOOK_WATCH_SECONDS = env.float("X_WEBHOOK_WATCH_SECONDS", default=60.0)
if X_WEBHOOK_WATCH_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["x-watch-webhook"] = {
        "task": "twitter_channel.realtime.tasks.watch_webhook",
        "schedule": X_WEBHOOK_WATCH_SECONDS,
    }

# Outgoing tweets and DMs (twitter_channel/answering/sending.py).
X_SEND_TIMEOUT_SECONDS = env.float("X_SEND_TIMEOUT_SECONDS", default=10.0)
X_SEND_MAX_ATTEMPTS = env.int("X_SEND_MAX_ATTEMPTS", default=5)
X_SEND_BACKOFF_SECONDS = env.float("X_SEND_BACKOFF_SECONDS", default=30.0)
X_SEND_STALE_SECONDS = env.int("X_SEND_STALE_SECONDS", default=120)  # an attempt this old without an answer is "unknown"

# Outgoing email (tickets/mail/outbound.py): attempts, first back-off (doubling), and when an
# attempt that never answered counts as dead (its message is resent with the same Message-ID).
EMAIL_SEND_MAX_ATTEMPTS = env.int("EMAIL_SEND_MAX_ATTEMPTS", default=6)
EMAIL_SEND_BACKOFF_SECONDS = env.float("EMAIL_SEND_BACKOFF_SECONDS", default=60.0)
EMAIL_SEND_STALE_SECONDS = env.int("EMAIL_SEND_STALE_SECONDS", default=300)
X_BULK_PROGRESS_EVERY = env.int("X_BULK_PROGRESS_EVERY", default=5)  # bulk convert saves progress every N items

# What X bills (twitter_channel/x/pricing.py), in dollars; the defaults are X's 2026 prices.
X_PRICE_POST_READ = env.str("X_PRICE_POST_READ", default="0.005")
X_PRICE_OWNED_READ = env.str("X_PRICE_OWNED_READ", default="0.001")  # the account's own mentions and likes
X_PRICE_USER_READ = env.str("X_PRICE_USER_READ", default="0.010")
X_PRICE_DM_EVENT_READ = env.str("X_PRICE_DM_EVENT_READ", default="0.010")
X_PRICE_POST = env.str("X_PRICE_POST", default="0.015")
X_PRICE_POST_WITH_URL = env.str("X_PRICE_POST_WITH_URL", default="0.200")
X_PRICE_DM = env.str("X_PRICE_DM", default="0.015")
X_PRICE_POST_EVENT = env.str("X_PRICE_POST_EVENT", default="0.005")
X_PRICE_LIKE_EVENT = env.str("X_PRICE_LIKE_EVENT", default="0.001")
X_PRICE_DM_EVENT = env.str("X_PRICE_DM_EVENT", default="0.010")
CELERY_BEAT_SCHEDULE["x-prune-cost-seen-items"] = {
    "task": "twitter_channel.tasks.prune_cost_seen_items",
    "schedule": 3600.0,
}

# /metrics (monitoring/): Prometheus sends `Authorization: Bearer <METRICS_TOKEN>`; empty: off.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no
# inline code, so a post or an email that slipped markup past escaping still could not run.
# Images may also come from X's media hosts (avatars, photos, video and GIF stills) and from the
# X API's host (the sandbox serves its own). The browser loads them; the server never fetches them.
X_MEDIA_HOSTS = env.list("X_MEDIA_HOSTS", default=["https://pbs.twimg.com", "https://abs.twimg.com",
                                                   "https://video.twimg.com"])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *X_MEDIA_HOSTS, X_API_BASE_URL],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# --- Production hardening ------------------------------------------------------
if not DEBUG:
    _public_values = {DEV_SECRET_KEY, DEV_ENCRYPTION_KEY, DEV_X_WEBHOOK_CONSUMER_SECRET, DEV_X_APP_BEARER_TOKEN}
    _in_use = {
        "SECRET_KEY": {SECRET_KEY},
        "SECRET_ENCRYPTION_KEYS": set(SECRET_ENCRYPTION_KEYS),
        "X_WEBHOOK_CONSUMER_SECRET": {X_WEBHOOK_CONSUMER_SECRET},
        "X_APP_BEARER_TOKEN": {X_APP_BEARER_TOKEN},
    }
    _refused = [name for name, values in _in_use.items() if values & _public_values]
    if _refused:
        raise ImproperlyConfigured(
            f"{', '.join(_refused)} {'is' if len(_refused) == 1 else 'are'} set to the public development "
            "value, which anyone can read in this repository. Set your own secret, or set DEBUG=true for "
            "development."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # tweepy logs every request's headers at DEBUG, bearer token included.
        "tweepy": {"level": "INFO"},
        "requests_oauthlib": {"level": "INFO"},
        "oauthlib": {"level": "INFO"},
        "urllib3": {"level": "WARNING"},
    },
}
