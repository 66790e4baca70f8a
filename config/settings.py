"""The one settings module, driven by the environment (django-environ).

With no environment set it runs embedded: SQLite and Celery in eager mode (DESIGN.md §6).
`DATABASE_URL` and `REDIS_URL` switch to PostgreSQL and a real Celery broker. A `.env` file
beside this project is read when present (see `.env.example`); real environment variables win.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)


def _stop(variable, problem):
    """Stop start-up with one clear line naming the variable (issue 2, point 2)."""
    raise SystemExit(f"配置错误 / configuration error: {variable} {problem}")


DEBUG = env.bool("DEBUG", default=False)


def _secret(variable):
    value = env.str(variable, default="")
    if value:
        return value
    if DEBUG:
        # A development-only default; production must set the variable.
        return f"dev-only-{variable.lower()}-not-for-production"
    return _stop(variable, "is not set (required when DEBUG is off)")


SECRET_KEY = _secret("SECRET_KEY")
# Keyed hashes of resident IDs (patient_key, lookup hashes) use their own secret, never SECRET_KEY.
PATIENT_KEY_SECRET = _secret("PATIENT_KEY_SECRET")
# Fernet keys (comma-separated, newest first) encrypting resident ID numbers at rest.
# Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
RESIDENT_DATA_KEYS = env.list("RESIDENT_DATA_KEYS", default=[])
if not RESIDENT_DATA_KEYS:
    if not DEBUG:
        _stop("RESIDENT_DATA_KEYS", "is not set (required when DEBUG is off)")
    # Development only: a fixed key derived from a constant, so a demo database stays readable.
    import base64
    import hashlib

    RESIDENT_DATA_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(b"dev-only-resident-data-key").digest()).decode()
    ]
try:
    from cryptography.fernet import Fernet

    [Fernet(key) for key in RESIDENT_DATA_KEYS]
except ValueError:
    _stop("RESIDENT_DATA_KEYS", "is malformed: each key is 32 url-safe base64-encoded bytes (Fernet)")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "auditlog",
    "django_htmx",
    "django_celery_beat",
    "core",
    "alliance",
    "members",
    "referrals",
    "encounters",
    "pharmacy",
    "finance",
    "assessment",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "core.middleware.BusyDatabaseMiddleware",  # issue 13 point 2: a busy database is never a 500
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "core.context_processors.navigation_items",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql"}


def _database():
    url = env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    parts = urlsplit(url)
    if parts.scheme not in _DATABASE_SCHEMES:
        _stop("DATABASE_URL", f"is malformed: scheme must be one of {sorted(_DATABASE_SCHEMES)}")
    if parts.scheme != "sqlite" and not (parts.hostname and parts.path.strip("/")):
        _stop("DATABASE_URL", "is malformed: expected postgres://user@host:port/database")
    try:
        config = env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        _stop("DATABASE_URL", f"is malformed: {exc}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The embedded default must survive two users writing at once (issue 13 point 2): WAL lets
        # readers go on while one writes, IMMEDIATE takes the write lock when a transaction
        # begins (so two writers queue instead of failing half-way), and a writer waits up to
        # 20 s for the lock instead of answering "database is locked" at once.
        config.setdefault("OPTIONS", {}).update(
            transaction_mode="IMMEDIATE",
            timeout=20,
            init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000",
        )
    else:
        # PostgreSQL's JIT compiles a query's expressions once its estimated cost passes
        # jit_above_cost. The monthly aggregates pass it and spent longer compiling than running
        # (the referral measures of a year: 2.4 s with JIT, 0.3 s without, issue 14 point 9);
        # no query of this application runs long enough to repay the compilation.
        config.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    config["ATOMIC_REQUESTS"] = False
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    config["CONN_HEALTH_CHECKS"] = True  # a kept connection the database dropped is reopened
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery (DESIGN.md §6): REDIS_URL unset means tasks run eagerly in-process ---------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    _redis = urlsplit(REDIS_URL)
    if _redis.scheme not in {"redis", "rediss"} or not _redis.hostname:
        _stop("REDIS_URL", "is malformed: expected redis://host:port/db")
    try:
        _redis.port  # noqa: B018 - a non-numeric port raises ValueError here
    except ValueError:
        _stop("REDIS_URL", "is malformed: the port is not a number")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # progress and results live in core.Job rows, not a result backend
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
# One queue per kind of work (DESIGN §6): webhook POSTs wait on other systems, so they have their
# own queue and worker (docker-compose.yml) and never hold up the default one.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "alliance.tasks.deliver_webhook_task": {"queue": "webhooks"},
    # Monthly indicators (issue 14): long set-based work, so a computation never waits behind
    # webhooks or holds up referral housekeeping.
    "assessment.tasks.compute_indicators_task": {"queue": "indicators"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The beat schedule is declared here, in code; django-celery-beat's database scheduler loads it
# so staff can see and pause entries in the admin.
CELERY_BEAT_SCHEDULE = {
    "purge-expired-idempotency-keys": {
        "task": "core.tasks.purge_idempotency_keys_task",
        "schedule": crontab(hour=3, minute=17),
    },
    "expire-import-previews": {
        "task": "core.tasks.expire_import_previews_task",
        "schedule": crontab(minute=23),
    },
    # Referrals (issue 6): reserved slots past their cut-off, unanswered referrals past their limit.
    "return-unbooked-referral-slots": {
        "task": "referrals.tasks.return_unbooked_slots_task",
        "schedule": crontab(minute="*/10"),
    },
    "expire-unanswered-referrals": {
        "task": "referrals.tasks.expire_referrals_task",
        "schedule": crontab(minute="*/10"),
    },
    # Indicators (issue 14 point 5): late data every night, every month of the year early each month.
    "recompute-dirty-indicator-months": {
        "task": "assessment.tasks.recompute_dirty_months_task",
        "schedule": crontab(hour=1, minute=30),
    },
    "compute-all-indicator-months": {
        "task": "assessment.tasks.compute_all_months_task",
        "schedule": crontab(day_of_month="2", hour=2, minute=0),
    },
}

# --- Auth, access -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Which institutions a user may see and what each role may do (DESIGN.md §5). Core reaches the
# policy only through this dotted path, the way Django reaches its auth backends.
ACCESS_POLICY = "members.access.policy"
# Where `core.events.publish` sends an event's webhooks (core imports no app; DESIGN §2).
WEBHOOK_SENDER = "alliance.webhooks.send_webhooks"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # core.views.landing: the committee lands on its dashboard
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation: Chinese first, English second ------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files (no CDN: everything vendored and served by whitenoise) ---------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Compressed, not manifest: pages render even before collectstatic has run.
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"

# --- Cache: the API's throttles count here, shared by every web worker when Redis is there ------
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "ha"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST API (DESIGN.md §8) ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": env.str("TOKEN_THROTTLE_RATE", default="10/min")},
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "紧密型县域医共体管理平台 API",
    "DESCRIPTION": "HIS integration API v1. Conventions and error codes: docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PlacementRoleEnum": "alliance.choices.PlacementRole",
        "MembershipRoleEnum": "members.choices.MembershipRole",
        "TeamRoleEnum": "members.choices.TeamRole",
        "ReferralStateEnum": "referrals.choices.ReferralState",
        # A referral's direction keeps DirectionEnum; an indicator's better direction is its own.
        "DirectionEnum": "referrals.choices.Direction",
        "IndicatorDirectionEnum": "assessment.models.Direction",
        # A slot's period keeps PeriodEnum; an indicator value's period (month, ytd) is its own.
        "PeriodEnum": "referrals.choices.SlotPeriod",
        "IndicatorPeriodEnum": "assessment.models.Period",
        "ScopeEnum": "assessment.models.Scope",
    },
}
# A JSON request body larger than this is refused with 413 (views may set their own cap).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=2 * 1024 * 1024)
# Idempotency-Key answers are replayed for this long (DESIGN.md §8).
IDEMPOTENCY_KEY_TTL_HOURS = 24

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

# --- Logging: plain lines on stderr; resident IDs never reach a log (core.logging filter) ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_resident_ids": {"()": "core.logging.MaskResidentIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_resident_ids"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Eager tasks (the embedded default, `make demo`) would print a "Task … succeeded" line
        # per task into the server's console; a real worker keeps its own --loglevel.
        **({"celery": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {}),
    },
}
