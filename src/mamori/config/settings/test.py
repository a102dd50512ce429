"""Tests: fast hashing, captured mail, and a private MAMORI_HOME for the whole test run.

pytest-django loads these settings before any conftest runs, so the home is chosen here, before
the base settings read it: never the user's data directory, nor the demo's (`make` exports
MAMORI_HOME=var/demo). Processes the tests start inherit it; the first process removes it at exit.
"""

import atexit
import os
import shutil
import tempfile

if "MAMORI_TEST_HOME" not in os.environ:
    os.environ["MAMORI_TEST_HOME"] = tempfile.mkdtemp(prefix="mamori-test-home-")
    atexit.register(shutil.rmtree, os.environ["MAMORI_TEST_HOME"], ignore_errors=True)
os.environ["MAMORI_HOME"] = os.environ["MAMORI_TEST_HOME"]

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed in tests only
# Repositories the tests create get a cheap scrypt key (N=1024, apps.backups.engine); the production
# settings never set this, so a real repository keeps restic's cost (tests/apps/backups/test_engine_kdf.py).
MAMORI_TEST_FAST_KDF = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = True
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# No collectstatic in tests: plain storage, and WhiteNoise finds files in the apps directly.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
