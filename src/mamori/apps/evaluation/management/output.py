"""Writing a command's output file: an unwritable path is a one-line `CommandError`, not a traceback."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError


def write_output(path: Path, data: bytes) -> None:
    """Write `data` to `path`, naming the path and the reason when the system refuses."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"{path}: 書き込めません（{exc.strerror or exc}）") from None
