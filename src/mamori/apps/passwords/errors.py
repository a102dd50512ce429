"""The app's errors: an `ApplicationError` with a one-line message and a stable code."""

from __future__ import annotations

from mamori.apps.core.errors import ApplicationError


class PasswordsError(ApplicationError):
    """Raised by this app's services."""


class DirectoryError(PasswordsError):
    """A directory could not be reached, trusted, bound to or searched; `code` says which step."""
