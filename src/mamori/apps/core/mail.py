"""Outgoing mail: Django's SMTP backend, verifying the server against a city's own CA when given.

Django verifies the server certificate against the system's CAs only; a mail server inside the
LGWAN usually has a certificate from the city's own CA, named by `MAMORI_SMTP_CA_FILE`.
"""

from __future__ import annotations

import ssl
from functools import cached_property

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend


class SmtpBackend(EmailBackend):
    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=settings.MAMORI_SMTP_CA_FILE or None)
        if self.ssl_certfile or self.ssl_keyfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context
