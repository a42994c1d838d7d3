"""HER2db settings, read from the environment.

Every variable is optional for local development. In production set at least
DEBUG=False, SECRET_KEY and ALLOWED_HOSTS (see the README). A malformed value
raises ImproperlyConfigured at start-up rather than being silently ignored.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default).strip()
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an integer, not {value!r}"
        ) from None


def envlist(name: str, default: str) -> list[str]:
    return [
        item.strip() for item in os.getenv(name, default).split(",") if item.strip()
    ]


DEBUG = envbool("DEBUG", "True")

SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "simple_history",
    # Before the curated apps: its permissions exist when groups are synced.
    "axes",
    "references",
    "therapies",
]

MIDDLEWARE = [
    # First, so that everything a request writes is one operation.
    "her2db.operations.OperationMiddleware",
    # A full or read-only database (503), a body too large (413): see faults.
    "her2db.faults.FaultMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "her2db.api.exceptions.JSONNotFoundMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Safe requests read from a replica (when there are any); marks writers.
    "her2db.replicas.ReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a locked-out login into the lockout answer (her2db.lockout).
    "axes.middleware.AxesMiddleware",
]

# Fixtures and dumps: times that read back as they were written.
SERIALIZATION_MODULES = {"json": "her2db.fixture_json"}

ROOT_URLCONF = "her2db.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "her2db" / "templates"],
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

WSGI_APPLICATION = "her2db.wsgi.application"

# DATABASE_URL unset: the embedded SQLite file in the checkout.
# postgres://user:password@host:port/name: PostgreSQL through psycopg 3.
DATABASE_URL = os.getenv("DATABASE_URL", "")
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                DATABASE_URL, conn_max_age=envint("CONN_MAX_AGE", "0")
            )
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
    if DATABASES["default"]["ENGINE"] not in (
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    ):
        raise ImproperlyConfigured(
            "DATABASE_URL must be a postgres:// or sqlite:// URL"
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    }

# SQLite reads its file through a memory map of up to SQLITE_MMAP_BYTES
# (default 1 GiB of address space, 0 turns it off) rather than a read() per
# page: looking rows up by key for a search's thousands of matches takes
# half the time (tests/bench/search.py).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _mmap = envint("SQLITE_MMAP_BYTES", str(2**30))
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        f"PRAGMA mmap_size={_mmap};"
    )

# Read replicas: DATABASE_REPLICA_URLS, comma-separated postgres:// URLs of
# streaming replicas of DATABASE_URL. Safe-method requests read from one of
# them; writes, and a writer's reads for REPLICA_PIN_SECONDS after a write,
# stay on the primary (her2db/replicas.py). Tests read the replica aliases
# through the test database itself (TEST MIRROR).
DATABASE_REPLICA_URLS = envlist("DATABASE_REPLICA_URLS", "")
REPLICA_PIN_SECONDS = envint("REPLICA_PIN_SECONDS", "10")
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    try:
        _replica = dj_database_url.parse(_url, conn_max_age=envint("CONN_MAX_AGE", "0"))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS is not usable: {exc}"
        ) from None
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS must name databases of DATABASE_URL's engine"
        )
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
DATABASE_ROUTERS = ["her2db.replicas.ReplicaRouter"] if DATABASE_REPLICA_URLS else []

# PostgreSQL, PG_PREPARE_THRESHOLD > 0: parameters bound by the server, and
# a statement run that many times on a connection prepared there (psycopg 3's
# prepare_threshold). Off by default (0: bound on the client, nothing
# prepared, as Django does and a pooler in transaction mode needs). On this
# machine, 5 read a record 0.1-1.0 ms sooner, but PostgreSQL's generic plans
# for prepared searches made the slowest slower: bench-search p95 rose from
# 136-194 ms to 212-307 ms (p50 unchanged). README, PostgreSQL.
PG_PREPARE_THRESHOLD = envint("PG_PREPARE_THRESHOLD", "0")
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql" and PG_PREPARE_THRESHOLD:
        _database.setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=PG_PREPARE_THRESHOLD
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache: CACHE_URL=redis://host:port/db for Redis (shared by every
# worker: the throttle's counts and the API's kept answers), unset for each
# process's own memory.
CACHE_URL = os.getenv("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
elif CACHE_URL:
    raise ImproperlyConfigured("CACHE_URL must be a redis:// URL, or unset")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }

# Login protection (django-axes, state in the database): after
# LOGIN_FAILURE_LIMIT failed logins for one username, or from one address,
# that username or address is locked out for LOGIN_LOCKOUT_MINUTES after its
# latest failure (each failure while locked starts the wait again). Both the
# admin's and the API's login (/api/auth/login/) are covered; editors unlock
# in the admin (Axes › Access attempts: delete the rows).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "her2db.api.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "her2db.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Attempts are kept; the access log of every login is not needed.
AXES_DISABLE_ACCESS_LOG = True

_PASSWORD = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_PASSWORD}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_PASSWORD}.MinimumLengthValidator"},
    {"NAME": f"{_PASSWORD}.CommonPasswordValidator"},
    {"NAME": f"{_PASSWORD}.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# ISO 8601 dates and times wherever a page shows one (her2db/formats/).
FORMAT_MODULE_PATH = ["her2db.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own: favicon, the public pages' stylesheet.
STATICFILES_DIRS = [BASE_DIR / "her2db" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Production hardening: on whenever DEBUG is off, each overridable.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(not DEBUG))
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", str(not DEBUG))
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", str(not DEBUG))
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", str(not DEBUG)
)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", str(not DEBUG))
if envbool("BEHIND_TLS_PROXY", "False"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response (django-csp): pages load only what
# HER2db itself serves. Scripts are files, never inline (Swagger UI's start-up
# script is served as a file of its own, see her2db/urls.py). Styles may be
# inline: Redoc and Swagger UI set them from their scripts, and the admin
# writes a few style attributes. Redoc builds its search worker from a blob.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# The API (/api/v1/): see the modules of her2db/api/ for what these classes add
# to DRF's.
REST_FRAMEWORK = {
    # Token first: its "Token" challenge is what a 401 advertises.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "her2db.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["her2db.api.permissions.ModelPermissions"],
    "DEFAULT_RENDERER_CLASSES": [
        "her2db.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "her2db.api.negotiation.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "her2db.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "her2db.api.filter_backends.FilterBackend",
        "her2db.api.filter_backends.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "her2db.api.pagination.PageNumberPagination",
    "PAGE_SIZE": envint("API_PAGE_SIZE", "50"),
    # Counted in the `default` cache (CACHES), shared by every worker.
    "DEFAULT_THROTTLE_CLASSES": [
        "her2db.api.throttling.AnonRateThrottle",
        "her2db.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.getenv("API_ANON_RATE", "120/minute"),
        "user": os.getenv("API_USER_RATE", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "her2db.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "her2db.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Repeat GETs answered from the cache, keyed by the data version
# (her2db/api/answers.py); False builds every answer (for measuring).
API_CACHE = envbool("API_CACHE", "True")
# How long a proxy or browser may keep an anonymous answer, in seconds.
API_CACHE_MAX_AGE = envint("API_CACHE_MAX_AGE", "60")


# Files uploaded in the admin (Import a file) wait here between preview and
# import: a folder of this instance's own, never shared with another. Those
# left longer than UPLOAD_MAX_AGE_HOURS are removed at the next upload and by
# `manage.py sweep_uploads` (run it from cron).
UPLOAD_DIR = Path(os.getenv("UPLOAD_DIR", "") or BASE_DIR / "uploads")
UPLOAD_MAX_AGE = envint("UPLOAD_MAX_AGE_HOURS", "24") * 3600


# Which X-Forwarded-For hops to believe for the client's address (throttling,
# login lockout): unset or 0, none (the connection's address); an integer N,
# N proxies in front of HER2db; or a comma-separated list of networks
# (10.0.0.0/8,192.168.1.7) whose addresses are proxies.
def trusted_proxies(name: str) -> int | list:
    value = os.getenv(name, "").strip()
    if not value or value.isdigit():
        return int(value or 0)
    try:
        return [ipaddress.ip_network(item, strict=False) for item in envlist(name, "")]
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a number of proxies or a comma-separated list of "
            f"networks, not {value!r}"
        ) from None


TRUSTED_PROXIES = trusted_proxies("TRUSTED_PROXIES")

# Largest page a client may ask for with ?page_size=.
API_MAX_PAGE_SIZE = envint("API_MAX_PAGE_SIZE", "200")

# API tokens (django-rest-knox): only a hash is stored; each expires.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=envint("API_TOKEN_DAYS", "90")),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "HER2db API",
    "DESCRIPTION": (
        "A curated knowledge base of HER2-positive breast cancer treatment and "
        "resistance: agents, targets, resistance mechanisms, trials, citations "
        "and the evidence tying them together. Anonymous clients read accepted "
        "evidence; writing needs a token (`Authorization: Token <key>`) and the "
        "model permission. Every list and detail response carries an `ETag`; "
        "send it back as `If-None-Match` (304 when unchanged) or as `If-Match` "
        "on PUT, PATCH and DELETE (412 when someone changed the record since)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Programs write JSON; the form parsers serve the browsable API's HTML
    # forms (where an empty field means "none"), so the schema offers JSON.
    "PARSER_WHITELIST": ["her2db.api.parsers.JSONParser"],
    "SCHEMA_PATH_PREFIX": "/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AgentStatusEnum": "therapies.models.Agent.Status",
        "TrialStatusEnum": "therapies.models.Trial.Status",
        "EvidenceStatusEnum": "therapies.models.Evidence.Status",
        "AgentTargetActionEnum": "therapies.models.AgentTarget.Action",
        "TrialPhaseEnum": "therapies.models.Trial.Phase",
        "TrialSettingEnum": "therapies.models.Trial.Setting",
        "TrialDateTypeEnum": "therapies.models.Trial.DateType",
        "MechanismCategoryEnum": "therapies.models.Mechanism.Category",
        "LevelEnum": "therapies.models.Evidence.Level",
    },
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
