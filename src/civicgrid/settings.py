"""Django settings, read from the environment (DESIGN §2).

The embedded default needs nothing set: SQLite under ``./var``, in-process background jobs and
keys generated on first run. Production sets ``CIVICGRID_DATABASE_URL`` (PostgreSQL) and
``CIVICGRID_BROKER_URL`` (Redis or RabbitMQ).
"""

from __future__ import annotations

import os

import dj_database_url

from civicgrid import config

BASE_DIR = config.REPO_ROOT
PACKAGE_DIR = config.REPO_ROOT / "src" / "civicgrid"
DATA_DIR = config.data_dir()

SECRET_KEY = config.persistent_secret("CIVICGRID_SECRET_KEY", "secret_key")
PII_KEY = config.persistent_secret("CIVICGRID_PII_KEY", "pii_key")
DEBUG = os.environ.get("CIVICGRID_DEBUG", "") in {"1", "true", "yes"}
ALLOWED_HOSTS = os.environ.get("CIVICGRID_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("CIVICGRID_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "civicgrid.core",
    "civicgrid.audit",
    "civicgrid.geo",
    "civicgrid.accounts",
    "civicgrid.registry",
    "civicgrid.events",
    "civicgrid.open311",
    "civicgrid.webhooks",
    "civicgrid.rental",
    "civicgrid.triage",
    "civicgrid.analytics",
    "civicgrid.bench",
    "civicgrid.web",
]

MIDDLEWARE = [
    "civicgrid.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "civicgrid.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "civicgrid.core.middleware.NulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {"default": dj_database_url.parse(config.database_url(), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets pages read while a write is in progress; IMMEDIATE makes a writing transaction
    # take the lock up front instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work and cache -------------------------------------------------------------
BROKER_URL = config.broker_url()
CACHE_URL = os.environ.get("CIVICGRID_CACHE_URL") or (
    BROKER_URL if BROKER_URL and BROKER_URL.startswith("redis") else None
)
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# API tokens are looked up in the cache first, but only when it is shared by every process
# (Redis): a per-process cache could not forget a token revoked elsewhere.
TOKEN_CACHE_SECONDS = 30 if CACHE_URL else 0

# --- accounts --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["civicgrid.accounts.backends.ThrottledModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
# Login throttling: this many failures for one account or one address within the window lock
# further attempts for the window.
LOGIN_FAILURE_LIMIT = int(os.environ.get("CIVICGRID_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW = int(os.environ.get("CIVICGRID_LOGIN_FAILURE_WINDOW", "900"))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken

# --- language and time -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# Working hours that working-hour time limits count (DESIGN §6).
WORK_HOURS = os.environ.get("CIVICGRID_WORK_HOURS", "08:30-12:00,14:00-18:00")
USE_I18N = True
USE_TZ = True

# --- static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it even when serving from finders
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end libraries come from npm (package.json), never from a CDN; served as static files.
VENDOR_ASSETS = {
    "leaflet": NODE_MODULES / "leaflet" / "dist",
    "htmx": NODE_MODULES / "htmx.org" / "dist",
    "echarts": NODE_MODULES / "echarts" / "dist",
}
STATICFILES_DIRS = [
    (f"vendor/{name}", path) for name, path in VENDOR_ASSETS.items() if path.is_dir()
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# ``civicgrid bench intake`` serves a bare endpoint (the limit it measures against) only
# when it starts the server itself with this set.
BENCH_ENDPOINTS = os.environ.get("CIVICGRID_BENCH_ENDPOINTS", "") == "1"

# --- API -------------------------------------------------------------------------------------
# An event may carry six 5 MB photos as base64 in its JSON body; anything larger is a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 42 * 1024 * 1024
NINJA_PAGINATION_PER_PAGE = 100
NINJA_PAGINATION_MAX_LIMIT = 1000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CIVICGRID_LOG_LEVEL", "WARNING")},
}

# --- Celery (read by civicgrid.celery) -------------------------------------------------------
CELERY_BROKER_URL = BROKER_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = BROKER_URL is None  # embedded mode: run tasks inline
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An unacknowledged message (its worker died) goes to another worker after this many seconds;
# the outbox drain below usually re-sends it sooner.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CIVICGRID_BROKER_VISIBILITY", "600"))
}
CELERY_BEAT_SCHEDULE = {
    "events-sweep": {"task": "events.sweep", "schedule": 60.0},
    "events-relay-outbox": {"task": "events.relay_outbox", "schedule": 5.0},
    "webhooks-deliver": {"task": "webhooks.deliver", "schedule": 10.0},
    "rental-schedule": {"task": "rental.schedule", "schedule": 3600.0},
    "analytics-refresh-rollup": {"task": "analytics.refresh_rollup", "schedule": 30.0},
}
