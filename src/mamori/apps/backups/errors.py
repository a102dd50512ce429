"""The app's error: a one-line message a person can act on, and a stable code for tests and JSON."""

from __future__ import annotations


class BackupError(Exception):
    """Raised by services and the engine adapter; views show `message`, never a traceback."""

    def __init__(self, message: str, *, code: str = "error", http_status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status

    def __str__(self) -> str:
        return self.message
