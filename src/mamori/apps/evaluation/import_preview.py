"""What an import would change, per program and fiscal year, without changing anything.

The document is imported for real (same services, same validation) inside a transaction that is
then rolled back; the export before and after is compared. So the preview can never disagree with
the import it announces, and a refused document shows the same errors the import would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor
from mamori.apps.core.labels import fiscal_year_label

from .interchange import evaluation_export, evaluation_import

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
STATUS_LABELS = {CREATED: _("新規"), UPDATED: _("変更"), UNCHANGED: _("変更なし")}


@dataclass(frozen=True)
class Change:
    reference_number: str
    sub: str  # 細事業番号, "" for the 事業
    name: str
    fiscal_year: int | None  # None: the program's own fields and indicators
    status: str

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year) if self.fiscal_year else str(_("基本情報・指標"))


class _Rollback(Exception):
    pass


def _entries(document: dict[str, Any]) -> dict[tuple[str, str, int | None], tuple[str, Any]]:
    """(整理番号, 細事業, year or None) → (name, what the export holds for it)."""
    out: dict[tuple[str, str, int | None], tuple[str, Any]] = {}
    for top in document["programs"]:
        for program, sub in [(top, ""), *((s, s["reference_number"]) for s in top.get("sub_programs", []))]:
            ref = top["reference_number"]
            own = {k: v for k, v in program.items() if k not in ("years", "sub_programs")}
            out[(ref, sub, None)] = (program["name"], own)
            for year in program["years"]:
                out[(ref, sub, year["fiscal_year"])] = (program["name"], year)
    return out


def evaluation_preview(*, actor: Actor, document: dict[str, Any]) -> tuple[list[Change], dict[str, int]]:
    """The changes an import of `document` would make (every entry the document touches) and the
    import's counts; raises the import's EvaluationError when the document would be refused."""
    before = _entries(evaluation_export())
    try:
        with transaction.atomic():
            counts = evaluation_import(actor=actor, document=document)
            after = _entries(evaluation_export())
            raise _Rollback
    except _Rollback:
        pass
    touched = {str(p.get("reference_number")) for p in document.get("programs") or [] if isinstance(p, dict)}
    changes = [
        Change(
            reference_number=key[0],
            sub=key[1],
            name=name,
            fiscal_year=key[2],
            status=CREATED if key not in before else UPDATED if before[key][1] != value else UNCHANGED,
        )
        for key, (name, value) in after.items()
        if key[0] in touched
    ]
    changes.sort(key=lambda c: (c.reference_number, c.sub, c.fiscal_year or 0))
    return changes, counts
