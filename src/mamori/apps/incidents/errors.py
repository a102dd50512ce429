"""The incidents app's error: a one-line message, a stable code, nothing saved."""

from __future__ import annotations

from mamori.apps.core.errors import ApplicationError


class IncidentError(ApplicationError):
    """Raised by the incident services; views show the message on the form it came from."""
