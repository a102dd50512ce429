"""A repository written by someone else (the offsite NAS, a shared restic client) cannot make mamori
write outside a restore's target, nor fill the disk: the web restore and a restore drill, over
hand-built hostile trees (`tests/vault/hostile.py`, `tests/vault/expanding.py`). The drill goes red
and says why (issue 10, item 1)."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
from django.urls import reverse

from mamori.apps.backups import selectors, services
from mamori.apps.backups.models import JobKind, RunStatus
from mamori.vault.backend.local import LocalBackend
from mamori.vault.model import Node
from mamori.vault.repository import Repository
from tests.vault.expanding import MiB, build_expanding_repository, folder_bomb
from tests.vault.hostile import (
    GOOD,
    TreeWriter,
    build_hostile_repository,
    build_many_bad_names,
    files_outside,
    target_of,
)
from tests.vault.repo_helpers import FAST_KDF

from .conftest import REPO_PASSWORD, SystemUnderTest
from .test_views import as_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hostile(tmp_path, departments):
    bad = build_hostile_repository(tmp_path / "base")
    system = services.system_create(
        actor="test", code="nas", name="共有NAS", department=departments["joho"], rpo_hours=24, rto_minutes=60
    )
    services.repository_create(
        actor="test", system=system, name="NAS", url=str(bad.path), password=REPO_PASSWORD
    )
    return bad, SystemUnderTest(system, tmp_path, bad.path, bad.path)


@pytest.mark.parametrize("case", ["dotdot", "absolute", "slashes", "symlink-file", "symlink-dir"])
def test_web_restore_stays_in_its_target_and_fails_naming_the_bad_entry(
    hostile, users, client, tmp_path, case
):
    bad, sut = hostile
    base = tmp_path / "base"
    target = target_of(base)
    response = as_user(client, users, "officer").post(
        reverse("backups:restore", args=["nas", bad.snapshots[case]]),
        {"path": "/data", "where": "folder", "target": str(target)},
    )
    assert response.status_code == 302
    run = sut.system.runs.get(kind=JobKind.RESTORE)
    assert run.status == RunStatus.FAILED
    assert "/data: " in run.error_text and "child node name" in run.error_text
    assert files_outside(base, target) == [] and os.listdir(bad.outside) == []
    assert (target / "data" / "good.txt").read_bytes() == GOOD


def test_drill_on_a_hostile_repository_is_red_with_the_reason(hostile, tmp_path):
    bad, sut = hostile
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.FAILED and drill.passed is False
    # the drill takes the latest snapshot of each path set: here the "dir-symlink" case
    assert '/data: repeated child node name "lnk"' in drill.error_text
    assert selectors.system_status(system=sut.system).light == selectors.RED
    assert files_outside(tmp_path / "base", target_of(tmp_path / "base")) == []
    assert os.listdir(bad.outside) == []


def watched(path, code, department) -> SystemUnderTest:
    """A system whose primary repository is `path`, written by someone else."""
    system = services.system_create(
        actor="test", code=code, name=f"共有{code}", department=department, rpo_hours=24, rto_minutes=60
    )
    services.repository_create(actor="test", system=system, name="NAS", url=str(path), password=REPO_PASSWORD)
    return SystemUnderTest(system, path.parent, path, path)


@pytest.fixture
def expanding(tmp_path, departments):
    bad = build_expanding_repository(tmp_path / "expanding")
    return bad, watched(bad.path, "nas2", departments["joho"])


def keep_all_but(path, *, space=0, inodes=0):
    """The settings' percentages that leave `space` bytes or `inodes` inodes of what is free now to a
    restore (so the tests stop early whatever the disk's size)."""
    st = os.statvfs(path)
    total_space, total_inodes = st.f_blocks * st.f_frsize, st.f_files
    return (
        100 * (st.f_bavail * st.f_frsize - space) / total_space if space else 0,
        100 * (st.f_favail - inodes) / total_inodes if inodes else 0,
    )


STOPPED = "復元先の空き容量が、残しておく量を下回るため復元を止めました: restore into "


def test_a_drill_of_a_snapshot_that_expands_without_end_stops_and_leaves_no_scratch(expanding, settings):
    _bad, sut = expanding
    scratch = settings.MAMORI_HOME / "scratch"
    settings.MAMORI_RESTORE_KEEP_FREE_PERCENT, _ = keep_all_but(settings.MAMORI_HOME, space=48 * MiB)
    drill = sut.run(JobKind.RESTORE_DRILL)  # the latest snapshot: /data/big, 100 GiB from one 1 MiB blob
    assert drill.status == RunStatus.FAILED and drill.passed is not True
    assert drill.error_text.startswith(f"{STOPPED}{scratch / f'drill-{drill.pk}'} stopped after ")
    assert "free, less than the" in drill.error_text and "\n" not in drill.error_text
    assert not (scratch / f"drill-{drill.pk}").exists()
    assert selectors.system_status(system=sut.system).light == selectors.RED


def test_a_drill_of_two_to_the_thirty_one_folders_stops_listing_them_and_says_so(
    tmp_path, departments, settings
):
    repo = Repository.init(LocalBackend(tmp_path / "folders"), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    snap = w.snapshot([folder_bomb(w)], 1_760_000_000_000_000_000)  # /data/d: 2^31 - 1 folders, no file
    repo.close()
    sut = watched(tmp_path / "folders", "nas3", departments["joho"])
    settings.MAMORI_DRILL_MAX_ENTRIES = 3_000  # the walk takes ~0.1 ms an entry: 2^31 would be days
    drill = sut.run(JobKind.RESTORE_DRILL)
    assert drill.status == RunStatus.FAILED and drill.passed is not True
    assert drill.error_text == (
        f"スナップショット {snap[:8]} には 3,000 個を超える項目があるため、一覧を止めました。本当にこの大きさなら"
        "設定 MAMORI_DRILL_MAX_ENTRIES を増やし、そうでなければリポジトリを書いた者を確かめてください"
    )
    assert not (settings.MAMORI_HOME / "scratch" / f"drill-{drill.pk}").exists()
    assert selectors.system_status(system=sut.system).light == selectors.RED


def test_a_web_restore_of_two_to_the_thirty_folders_stops_with_the_reason(
    expanding, users, client, tmp_path, settings
):
    bad, sut = expanding
    target = tmp_path / "restored"
    _, settings.MAMORI_RESTORE_KEEP_FREE_INODES_PERCENT = keep_all_but(tmp_path, inodes=3000)
    response = as_user(client, users, "officer").post(
        reverse("backups:restore", args=["nas2", bad.folders]),
        {"path": "/data", "where": "folder", "target": str(target)},
    )
    assert response.status_code == 302
    run = sut.system.runs.get(kind=JobKind.RESTORE)
    assert run.status == RunStatus.FAILED
    assert run.error_text.startswith(f"{STOPPED}{target} stopped after ") and "inodes free" in run.error_text
    assert sum(len(d) + len(f) for _p, d, f in os.walk(target)) < 50_000  # not 2^31; others free inodes too


LEGACY_NAME = b"\x93\xfa\x96\x7b.txt"  # 日本.txt in CP932, as an old Samba share stores it


def test_a_folder_holding_a_name_that_is_not_utf8_browses_and_restores_whole(
    tmp_path, departments, users, client
):
    repo = Repository.init(LocalBackend(tmp_path / "legacy"), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    snap = w.snapshot(
        [w.file(LEGACY_NAME, b"sjis\n"), w.dir(LEGACY_NAME + b".d", [])], 1_760_000_000_000_000_000
    )
    repo.close()
    system = watched(tmp_path / "legacy", "legacy", departments["joho"]).system
    officer = as_user(client, users, "officer")
    page = officer.get(reverse("backups:browse", args=["legacy", snap[:8]]) + "?path=/data")
    assert page.status_code == 200  # before: 500, the whole folder unreadable
    html = page.content.decode()
    assert (
        "<td>\ufffd\ufffd\ufffd{.txt <span" in html and "<td>\ufffd\ufffd\ufffd{.txt.d/ <span" in html
    )  # 0x7b: "{"
    assert html.count("data-unopenable") == 2
    assert 'data-download="good.txt"' in html
    target = tmp_path / "restored"
    officer.post(
        reverse("backups:restore", args=["legacy", snap]),
        {"path": "/data", "where": "folder", "target": str(target)},
    )
    assert system.runs.get(kind=JobKind.RESTORE).status == RunStatus.SUCCEEDED
    assert (os.fsencode(target / "data") + b"/" + LEGACY_NAME) in [
        os.fsencode(p) for p in (target / "data").iterdir()
    ]


def test_a_download_is_as_long_as_its_content_whatever_size_the_tree_claims(
    tmp_path, departments, users, client
):
    repo = Repository.init(LocalBackend(tmp_path / "lying"), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    content = w.file(b"x", b"0123456789").content
    lies = [
        Node(name=name, type="file", mode=0o644, size=size, content=content) for name, size in LIES.items()
    ]
    unindexed = Node(name=b"unindexed.txt", type="file", mode=0o644, size=10, content=[bytes(32)])
    snap = w.snapshot([*lies, unindexed], 1_760_000_000_000_000_000)
    repo.close()
    watched(tmp_path / "lying", "lying", departments["joho"])
    officer = as_user(client, users, "officer")
    for name in LIES:
        response = officer.get(reverse("backups:download", args=["lying", snap[:8], f"data/{name.decode()}"]))
        assert response.status_code == 200 and response["Content-Length"] == "10"
        assert b"".join(response.streaming_content) == b"0123456789"
    response = officer.get(reverse("backups:download", args=["lying", snap[:8], "data/unindexed.txt"]))
    assert response.status_code == 400 and "not in the index" in response.content.decode()


LIES = {b"longer.txt": 1 << 30, b"shorter.txt": 3, b"empty.txt": 0}  # what the tree claims: 1 GiB, 3, 0


def test_a_folder_holding_an_entry_of_negative_size_browses_with_that_entry_shown_as_damaged(
    tmp_path, departments, users, client
):
    repo = Repository.init(LocalBackend(tmp_path / "minus"), REPO_PASSWORD, kdf_params=FAST_KDF)
    w = TreeWriter(repo)
    minus = '{"name":"minus.txt","type":"file","size":-1,"content":[]}'  # restic refuses the whole tree
    garbage = dataclasses.replace(w.dir(b"garbage", []), subtree=w.raw_tree(b'{"nodes":5}'))
    snap = w.snapshot(
        [minus, "5", garbage, w.dir(b"sub", [w.file(b"deeper.txt", b"below\n")])], time.time_ns()
    )
    repo.close()
    system = watched(tmp_path / "minus", "minus", departments["joho"]).system
    officer = as_user(client, users, "officer")
    page = officer.get(reverse("backups:browse", args=["minus", snap[:8]]) + "?path=/data")
    assert page.status_code == 200  # before: the whole folder refused
    html = page.content.decode()
    assert 'data-download="good.txt"' in html and "?path=/data/sub" in html
    assert html.count("data-damaged") == 2 and 'data-download="minus.txt"' not in html
    assert (
        "minus.txt <span" in html
        and "（壊れた項目のため開けません: invalid node &#x27;minus.txt&#x27;: size -1 is not a uint64）"
        in html
    )
    unreadable = officer.get(reverse("backups:browse", args=["minus", snap[:8]]) + "?path=/data/garbage")
    assert (
        unreadable.status_code == 400
        and "リポジトリのデータに整合性の問題があります" in unreadable.content.decode()
    )
    found = officer.get(reverse("backups:search", args=["minus"]), {"q": "deeper", "days": "7"})
    assert found.status_code == 200 and "/data/sub/deeper.txt" in found.content.decode()
    deeper = officer.get(reverse("backups:download", args=["minus", snap[:8], "data/sub/deeper.txt"]))
    assert b"".join(deeper.streaming_content) == b"below\n"
    refused = officer.get(reverse("backups:download", args=["minus", snap[:8], "data/minus.txt"]))
    assert refused.status_code == 400
    assert (
        "この項目はスナップショットの中で壊れているため開けません: /data/minus.txt: invalid node"
        in refused.content.decode()
    )
    drill = SystemUnderTest(system, tmp_path, tmp_path / "minus", tmp_path / "minus").run(
        JobKind.RESTORE_DRILL
    )
    assert drill.status == RunStatus.FAILED  # red, with one line: the folder it cannot read at all
    assert (
        drill.error_text
        == "リポジトリのデータに整合性の問題があります: invalid tree: nodes is int, not a list"
    )


def test_a_restore_and_a_drill_of_many_bad_entries_say_how_many_in_one_line(
    tmp_path, departments, users, client
):
    snap = build_many_bad_names(tmp_path / "many", 200)
    sut = watched(tmp_path / "many", "many", departments["joho"])
    as_user(client, users, "officer").post(
        reverse("backups:restore", args=["many", snap]),
        {"path": "/data", "where": "folder", "target": str(tmp_path / "restored")},
    )
    run = sut.system.runs.get(kind=JobKind.RESTORE)
    assert run.status == RunStatus.FAILED and "\n" not in run.error_text
    assert run.error_text.startswith(
        '復元に失敗したファイルが 200 件あります。最初の 5 件: /data: invalid child node name "bad/0000"'
    )
    assert (tmp_path / "restored" / "data" / "good.txt").read_bytes() == GOOD
    drill = sut.run(JobKind.RESTORE_DRILL)  # each name refused by its listing (its restore skips them)
    assert drill.status == RunStatus.FAILED and "\n" not in drill.error_text
    assert drill.error_text.startswith("復元訓練で検証エラーが 200 件あります。最初の 5 件: ")
    assert drill.detail["problems_count"] == 200 and len(drill.detail["problems"]) == 50
