"""Errors of the evaluation app: one root, a stable code and a one-line translatable message."""

from __future__ import annotations

from mamori.apps.core.errors import ApplicationError


class EvaluationError(ApplicationError):
    """A refused evaluation write or an impossible sheet; nothing was saved."""
