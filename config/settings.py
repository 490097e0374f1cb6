"""
Settings for annotate.

Everything that differs between a laptop and a server is read from the
environment; docs/deploy.md lists every variable. The defaults give a working
laptop install: DEBUG on, SQLite in the project folder, email on the console.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value; use one of 1, true, yes, on, 0, false, no, off."
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(sorted(choices))}.")
    return value


def database_config(url: str | None) -> dict:
    """SQLite in the project folder when `url` is empty, else what the URL says."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
        }
    scheme = url.split("://", 1)[0].lower()
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL uses {scheme!r}; annotate supports postgres://… and sqlite:///…"
        )
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = SQLITE_OPTIONS
        config["CONN_MAX_AGE"] = 0
    return config


# SQLite serves several gunicorn workers on a laptop: WAL lets readers run
# beside the writer, the busy timeout queues writers instead of failing, and
# IMMEDIATE transactions take the write lock up front so that two writers can
# never deadlock halfway through a transaction ("database is locked").
SQLITE_OPTIONS = {
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=20000;"
    ),
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off, annotate refuses to start "
            "without a secret key: set DJANGO_SECRET_KEY to a long random string, e.g. the "
            'output of: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    SECRET_KEY = "django-insecure-laptop-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# Where the site is served, for links in email: SITE_URL on a server (e.g.
# https://annotate.school.edu); on a laptop, 127.0.0.1 and the PORT that
# `make run` serves (annotate/site.py).
SITE_URL = os.environ.get("SITE_URL", "").strip().rstrip("/")
if SITE_URL and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"SITE_URL={SITE_URL!r} must be a full address, e.g. https://annotate.school.edu"
    )
PORT = env_int("PORT", 8000, minimum=1)
# Without SITE_URL, a laptop's emails link to the server `make run` starts.
LAPTOP_URL = f"http://127.0.0.1:{PORT}" if DEBUG else ""

INSTALLED_APPS = [
    # Before the site's app, so that the site's admin can replace its registration admin.
    "lti_tool",
    "annotate",
    "annotate.apps.AnnotateAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    *[f"allauth.socialaccount.providers.{name}" for name in env_list("SOCIAL_PROVIDERS", [])],
    "django_tasks_db",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the session and CSRF middleware, to see the cookies they set (annotate/lti/).
    "annotate.lti.framing.FramedCookiesMiddleware",
    "annotate.errors.DatabaseAwayMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Inside the CSP and X-Frame-Options middleware, to tell them which LMS may frame a page.
    "annotate.lti.framing.FrameAncestorsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": database_config(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = os.environ.get("REDIS_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Background work. On a laptop each task runs right after it is enqueued; a
# server runs `manage.py db_worker` beside gunicorn with DJANGO_TASKS=database.
TASKS_BACKEND = env_choice("DJANGO_TASKS", "immediate", {"immediate", "database"})
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django.tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
        }[TASKS_BACKEND]
    }
}

AUTH_USER_MODEL = "annotate.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Accounts (django-allauth): people sign in with their email address and are
# shown everywhere by the display name they choose at sign-up.
ACCOUNT_ADAPTER = "annotate.accounts.AccountAdapter"
ACCOUNT_FORMS = {"signup": "annotate.accounts.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION",
    "optional" if DEBUG else "mandatory",
    {"mandatory", "optional", "none"},
)
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# The hidden field only bots fill in: on the sign-up form and on every post
# form (annotate.forms.PostForm), and named so to Akismet.
ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD = "website"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[annotate] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's rate limits (login failures, sign-ups, password resets, email
# confirmations) stay on with its defaults; on several app servers they need
# the shared cache that REDIS_URL provides.
# Who may create an account: anyone (open), only people holding a class's join
# link (invite), or people with an address at one of SIGNUP_EMAIL_DOMAINS.
SIGNUP_MODE = env_choice("SIGNUP_MODE", "open", {"open", "invite", "domains"})
SIGNUP_EMAIL_DOMAINS = [d.lower().lstrip("@") for d in env_list("SIGNUP_EMAIL_DOMAINS", [])]
if SIGNUP_MODE == "domains" and not SIGNUP_EMAIL_DOMAINS:
    raise ImproperlyConfigured(
        "SIGNUP_MODE=domains needs SIGNUP_EMAIL_DOMAINS, e.g. SIGNUP_EMAIL_DOMAINS=school.edu"
    )
# People with a confirmed address at one of these domains may make themselves
# teachers (docs/teaching.md); everyone else becomes one by invitation.
TEACHER_EMAIL_DOMAINS = [d.lower().lstrip("@") for d in env_list("TEACHER_EMAIL_DOMAINS", [])]

# The largest file a teacher may upload as a reading (annotate/readings.py).
READING_UPLOAD_MAX_BYTES = env_int("READING_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
# Django counts a request's form fields (not its files) against this, and
# answers 400 before any form can speak. A reading's text, pasted or checked
# before saving, is one field: 8 MB holds the longest text conversion makes
# (5 million characters) in plain Latin script, and still refuses the
# 10 MB bodies that hostile input sends to every other form. Files are not
# counted: they stream to disk past FILE_UPLOAD_MAX_MEMORY_SIZE, and the
# upload form refuses one over READING_UPLOAD_MAX_BYTES in words.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024
SOCIALACCOUNT_ADAPTER = "annotate.accounts.SocialAccountAdapter"
SOCIALACCOUNT_FORMS = {"signup": "annotate.accounts.SocialSignupForm"}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True

# Email: the console on a laptop, SMTP when EMAIL_HOST is set or DEBUG is off.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    _use_tls = env_bool("EMAIL_USE_TLS", True)
    _use_ssl = env_bool("EMAIL_USE_SSL", False)
    if _use_tls and _use_ssl:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS and EMAIL_USE_SSL are both on; set at most one of them."
        )
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 465 if _use_ssl else 587, minimum=1),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": _use_tls,
                "use_ssl": _use_ssl,
                "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1),
            },
        }
    }
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    # A server without EMAIL_HOST hands mail to its own relay on localhost:25
    # (Django's default): printing confirmation links to the console would
    # leave nobody able to confirm an account.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "localhost", "timeout": env_int("EMAIL_TIMEOUT", 10, minimum=1)},
        }
    }
del EMAIL_HOST
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "annotate <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Launches from a school's LMS over LTI 1.3 (annotate/lti/, docs/lms.md). The
# state and nonce of a launch live in the cache: several app servers need the
# shared one that REDIS_URL provides. The leeway forgives the clocks of the
# LMS and this server for disagreeing by that many seconds.
LTI_CLOCK_LEEWAY = env_int("LTI_CLOCK_LEEWAY", 60)
# How long the tool's previous key stays in its JWKS after `rotate_lti_keys`,
# for the LMSs that cache the JWKS.
LTI_KEY_OVERLAP_DAYS = env_int("LTI_KEY_OVERLAP_DAYS", 7)

# Spam filtering with Akismet. Without a key, filtering is off (a system check
# and the admin say so) and posts follow the moderation rules alone.
AKISMET_API_KEY = os.environ.get("AKISMET_API_KEY", "")
AKISMET_SITE_URL = os.environ.get("AKISMET_SITE_URL", "").strip().rstrip("/")
# Empty: Akismet's own service. Set for a local stand-in (load and fault tests).
AKISMET_API_URL = os.environ.get("AKISMET_API_URL", "").strip()
AKISMET_TIMEOUT = env_float("AKISMET_TIMEOUT", 3.0, minimum=0.1)
AKISMET_IS_TEST = env_bool("AKISMET_IS_TEST", DEBUG)
# The header a trusted reverse proxy puts the reader's address in, as Django
# names it (e.g. HTTP_X_FORWARDED_FOR); unset means REMOTE_ADDR.
AKISMET_TRUSTED_IP_HEADER = os.environ.get("AKISMET_TRUSTED_IP_HEADER", "")
if AKISMET_API_URL and not AKISMET_API_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"AKISMET_API_URL={AKISMET_API_URL!r} must start with http(s)://.")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security headers. The Content-Security-Policy forbids inline scripts and
# styles everywhere: every script and stylesheet is a file under static/.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Behind a TLS-terminating proxy the app sees plain HTTP; the proxy's header
# says what the browser used. Only set this when the proxy always sets it.
if proxy_header := os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (proxy_header, "https")

HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per task state change is noise; failures are still logged.
        "django.tasks": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}
