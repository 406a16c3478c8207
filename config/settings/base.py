"""Settings shared by every way Linli runs. Everything that differs between deployments comes from
environment variables; the defaults run the embedded setup (SQLite, in-process broker) with nothing
to configure."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_from_file(name: str, path: Path, length: int = 50) -> str:
    """Read a secret from the environment, or from a file in var/ generated on first run (never
    committed: var/ is ignored). Production sets the environment variable."""
    value = os.environ.get(name)
    if value:
        return value
    if path.exists():
        return path.read_text().strip()
    import secrets

    value = secrets.token_urlsafe(length)
    path.write_text(value)
    path.chmod(0o600)
    return value


SECRET_KEY = _secret_from_file("DJANGO_SECRET_KEY", VAR_DIR / "secret_key")
# Key for sensitive personal fields (ID numbers, phones): 32 bytes, urlsafe base64. Several keys may be
# given comma-separated; the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEYS = env_list(
    "LINLI_FIELD_KEYS", _secret_from_file("LINLI_FIELD_KEYS", VAR_DIR / "field_keys", 32)
)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "ninja",  # its Swagger UI files are served from our static files, not a CDN
    # core: places, people, organisations, accounts, audit
    "linli.core.audit",
    "linli.core.accounts",
    "linli.core.places",
    "linli.core.orgs",
    "linli.core.people",
    "linli.core.scheduling",
    "linli.core.notifications",
    "linli.core.webhooks",
    "linli.core.apikeys",
    # domain modules
    "linli.domains.appeals",
    "linli.domains.appeals.stats",
    "linli.domains.triage",
    # faces that combine the modules
    "linli.faces.web",
    "linli.faces.api",
    "linli.faces.feeds",
    "linli.faces.open311",
    "linli.faces.dashboard",
    "linli.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.faces.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "linli.faces.web.context.interface",
            ],
        },
    },
]

# Each server thread keeps its database connection (checked before reuse): opening one costs a
# new PostgreSQL backend and its catalogue reads, and with an age limit every thread of a busy
# server reopens its connection at about the same moment. DATABASE_CONN_MAX_AGE (seconds) sets one.
_conn_max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'linli.sqlite3'}"),
        conn_max_age=int(_conn_max_age) if _conn_max_age else None,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process and the task worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# Lockout after repeated failed staff sign-ins (django-axes): by username and by address.
AXES_FAILURE_LIMIT = int(os.environ.get("LINLI_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LINLI_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "linli.core.accounts.views.lockout_response"

# One-time sign-in codes for residents.
LINLI_OTP_TTL_SECONDS = 300
LINLI_OTP_MAX_ATTEMPTS = 5
LINLI_SMS_BACKEND = os.environ.get("LINLI_SMS_BACKEND", "linli.core.accounts.sms.LogSmsBackend")
RATELIMIT_VIEW = "linli.core.accounts.views.ratelimited"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: nothing inline, nothing from elsewhere, except an optional tile server.
LINLI_TILE_URL = os.environ.get("LINLI_TILE_URL", "")  # e.g. a Tianditu WMTS template; empty = no tiles
_tile_origin = []
if LINLI_TILE_URL:
    from urllib.parse import urlsplit

    _parts = urlsplit(LINLI_TILE_URL.replace("{s}", "t0"))
    _tile_origin = [f"{_parts.scheme}://{_parts.netloc}"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_tile_origin],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "linli" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("LINLI_MEDIA_ROOT", VAR_DIR / "media"))

# A cache shared by every process: sign-in rate limits, the TOTP enrolment secret and the geography
# version live here. One machine: files under var/; several machines: Redis (LINLI_CACHE_URL).
LINLI_CACHE_URL = os.environ.get("LINLI_CACHE_URL", "")
if LINLI_CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": LINLI_CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Per process, for reads on every partner request that change rarely (an API key, a service): kept
# for LINLI_PROCESS_CACHE_SECONDS, dropped at once in the process that changes them.
CACHES["process"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "linli-process"}
LINLI_PROCESS_CACHE_SECONDS = int(os.environ.get("LINLI_PROCESS_CACHE_SECONDS", "30"))

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Periodic work enqueued by `manage.py scheduler`: (dotted task path, crontab in TIME_ZONE).
LINLI_PERIODIC_TASKS: list[tuple[str, str]] = [
    ("linli.domains.appeals.tasks.appeal_deadline_scan", "*/5 * * * *"),
    ("linli.core.webhooks.tasks.webhook_sweep", "* * * * *"),
    ("linli.faces.open311.tasks.open311_pending_sweep", "*/5 * * * *"),
    ("linli.domains.triage.tasks.triage_corrections_sweep", "*/10 * * * *"),
    ("linli.faces.dashboard.tasks.dashboard_weekly_reports", "0 7 * * 1"),
    ("linli.faces.dashboard.tasks.dashboard_monthly_reports", "0 7 1 * *"),
    ("linli.domains.appeals.stats.tasks.appeal_stats_refresh", "* * * * *"),
    ("linli.faces.dashboard.tasks.dashboard_public_warm", "* * * * *"),
]

# The SSRF guard (linli.core.webhooks.outbound) lets the server reach only public addresses; these
# hosts, addresses or networks are let through too (a partner on the intranet), comma-separated.
LINLI_OUTBOUND_ALLOW_HOSTS = [
    h.strip() for h in os.environ.get("LINLI_OUTBOUND_ALLOW_HOSTS", "").split(",") if h.strip()
]

# Smart triage (linli.domains.triage): the active model suggests the category and, through the routing
# rules, the unit; without an active model the suggester is the rules alone.
# While intakes keep arriving, the intake batch sleeps this many times as long as each chunk took
# (at most a second) so a surge is answered first; 0 never sleeps (linli.domains.appeals.intake).
LINLI_APPEALS_INTAKE_YIELD = float(os.environ.get("LINLI_APPEALS_INTAKE_YIELD", "1"))
LINLI_APPEALS_ROUTE_SUGGESTER = "linli.domains.triage.suggest.suggest_route"
LINLI_TRIAGE_CV_FOLDS = int(os.environ.get("LINLI_TRIAGE_CV_FOLDS", "5"))
LINLI_TRIAGE_MIN_PER_CLASS = int(os.environ.get("LINLI_TRIAGE_MIN_PER_CLASS", "8"))  # else first level
LINLI_TRIAGE_CORRECTION_WEIGHT = int(os.environ.get("LINLI_TRIAGE_CORRECTION_WEIGHT", "3"))
# Characters of an appeal's body the classifier reads (0: all); e.g. 400 bounds the slowest
# predictions (about 0.7 ms per 100 characters) for about 0.003 of macro-F1 (docs/triage.md).
LINLI_TRIAGE_BODY_MAX_CHARS = int(os.environ.get("LINLI_TRIAGE_BODY_MAX_CHARS", "0"))
# A process with a model keeps answering with it while it loads a newly activated version (suggest.py).
LINLI_TRIAGE_SWITCH_IN_BACKGROUND = True

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINLI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# The district this deployment serves (administrative division code, GB/T 2260).
LINLI_DISTRICT_CODE = os.environ.get("LINLI_DISTRICT_CODE", "510106")
