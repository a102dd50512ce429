"""The devices app's error: a one-line message, a stable code, nothing saved."""

from __future__ import annotations

from mamori.apps.core.errors import ApplicationError


class DeviceError(ApplicationError):
    """Raised by the devices services; views show the message on the form it came from."""
