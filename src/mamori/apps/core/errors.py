"""Application errors: services raise them, one place turns them into a response or a CLI line.

`ApplicationError(message, code=..., extra=..., http_status=...)` carries a translatable message and
machine-readable fields, so views show the message and tests assert the code.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that cannot be carried out as asked (bad input, conflicting state)."""

    def __init__(
        self,
        message: Any,
        *,
        code: str = "invalid",
        extra: dict[str, Any] | None = None,
        http_status: int = 400,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.extra = extra or {}
        self.http_status = http_status

    def __str__(self) -> str:
        return str(self.message)
