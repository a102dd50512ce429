"""Errors of the evaluation app: one root, a stable code and a one-line translatable message."""

from __future__ import annotations

from typing import Any


class EvaluationError(Exception):
    """A refused evaluation write or an impossible sheet; nothing was saved."""

    def __init__(
        self, message: str, *, code: str, extra: dict[str, Any] | None = None, http_status: int = 400
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
        self.http_status = http_status

    def __str__(self) -> str:
        return str(self.message)
