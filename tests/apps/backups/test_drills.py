"""The RTO is judged only by a full restore: a sample drill records its time and an extrapolation
labelled as such, never an RTO tick; 「今すぐ全体復元訓練」 restores everything and judges the RTO."""

from __future__ import annotations

import os
import tracemalloc
from dataclasses import replace

import pytest
from django.urls import reverse

from mamori.apps.backups import engine
from mamori.apps.backups.jobs import run_execute, run_request
from mamori.apps.backups.models import JobKind, Run, RunStatus
from mamori.apps.backups.services import repository_access
from mamori.vault import api
from mamori.vault.backend.local import LocalBackend
from mamori.vault.model import Node
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from tests.vault.hostile import GOOD, TreeWriter
from tests.vault.repo_helpers import FAST_KDF

from .conftest import REPO_PASSWORD
from .test_hostile_repository import watched
from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sample_drill_does_not_judge_the_rto(sut, users, client):
    for i in range(30):
        (sut.data / "共有" / f"資料{i:02}.bin").write_bytes(os.urandom(2000))
    sut.run(JobKind.BACKUP)
    drill = sut.run(JobKind.RESTORE_DRILL)  # the default sample: 20 of 32 files
    assert drill.status == RunStatus.SUCCEEDED and drill.passed is True
    assert drill.detail["full"] is False and drill.detail["sampled"] == 20 and drill.detail["available"] == 32
    assert drill.rto_met is None and drill.detail["extrapolated_seconds"] > 0
    page = (
        as_user(client, users, "auditor").get(reverse("backups:run-detail", args=[drill.pk])).content.decode()
    )
    assert "サンプル訓練のため判定しません" in page and "推定（外挿）" in page


def test_the_full_restore_drill_judges_the_rto(sut, users, client):
    for i in range(30):
        (sut.data / "共有" / f"資料{i:02}.bin").write_bytes(os.urandom(2000))
    sut.run(JobKind.BACKUP)
    response = as_user(client, users, "officer").post(
        reverse("backups:run-now", args=["fileserver"]), {"kind": "restore_drill", "full": "1"}
    )
    assert response.status_code == 302
    drill = Run.objects.get(kind=JobKind.RESTORE_DRILL)
    if drill.status == RunStatus.QUEUED:
        drill = run_execute(run_id=drill.pk)
    assert drill.detail["full"] is True and drill.detail["sampled"] == 32 and drill.rto_met is True
    page = client.get(reverse("backups:run-detail", args=[drill.pk])).content.decode()
    assert "全体復元で判定" in page


def test_a_drill_lists_up_to_the_entries_the_settings_allow(sut, settings):
    sut.run(JobKind.BACKUP)
    access = repository_access(sut.system.repositories.get(role="primary"))
    entries = len(engine.ls(access, engine.snapshots(access)[-1].id))  # files and every folder above them
    settings.MAMORI_DRILL_MAX_ENTRIES = entries
    assert sut.run(JobKind.RESTORE_DRILL).status == RunStatus.SUCCEEDED
    settings.MAMORI_DRILL_MAX_ENTRIES = entries - 1
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.FAILED and f"には {entries - 1:,} 個を超える項目" in drill.error_text


def spread_files(path, files):
    """A repository written directly: one snapshot of /data with `files` one-blob files, 50 a folder
    (a folder's tree is read whole: small folders keep what the walk holds the same)."""
    repo = Repository.init(LocalBackend(path), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    one = w.file(b"x", b"drill\n")
    folders = [
        w.dir(
            f"d{d}".encode(),
            [replace(one, name=f"f{i}".encode()) for i in range(d * 50, min(files, d * 50 + 50))],
        )
        for d in range(-(-files // 50))
    ]
    w.snapshot(folders, 1_760_000_000_000_000_000)
    repo.close()


def full_drill_peak(sut) -> tuple[Run, int]:
    """A full drill's run, and the most memory Python held in this process during it."""
    run = run_request(
        actor="test", system=sut.system, kind=JobKind.RESTORE_DRILL, detail={"sample": 0}, enqueue=False
    )
    tracemalloc.start()
    try:
        run = run_execute(run_id=run.pk)
        return run, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_full_drill_holds_no_more_memory_for_four_times_the_files(tmp_path, departments):
    peaks = []
    for code, files in (("small", 400), ("large", 1600)):
        spread_files(tmp_path / code, files)
        drill, peak = full_drill_peak(watched(tmp_path / code, code, departments["joho"]))
        assert drill.status == RunStatus.SUCCEEDED and drill.passed is True, drill.error_text
        assert drill.detail["full"] is True and drill.detail["sampled"] == files + 1  # and /data/good.txt
        assert drill.files_total == files + 1 and drill.bytes_total == files * 6 + len(GOOD)
        peaks.append(peak)
    # before: every file's node and path kept, ~1 KB each (1.2 MB more for the 1,200 more files)
    assert peaks[1] - peaks[0] < 200 * 1200, peaks


def test_a_full_drill_of_a_file_whose_content_is_missing_is_red_naming_it(tmp_path, departments):
    repo = Repository.init(LocalBackend(tmp_path / "lost"), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    lost = Node(name=b"lost.bin", type="file", mode=0o644, size=5, content=[bytes(32)])  # no such blob
    w.snapshot([w.dir(b"d", [lost])], 1_760_000_000_000_000_000)
    repo.close()
    drill, _peak = full_drill_peak(watched(tmp_path / "lost", "lost", departments["joho"]))
    assert drill.status == RunStatus.FAILED and drill.passed is False
    assert "/data/d/lost.bin: 復元されていません" in drill.error_text
    assert drill.detail["sampled"] == 2 and drill.detail["available"] == 2


def multi_blob_files(path, files):
    """A repository written directly: /data/d holds `files` files of three blobs each."""
    repo = Repository.init(LocalBackend(path), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    nodes = []
    for i in range(files):
        parts = [f"file {i} part {p}\n".encode() for p in range(3)]
        blobs = [repo.save_blob(BlobType.DATA, part)[0] for part in parts]
        nodes.append(
            Node(name=f"f{i}".encode(), type="file", mode=0o644, size=sum(map(len, parts)), content=blobs)
        )
    w.snapshot([w.dir(b"d", nodes)], 1_760_000_000_000_000_000)
    repo.close()


@pytest.mark.parametrize("sample", [0, 20])
def test_a_drill_opens_the_repository_once_and_loads_the_index_alike_for_any_number_of_files(
    tmp_path, departments, monkeypatch, sample
):
    opens, loads = [], []
    real_open, real_load = api.open_repository, Repository.load_index
    monkeypatch.setattr(api, "open_repository", lambda *a, **k: opens.append(1) or real_open(*a, **k))
    monkeypatch.setattr(Repository, "load_index", lambda self, **k: loads.append(1) or real_load(self, **k))
    counts = []
    for files in (2, 8):  # before: one open and one index load more for each file of several blobs
        multi_blob_files(tmp_path / f"m{files}", files)
        sut = watched(tmp_path / f"m{files}", f"m{files}", departments["joho"])
        opens.clear(), loads.clear()
        run = run_request(
            actor="test",
            system=sut.system,
            kind=JobKind.RESTORE_DRILL,
            detail={"sample": sample},
            enqueue=False,
        )
        drill = run_execute(run_id=run.pk)
        assert drill.status == RunStatus.SUCCEEDED and drill.passed is True, drill.error_text
        assert drill.files_total == files + 1  # and /data/good.txt
        counts.append((len(opens), len(loads)))
    assert counts[0] == counts[1] and counts[0][0] == 1, counts
