"""An uploaded file's import as a background job (`core.progress`): the officer who uploaded it
follows it on the progress page, which ends with the counts, or the line-numbered errors and
nothing imported; the import's record keeps the rest (unknown hosts, what the reader ignored)."""

from __future__ import annotations

from typing import Any, BinaryIO

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import ProgressJob
from mamori.apps.core.permissions import OFFICERS
from mamori.apps.core.progress import ProgressKind, ProgressResult, Report, progress_start

from .errors import DeviceError
from .imports import import_execute, import_submit
from .models import DeviceImport, ImportState
from .uploads import upload_remove

KIND = "devices.import"


def import_queue(*, actor: Any, filename: str, data: bytes | BinaryIO, kind: str = "") -> ProgressJob:
    """Store and record the file, and queue its import for the worker: one transaction, so a job
    never names an import that was not recorded (and a refused start keeps no file)."""
    with transaction.atomic():
        record = import_submit(actor=actor, filename=filename, data=data, kind=kind)
        try:
            return progress_start(
                actor=actor,
                kind=KIND,
                title=f"{record.get_kind_display()} — {record.filename}",
                params={"import_id": record.pk},
            )
        except BaseException:
            upload_remove(record.stored_file)
            raise


def outcome_summary(record: DeviceImport) -> str:
    """One line: the counts of an import that wrote, and what it left out."""
    text = gettext("{rows}件中 新規 {created}・更新 {updated}・変更なし {unchanged}").format(
        rows=record.rows, created=record.created, updated=record.updated, unchanged=record.unchanged
    )
    if record.unknown_hosts:
        text += " / " + gettext("台帳にないホスト {n}件は取り込んでいません").format(
            n=len(record.unknown_hosts)
        )
    return text


def outcome_errors(record: DeviceImport) -> list[str]:
    """The refusal: a first line saying nothing was imported, then the line-numbered errors."""
    lines = [
        gettext(
            "{n}件のエラーがあるため、何も取り込んでいません。ファイルを直してもう一度取り込んでください。"
        ).format(n=record.error_count),
        *record.error_texts,
    ]
    if record.error_count > len(record.errors):
        lines.append(gettext("ほかにもエラーがあります。"))
    return lines


def job_result(record: DeviceImport) -> ProgressResult:
    """How a finished import ends its job: the counts, or a failure with the line-numbered errors."""
    if record.state != ImportState.SUCCEEDED:
        raise DeviceError("\n".join(outcome_errors(record)), code="import_failed")
    return ProgressResult(message=outcome_summary(record))


def import_job(job: ProgressJob, report: Report) -> ProgressResult:
    return job_result(import_execute(import_id=int(job.params["import_id"]), report=report))


IMPORT_KIND = ProgressKind(
    key=KIND,
    label=_("機器の取込"),
    run=import_job,
    roles=OFFICERS,  # only the uploader sees the job; the import's record is open to every reader
    back=lambda job: reverse("devices:imports"),
    detail=lambda job: reverse("devices:import-detail", args=[job.params["import_id"]]),
)
