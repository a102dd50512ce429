"""The training app's error: a one-line message, a stable code, nothing saved."""

from __future__ import annotations

from mamori.apps.core.errors import ApplicationError


class TrainingError(ApplicationError):
    """Raised by the training services; views show the message where the request came from."""
