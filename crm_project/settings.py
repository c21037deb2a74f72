"""Settings, read from the environment in this one place (12-factor).

With no variables set the app runs on SQLite, the local-memory cache, eager Celery
tasks and the console e-mail backend: a newcomer can try it with one command.
With DATABASE_URL and REDIS_URL set it is a production-shaped deployment.
"""

import datetime
import math
import os
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_number(
    name: str, default: float, *, minimum: float | None = None, maximum: float | None = None, whole: bool = True
):
    """A number from the environment (unset or empty: `default`), or a start-up error that names the variable
    and says what it must be, rather than Python's ValueError."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    kind = "a whole number" if whole else "a number"
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, not {raw!r}.") from None
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name} must be {kind}, not {raw!r}.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum:g}, not {raw!r}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum:g}, not {raw!r}.")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Third party
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    # Ours
    "audit",
    "contacts",
    "sales",
    "support",
    "surveys",
    "kpis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm_project.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditMiddleware",
    "crm_project.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a login refused for too many failures into a 429 (the page says why).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_project.urls"
WSGI_APPLICATION = "crm_project.wsgi.application"

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
            "builtins": ["crm_project.templatetags.crm"],
        },
    },
]

# Database: SQLite unless DATABASE_URL names another (PostgreSQL through psycopg 3).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_number("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# `make run` serves requests in threads: a write takes SQLite's lock when its transaction begins, and waits for
# it up to 20 s, rather than failing with "database is locked" when two writes meet; WAL lets pages read while a
# write (a KPI refresh, an import) goes on.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery broker: Redis when REDIS_URL is set, otherwise in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # A dead or hung Redis must not take staff pages down with it, nor slow each request down: short
            # timeouts, and after a failure the cache is not asked again for a few seconds (crm_project/cache.py).
            "BACKEND": "crm_project.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "crm",
            "OPTIONS": {
                "socket_connect_timeout": env_number("CACHE_TIMEOUT_SECONDS", 0.5, minimum=0.1, whole=False),
                "socket_timeout": env_number("CACHE_TIMEOUT_SECONDS", 0.5, minimum=0.1, whole=False),
                "down_retry_seconds": env_number("CACHE_DOWN_RETRY_SECONDS", 5, minimum=0.1, whole=False),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# KPI reads stay cached until a refresh or a target change starts a new generation of the cache. Without Redis
# the cache is each process's own, and a refresh run by another one (`manage.py refresh_kpis`) cannot reach it:
# the reads are then kept a few seconds only.
KPI_CACHE_SECONDS = env_number("KPI_CACHE_SECONDS", 3600 if REDIS_URL else 5, minimum=0)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Every task is safe to run twice (they claim their rows or upsert): a message is acknowledged once the task
# is done, and one whose worker died mid-task goes back to the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A dead broker fails a publish at once, a hung one in the socket timeout (above the worker's 1 s
# BRPOP wait); crm_project/outbox.py then stops trying for a while and the work waits in the database.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 3,
    "max_retries": 0,  # a publish that cannot connect fails at once (workers reconnect on their own terms)
    # A message taken by a worker that died is handed out again after this long: above the longest task.
    "visibility_timeout": env_number("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
}
# No task's return value is read (but the worker probe's): with results on, publishing a task with Redis down
# waits some 20 s for the result store before failing.
CELERY_TASK_IGNORE_RESULT = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_SOCKET_TIMEOUT = 10
# Work queued for later (survey e-mails, import jobs) is kept in the database first; what the broker did not
# take (Redis down) is handed to it again by a periodic dispatch once it is older than this.
OUTBOX_GRACE_SECONDS = env_number("OUTBOX_GRACE_SECONDS", 60, minimum=0)
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "UTC")
# KPIs: open periods (and whatever changed) are recomputed this often; all history nightly.
KPI_REFRESH_SECONDS = env_number("KPI_REFRESH_SECONDS", 300, minimum=1)
# ... the previous period with them for this many days after it ended (at least 1).
KPI_CLOSING_DAYS = env_number("KPI_CLOSING_DAYS", 1, minimum=1)
# The periodic refresh reads the per-day parts of the last few days from the records whatever the stale marks
# say (kpis.rollups); the days before from what the last refresh kept, unless a mark covers them.
KPI_SETTLED_DAYS = env_number("KPI_SETTLED_DAYS", 7, minimum=1)
# KPIs are computed for the periods of this many years back (from 1 January) to now; older records still count
# where a KPI looks back (a customer's first order). Bounds the work of a refresh whatever the oldest date.
KPI_HISTORY_YEARS = env_number("KPI_HISTORY_YEARS", 10, minimum=1)
# On PostgreSQL, a KPI refresh computes its KPIs in this many database sessions at once, a group of areas each
# (kpis.services.refresh_groups); 1: one after the other.
KPI_REFRESH_WORKERS = env_number("KPI_REFRESH_WORKERS", 2, minimum=1)
# PostgreSQL work_mem of the KPI refresh's session (its sorts and hashes stay in memory); e.g. "64MB".
KPI_REFRESH_WORK_MEM = os.environ.get("KPI_REFRESH_WORK_MEM", "64MB")
if not re.fullmatch(r"[0-9]+(kB|MB|GB)", KPI_REFRESH_WORK_MEM):
    raise ImproperlyConfigured("KPI_REFRESH_WORK_MEM must be a size such as 64MB.")
# CLV is multiplied by the gross margin (1.0 = revenue).
KPI_GROSS_MARGIN = env_number("KPI_GROSS_MARGIN", 1.0, whole=False, minimum=0, maximum=1)
CELERY_BEAT_SCHEDULE = {
    "close-resolved-tickets": {
        "task": "support.tasks.close_resolved_tickets",
        "schedule": crontab(minute=5),
    },
    "expire-due-subscriptions": {
        "task": "sales.tasks.expire_due_subscriptions",
        "schedule": crontab(hour=0, minute=15),
    },
    "refresh-open-kpis": {
        "task": "kpis.tasks.refresh_open_periods",
        "schedule": KPI_REFRESH_SECONDS,
    },
    "refresh-all-kpis": {
        "task": "kpis.tasks.refresh_all_history",
        "schedule": crontab(hour=2, minute=0),
    },
    "send-kpi-digest": {
        "task": "kpis.tasks.send_weekly_digest",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
    "dispatch-pending-work": {
        "task": "crm_project.tasks.dispatch_pending",
        "schedule": 60,
    },
    "clear-expired-sessions": {
        "task": "crm_project.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=30),
    },
}

# E-mail: EMAIL_URL-less; the usual Django settings, console backend by default.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_number("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The login throttle's backend comes first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "crm_project.login_throttle.LoginThrottleBackend",
    # Django's ModelBackend, reading a user's permissions and roles in one query.
    "crm_project.auth.AccessBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# Paths reachable without logging in; everything else requires a login.
# Views marked @login_not_required are public too (login, /health/, later the survey pages).
# The API and the admin answer for their own authentication (401 and the admin login).
LOGIN_EXEMPT_PATH_PREFIXES = ("/api/", "/admin/", "/static/")

LANGUAGE_CODE = "en-us"
# Dates and times typed in forms are taken in the ISO forms only (crm_project/formats/en/formats.py).
FORMAT_MODULE_PATH = ["crm_project.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

CRM_CURRENCY = os.environ.get("CRM_CURRENCY", "EUR")
# Posts of the public lead form allowed per client address (django-ratelimit syntax: "5/10m").
LEAD_FORM_RATE = os.environ.get("LEAD_FORM_RATE") or "5/10m"
# Sites that may show the public lead form in an iframe (CSP frame-ancestors), e.g. "https://www.example.com";
# "*": any site.
LEAD_FORM_FRAME_ANCESTORS = env_list("LEAD_FORM_FRAME_ANCESTORS", "*")

# Help desk: SLA hours are calendar hours unless a weekly schedule is given ("mon-fri 09:00-17:00").
SUPPORT_BUSINESS_HOURS = os.environ.get("SUPPORT_BUSINESS_HOURS", "")
SUPPORT_TIME_ZONE = os.environ.get("SUPPORT_TIME_ZONE", TIME_ZONE)
SUPPORT_AUTO_CLOSE_DAYS = env_number("SUPPORT_AUTO_CLOSE_DAYS", 7, minimum=0)

# Surveys: links in e-mails are absolute, so the public address of the app is needed.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
SURVEY_LINK_DAYS = env_number("SURVEY_LINK_DAYS", 30, minimum=1)  # a link expires after this many days
SURVEY_QUIET_DAYS = env_number("SURVEY_QUIET_DAYS", 90, minimum=0)  # do not ask the same contact more often
SURVEY_SEND_BATCH = env_number("SURVEY_SEND_BATCH", 200, minimum=1)  # e-mails per Celery task
SURVEY_PAGE_RATE = os.environ.get("SURVEY_PAGE_RATE", "60/m")  # requests per client address on /s/
SURVEY_BAD_TOKEN_RATE = os.environ.get("SURVEY_BAD_TOKEN_RATE", "10/m")  # unknown links per client address

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm (package-lock.json) and are served from our own origin.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate challenge makes an unauthenticated call a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm_project.permissions.ModelPermissions"],
    # The FilterSets of the pages do search (?q=) and ordering (?ordering=) for the API too.
    "DEFAULT_FILTER_BACKENDS": ["crm_project.api_input.StrictFilterBackend"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "crm_project.api_input.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "crm_project.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "crm_project.schema.CrmAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Requests per user (anonymous ones: per address) and per client address, whoever sends them.
    "DEFAULT_THROTTLE_CLASSES": ["crm_project.throttles.UserThrottle", "crm_project.throttles.AddressThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_RATE_USER") or "300/minute",
        "address": os.environ.get("API_RATE_ADDRESS") or "600/minute",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Records and KPIs of the CRM. Session or token authentication.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI are for staff and integrations: anonymous callers get 401 like the rest of the API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The API reads forms too, but documents (and so its clients and fuzz tests send) JSON.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "ENUM_NAME_OVERRIDES": {
        "InteractionKindEnum": "contacts.models.Interaction.Kind",
        "DealKindEnum": "sales.models.Deal.Kind",
        "DealStatusEnum": "sales.models.Deal.Status",
        "LeadStatusEnum": "sales.models.Lead.Status",
        "SurveyKindEnum": "surveys.models.SurveyKind",
        "TicketStatusEnum": "support.models.Ticket.Status",
    },
}

# Security settings that hold in production; DEBUG relaxes the HTTPS-only ones.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Cookies: HTTPS only in production, out of reach of scripts (pages hand the CSRF token to htmx
# themselves), and not sent along with cross-site requests other than top-level links.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# Sessions live in the database; with Redis they are read from the cache (no query per request). Never from a
# per-process cache: a logout in one process would not reach the copy another process holds.
SESSION_ENGINE = "crm_project.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours stand in front of the app, each appending to X-Forwarded-For; the client's
# address is the one the farthest of them saw (crm_project.client_address). 0: REMOTE_ADDR, the header ignored.
TRUSTED_PROXY_COUNT = env_number("TRUSTED_PROXY_COUNT", 0, minimum=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# django-ratelimit (the public pages) counts by the same address.
RATELIMIT_IP_META_KEY = "crm_project.client_address.client_address"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no inline
# script, style or event handler, no eval; nothing may frame the app. Bootstrap's CSS draws its icons
# from data: URLs. Charts (Chart.js) and htmx come from our static files too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Login throttling (django-axes, counted in the database so that it holds while Redis is down):
# LOGIN_FAILURE_LIMIT failures for one username from one client address lock that pair for
# LOGIN_LOCKOUT_MINUTES (each failure within that time of the one before); the same user elsewhere is
# not locked. An address with LOGIN_FAILURES_PER_ADDRESS failures over any usernames is locked as a whole.
LOGIN_FAILURE_LIMIT = env_number("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_number("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
LOGIN_FAILURES_PER_ADDRESS = env_number("LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1)
AXES_HANDLER = "crm_project.login_throttle.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lock lasts its time from the failure that set it
AXES_RESET_ON_SUCCESS = True  # a user who got in starts again from zero
AXES_CLIENT_IP_CALLABLE = "crm_project.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "crm_project.login_throttle.lockout_response"
AXES_VERBOSE = False  # no banner on every start-up

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# CSV import page: the largest file accepted, in megabytes (the command line has no limit).
IMPORT_MAX_UPLOAD_MB = env_number("IMPORT_MAX_UPLOAD_MB", 50, minimum=1)
# Requests with a larger body are refused (413) before it is read: the import page's files and room for the form.
MAX_REQUEST_BODY_MB = env_number("MAX_REQUEST_BODY_MB", IMPORT_MAX_UPLOAD_MB + 1, minimum=1)
