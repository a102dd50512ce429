"""Tests: fast hashing, captured mail, and a private MAMORI_HOME for the whole test run.

pytest-django loads these settings before any conftest runs, so the home is chosen here, before
the base settings read it: never the user's data directory, nor the demo's (`make` exports
MAMORI_HOME=var/demo). Processes the tests start inherit it; the first process removes it at exit.
Each pytest-xdist worker (`make test` runs two) gets a home of its own inside it, so two demos or
two repositories of the same name never meet.
"""

import atexit
import os
import shutil
import tempfile

if "MAMORI_TEST_HOME" not in os.environ:
    os.environ["MAMORI_TEST_HOME"] = tempfile.mkdtemp(prefix="mamori-test-home-")
    atexit.register(shutil.rmtree, os.environ["MAMORI_TEST_HOME"], ignore_errors=True)
_home = os.environ["MAMORI_TEST_HOME"]
if _worker := os.environ.get("PYTEST_XDIST_WORKER"):
    _home = os.path.join(_home, _worker)
    os.makedirs(_home, mode=0o700, exist_ok=True)
os.environ["MAMORI_HOME"] = _home

from .base import *  # noqa: E402, F403 - after choosing the home, which base reads

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
