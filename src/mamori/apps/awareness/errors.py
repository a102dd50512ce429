"""The awareness app's error: a one-line message, a stable code, nothing saved."""

from __future__ import annotations

from mamori.apps.core.errors import ApplicationError


class AwarenessError(ApplicationError):
    """Raised by the awareness services; views show the message where the request came from."""
