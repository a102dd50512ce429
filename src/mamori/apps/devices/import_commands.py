"""`mamori import devices[-inventory|-hygiene|-wazuh|-osquery] FILE`: the same import as an upload's
background job (`import_submit` + `import_execute`), run at once in the command's process."""

from __future__ import annotations

from pathlib import Path

from mamori.apps.core.import_commands import ImportCommand, ImportOutcome, Report, import_command_register
from mamori.apps.core.messages import server_text

from .imports import import_execute, import_submit
from .models import ImportKind, ImportState
from .tasks import outcome_summary

COMMANDS = {
    "devices": ("", "a devices file of any of the four formats, told by its content"),
    "devices-inventory": (ImportKind.INVENTORY, "the device inventory (CSV, UTF-8 or CP932; GLPI, Snipe-IT)"),
    "devices-hygiene": (ImportKind.HYGIENE_CSV, "hygiene reports (CSV)"),
    "devices-wazuh": (ImportKind.WAZUH, "hygiene reports from the Wazuh server API (JSON bundle)"),
    "devices-osquery": (ImportKind.OSQUERY, "hygiene reports from an osquery result log (JSON lines)"),
}


def device_file_import(*, kind: str, path: Path, actor: str, report: Report) -> ImportOutcome:
    with path.open("rb") as file:
        record = import_submit(actor=actor, filename=path.name, data=file, kind=kind)
    record = import_execute(import_id=record.pk, report=report)
    if record.state != ImportState.SUCCEEDED:
        errors = [server_text(e) for e in record.errors]
        return ImportOutcome(ok=False, summary="", errors=errors, error_count=record.error_count)
    notes = [server_text(n) for n in record.notes]
    if record.unknown_hosts:
        notes.append("hosts not in the inventory: " + ", ".join(record.unknown_hosts))
    return ImportOutcome(
        ok=True, summary=f"{record.get_kind_display()}: {outcome_summary(record)}", notes=notes
    )


def register() -> None:
    for name, (kind, help_text) in COMMANDS.items():

        def run(*, path: Path, actor: str, report: Report, kind: str = kind) -> ImportOutcome:
            return device_file_import(kind=kind, path=path, actor=actor, report=report)

        import_command_register(ImportCommand(name, help_text, run))
