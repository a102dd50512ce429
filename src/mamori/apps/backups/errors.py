"""The app's error: a one-line message a person can act on, and a stable code for tests and JSON."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise

from mamori.apps.core.messages import Message, message_json


class BackupError(Exception):
    """Raised by services and the engine adapter; views show `message`, never a traceback.

    A run keeps `stored` (the msgid and parameters of a `Message` or lazy text), so its reader sees
    the error in their own language, not the worker's."""

    def __init__(self, message: object, *, code: str = "error", http_status: int = 400) -> None:
        super().__init__(message)
        self.message = str(message)  # a lazy translation is resolved here
        self.stored: Any = message_json(message) if isinstance(message, Message | Promise) else self.message
        self.code = code
        self.http_status = http_status

    def __str__(self) -> str:
        return self.message
