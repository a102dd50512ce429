"""Progress kinds for the tests: one that writes a small text file, one that only reports a message
(with a page of details), one that refuses, one with a bug.

`echo_job(owner)` runs a job to completion through the real path (start → execute), as the worker
would; the role matrix uses it for the progress pages' samples.
"""

from __future__ import annotations

from typing import Any

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import ProgressJob
from mamori.apps.core.permissions import ALL_ROLES, READERS
from mamori.apps.core.progress import (
    ProgressKind,
    ProgressResult,
    Report,
    progress_execute,
    progress_kind_register,
    progress_start,
)

REFUSAL = "12行目: 整理番号がありません"


def _echo(job: ProgressJob, report: Report) -> ProgressResult:
    lines = [str(line) for line in job.params.get("lines", [])]
    for n, _line in enumerate(lines, start=1):
        report(n, len(lines), f"{n} 件目")
    return ProgressResult("結果 一覧.txt", "\n".join(lines).encode(), "text/plain; charset=utf-8", "ok")


def _note(job: ProgressJob, report: Report) -> ProgressResult:
    return ProgressResult(message="3件中 新規 3")


def _refuse(job: ProgressJob, report: Report) -> ProgressResult:
    report(1, 4, "")
    raise ApplicationError(REFUSAL, code="bad_line")


def _bug(job: ProgressJob, report: Report) -> ProgressResult:
    raise KeyError("/srv/secret/path")


def register_test_kinds() -> None:
    progress_kind_register(ProgressKind("test.echo", "テスト出力", _echo, roles=ALL_ROLES, readers=READERS))
    progress_kind_register(
        ProgressKind("test.note", "テスト記録", _note, roles=ALL_ROLES, detail=lambda job: "/audit/?job=1")
    )
    progress_kind_register(ProgressKind("test.refuse", "テスト拒否", _refuse, roles=ALL_ROLES))
    progress_kind_register(ProgressKind("test.bug", "テスト不具合", _bug, roles=ALL_ROLES))
    progress_kind_register(
        ProgressKind("test.officers", "担当者のみ", _echo, roles=frozenset({"security_officer"}))
    )


def echo_job(owner: Any, lines: list[str] | None = None) -> ProgressJob:
    register_test_kinds()
    job = progress_start(actor=owner, kind="test.echo", title="テスト", params={"lines": lines or ["a", "b"]})
    return progress_execute(job_id=job.pk)
