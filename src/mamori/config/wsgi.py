"""The WSGI application, for a WSGI server other than `mamori serve` (which goes through the CLI)."""

import os

from django.core.wsgi import get_wsgi_application

os.umask(0o077)  # as `mamori.cli.main`: what mamori creates is private to the service user
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mamori.config.settings.local")
application = get_wsgi_application()
