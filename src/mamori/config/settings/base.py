"""Shared settings. Secrets and integrations come only from the environment or MAMORI_HOME."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
import platformdirs
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent  # src/mamori


def _home() -> Path:
    home = Path(os.environ.get("MAMORI_HOME") or platformdirs.user_data_dir("mamori")).resolve()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


MAMORI_HOME = _home()
MEDIA_ROOT = MAMORI_HOME / "uploads"


def _home_secret(variable: str, filename: str) -> str:
    """From the environment variable, else a random key generated once and kept (mode 600) in
    MAMORI_HOME: a secret that must not live in the database it protects."""
    if key := os.environ.get(variable):
        return key
    path = MAMORI_HOME / filename
    if not path.exists():
        # Written whole under a private name, then linked into place: two processes starting at
        # once agree on one key, and nobody reads a half-written file.
        fd, tmp = tempfile.mkstemp(dir=MAMORI_HOME, prefix=f".{filename}.")
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        os.unlink(tmp)
    return path.read_text().strip()


# The reverse proxy's address, whose X-Forwarded-Proto / -For `mamori serve` believes (production).
MAMORI_TRUSTED_PROXY = os.environ.get("MAMORI_TRUSTED_PROXY", "")
SECRET_KEY = _home_secret("MAMORI_SECRET_KEY", "secret_key")
# The audit chain's HMAC key (`mamori.apps.core.audit`): whoever can write the database but not
# read this key cannot rewrite the log unseen. Checkpoints of the chain head go next to it.
MAMORI_AUDIT_KEY = _home_secret("MAMORI_AUDIT_KEY", "audit_key")
MAMORI_AUDIT_CHECKPOINT_DIR = MAMORI_HOME / "audit-checkpoints"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "mamori.apps.core",
    "mamori.apps.evaluation",
    "mamori.apps.backups",
    "mamori.apps.passwords",
    "mamori.apps.disposal",
    "mamori.apps.incidents",
    "mamori.apps.devices",
    "mamori.apps.training",
    "mamori.apps.awareness",
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
    "mamori.apps.core.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mamori.config.urls"
WSGI_APPLICATION = "mamori.config.wsgi.application"

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
                "mamori.apps.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{MAMORI_HOME / 'mamori.sqlite3'}", conn_max_age=60)
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process read while the worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "mamori.apps.passwords.signin.DirectoryBackend",  # staff sign in with directory credentials
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "mamori.apps.passwords.validators.BreachedPasswordValidator"},  # common + leaked lists
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# The lifetime of a first-password link (its only user: a staff login's invitation mail).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("MAMORI_PASSWORD_LINK_HOURS", "72")) * 3600
# Where people reach the web UI: links in mails (first password, acknowledgements) start with it.
MAMORI_BASE_URL = os.environ.get("MAMORI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# How long an awareness campaign's personal acknowledgement link works (a reminder sends a fresh one).
MAMORI_ACK_LINK_DAYS = int(os.environ.get("MAMORI_ACK_LINK_DAYS", "30"))

# Lockout after repeated failures (django-axes): 5 failures per user+IP lock for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"

# Cookies: never readable by scripts, same-site only; `Secure` when served over HTTPS
# (production, or MAMORI_SECURE_COOKIES=1 behind a TLS proxy). The embedded server speaks plain
# HTTP on 127.0.0.1, where a Secure cookie would never be sent back.
_secure_cookies = os.environ.get("MAMORI_SECURE_COOKIES", "0") == "1"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _secure_cookies
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "mamori_session"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = _secure_cookies
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "mamori_csrftoken"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = MAMORI_HOME / "static"
# WhiteNoise serves the collected files (`mamori serve` runs collectstatic) with DEBUG=False,
# compressed and with far-future caching, so no separate web server is needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "mamori.apps.core.storage.StaticStorage"},
}
MEDIA_URL = "media/"
# Django chmods every stored file to 0644 whatever the umask: uploads (certificates of disposal,
# imports) and collected static files stay private to the service user like the rest of MAMORI_HOME.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Database-backed task queue: the django.tasks API (Django 6) through its backport.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# SMTP: (use STARTTLS, use implicit TLS, default port) per MAMORI_SMTP_SECURITY.
SMTP_SECURITY = {"none": (False, False, 25), "starttls": (True, False, 587), "tls": (False, True, 465)}


def smtp_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The mail settings from the environment (docs/deployment.md); one clear error if inconsistent."""
    security = environ.get("MAMORI_SMTP_SECURITY", "none").strip().lower()
    if security not in SMTP_SECURITY:
        raise ImproperlyConfigured(f"MAMORI_SMTP_SECURITY={security!r}: use none, starttls or tls")
    use_tls, use_ssl, port = SMTP_SECURITY[security]
    user = environ.get("MAMORI_SMTP_USER", "")
    if user and security == "none":
        raise ImproperlyConfigured(
            "MAMORI_SMTP_USER needs MAMORI_SMTP_SECURITY=starttls or tls (a password is never sent in clear)"
        )
    password = environ.get("MAMORI_SMTP_PASSWORD", "")
    if not password and (password_file := environ.get("MAMORI_SMTP_PASSWORD_FILE")):
        password = Path(password_file).read_text().strip()
    return {
        "EMAIL_BACKEND": "mamori.apps.core.mail.SmtpBackend",
        "EMAIL_HOST": environ.get("MAMORI_SMTP_HOST", "127.0.0.1"),
        "EMAIL_PORT": int(environ.get("MAMORI_SMTP_PORT") or port),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_HOST_USER": user,
        "EMAIL_HOST_PASSWORD": password,
        "EMAIL_TIMEOUT": 30,
        "MAMORI_SMTP_CA_FILE": environ.get("MAMORI_SMTP_CA_FILE", ""),
    }


globals().update(smtp_settings(os.environ))  # EMAIL_* and MAMORI_SMTP_CA_FILE
DEFAULT_FROM_EMAIL = os.environ.get("MAMORI_MAIL_FROM", "mamori@localhost")
MAMORI_ALERT_EMAILS = [a for a in os.environ.get("MAMORI_ALERT_EMAILS", "").split(",") if a]
# Backups: a run waits this long for a repository another job holds; a lock older than this is stale.
# A restore (a drill's scratch folder in MAMORI_HOME, a web restore, a self-backup check) stops
# before its target's file system has less than these shares of its space and inodes free: a
# snapshot written to harm can expand without end (one subtree named twice per level).
MAMORI_RESTORE_KEEP_FREE_PERCENT = float(os.environ.get("MAMORI_RESTORE_KEEP_FREE_PERCENT", "5"))
MAMORI_RESTORE_KEEP_FREE_INODES_PERCENT = float(
    os.environ.get("MAMORI_RESTORE_KEEP_FREE_INODES_PERCENT", "5")
)
# A drill first walks each snapshot it drills: more entries than this (files, folders, links) stop
# it red, so trees written to harm (2^31 folders from 31 trees) cannot keep it walking for days.
MAMORI_DRILL_MAX_ENTRIES = int(os.environ.get("MAMORI_DRILL_MAX_ENTRIES", "10000000"))
MAMORI_LOCK_WAIT_SECONDS = int(os.environ.get("MAMORI_LOCK_WAIT_SECONDS", "600"))
MAMORI_LOCK_STALE_HOURS = 24
# A scheduled run started later than this after its due time is reported as missed / late.
MAMORI_MISSED_GRACE_MINUTES = 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "client_errors": {"()": "mamori.apps.core.request_log.ClientErrorsOnOneLine"},
        "redact": {"()": "mamori.apps.core.redaction.RedactingFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "mamori": {"level": "INFO"},
        # a refused request (403, 404, 400) is one line, not a traceback
        "django.request": {"level": "WARNING", "filters": ["client_errors"]},
    },
}
