"""The files other apps let `mamori import` read: a registry filled in each app's `AppConfig.ready()`,
so core's command offers them without importing the apps (core imports no other app).

    import_command_register(ImportCommand("devices-inventory", "...", run=inventory_from_file))

`run(path=..., actor=..., report=...)` imports the file all or nothing, calling `report(done, total,
message)` as it goes, and returns an `ImportOutcome`; a file it refuses as a whole (unreadable, of
no known format, too large) is an `ApplicationError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class Report(Protocol):
    def __call__(self, done: int, total: int, message: str = "") -> None: ...


@dataclass(frozen=True)
class ImportOutcome:
    ok: bool  # False: nothing was imported
    summary: str  # one line: what was imported, or why nothing was
    errors: list[str] = field(default_factory=list)  # line-numbered, at most a page of them
    error_count: int = 0
    notes: list[str] = field(default_factory=list)  # what the reader left out, one line each


class Run(Protocol):
    def __call__(self, *, path: Path, actor: str, report: Report) -> ImportOutcome: ...


@dataclass(frozen=True)
class ImportCommand:
    name: str  # `mamori import <name> FILE`
    help: str
    run: Run


_commands: dict[str, ImportCommand] = {}


def import_command_register(command: ImportCommand) -> None:
    _commands[command.name] = command


def import_commands() -> list[ImportCommand]:
    return sorted(_commands.values(), key=lambda c: c.name)
