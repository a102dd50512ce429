"""Web restores and drills take paths literally (issue 10, item 5): `[`, `*` and `?` are characters of
file names, never patterns, and the root `/` restores the whole snapshot."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mamori.apps.backups.models import JobKind, RunStatus

from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)

ODD = [
    "フォルダ[2026]/見積書[最終].xlsx",
    "フォルダ[2026]/見積書最.xlsx",
    "フォルダ2/見積書[最終].xlsx",
    "*/?.txt",
]


@pytest.fixture
def odd(sut):
    for rel in ODD:
        path = sut.data / "共有" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel, encoding="utf-8")
    assert sut.run().status == RunStatus.SUCCEEDED
    return sut


def _restore(client, users, sut, path, target):
    response = as_user(client, users, "officer").post(
        reverse("backups:restore", args=[sut.system.code, "latest"]),
        {"path": path, "where": "folder", "target": str(target), "overwrite": "never"},
    )
    assert response.status_code == 302
    return sut.system.runs.filter(kind=JobKind.RESTORE).latest("pk")


def test_a_folder_with_brackets_restores_exactly_its_files(odd, users, client, tmp_path):
    folder = f"{odd.data}/共有/フォルダ[2026]"
    run = _restore(client, users, odd, folder, tmp_path / "out")
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    restored = tmp_path / "out" / "フォルダ[2026]"
    assert sorted(p.name for p in restored.iterdir()) == ["見積書[最終].xlsx", "見積書最.xlsx"]
    assert run.files_total == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["フォルダ[2026]"]


def test_a_file_named_star_is_one_file_not_a_wildcard(odd, users, client, tmp_path):
    run = _restore(client, users, odd, f"{odd.data}/共有/*/?.txt", tmp_path / "out")
    assert run.status == RunStatus.SUCCEEDED and run.files_total == 1


def test_the_root_restores_the_whole_snapshot(odd, users, client, tmp_path):
    run = _restore(client, users, odd, "/", tmp_path / "all")
    assert run.status == RunStatus.SUCCEEDED, run.error_text
    restored = tmp_path / "all" / str(odd.data).lstrip("/")
    expected = sorted(
        str(p.relative_to(odd.data)) for p in odd.data.rglob("*") if p.is_file() and p.suffix != ".tmp"
    )
    assert sorted(str(p.relative_to(restored)) for p in restored.rglob("*") if p.is_file()) == expected
    assert run.files_total == len(expected)


def test_a_drill_over_bracketed_names_is_green(odd):
    drill = odd.run(JobKind.RESTORE_DRILL)  # 20 files sampled: here every file of the snapshot
    assert drill.status == RunStatus.SUCCEEDED, drill.error_text
    assert drill.passed is True and drill.detail["problems"] == []
    assert drill.detail["sampled"] == drill.detail["available"] == len(ODD) + 2
