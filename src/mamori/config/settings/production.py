"""Production: PostgreSQL via DATABASE_URL, HTTPS-only cookies, hosts from the environment."""

import os

from .base import *  # noqa: F403

ALLOWED_HOSTS = [h for h in os.environ.get("MAMORI_ALLOWED_HOSTS", "").split(",") if h]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("MAMORI_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = 31536000
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# `mamori serve` behind the proxy on the same host (docs/deployment.md); "" when nothing proxies.
MAMORI_TRUSTED_PROXY = os.environ.get("MAMORI_TRUSTED_PROXY", "127.0.0.1")
