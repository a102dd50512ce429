"""An import's errors and notes are kept as messages and read in the reader's language, whatever
language the import ran in (the uploader's page, the worker, the CLI); an import recorded before
that keeps its text as written."""

from __future__ import annotations

from html import unescape
from pathlib import Path

import pytest
from django.utils import timezone, translation

from mamori.apps.core.models import Role
from mamori.apps.devices import imports
from mamori.apps.devices.models import DeviceImport, ImportKind, ImportState
from tests.apps.disposal.helpers import signed_in

from .helpers import device
from .test_imports import INVENTORY

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def run_in(language: str, data: bytes, kind: str = "") -> DeviceImport:
    with translation.override(language):
        record = imports.import_submit(actor="officer", filename="file.csv", data=data, kind=kind)
        return imports.import_execute(import_id=record.pk)


def page_in(language: str, world, record: DeviceImport) -> str:
    client = signed_in(world, Role.AUDITOR)
    client.cookies["django_language"] = language
    return unescape(client.get(f"/devices/imports/{record.pk}/").content.decode())


def test_an_import_run_in_japanese_reads_in_english(world):
    device("GK-OLD", world.gyokaku, hostname="gk-pc002")
    bad = INVENTORY.replace("1002,LGWAN接続系", "9999,LGWAN接続系").replace("状態\n", "状態,備考\n")
    record = run_in("ja", bad.encode())
    assert record.state == ImportState.FAILED
    page = page_in("en", world, record)
    assert 'line 2: Department "9999" was not found' in page
    assert "line 3: Host name GK-PC002 is already registered as GK-OLD" in page
    assert "line 1: Column '備考' is not used; skipped" in page  # a note; the column's name is the file's
    assert "行目" not in page and "読み飛ばしました" not in page
    assert "2行目: 所属「9999」が見つからないか" in page_in("ja", world, record)


def test_an_import_run_in_english_reads_in_japanese(world):
    record = run_in("en", (FIXTURES / "hygiene_bad.csv").read_bytes(), kind=ImportKind.HYGIENE_CSV)
    assert record.state == ImportState.FAILED
    page = page_in("ja", world, record)
    assert "4行目: 基準適合率 '120%' は 0〜100 の数（例 85.5 または 85.5%）にしてください" in page
    assert "line " not in page and "must be" not in page
    english = page_in("en", world, record)
    assert "line 4: 基準適合率 '120%' must be a number from 0 to 100 (e.g. 85.5 or 85.5%)" in english


def test_an_import_recorded_before_messages_were_kept_shows_its_text(world):
    record = DeviceImport.objects.create(
        kind=ImportKind.INVENTORY, filename="old.csv", sha256="0" * 64, size=1, actor="officer",
        state=ImportState.FAILED, created_at=timezone.now(), error_count=1,
        errors=["3行目: ネットワーク区分がありません"], notes=["列 '備考' は使わずに読み飛ばしました"],
    )  # fmt: skip
    page = page_in("en", world, record)
    assert "3行目: ネットワーク区分がありません" in page and "列 '備考' は使わずに読み飛ばしました" in page


def test_a_value_from_the_file_stays_as_written_and_cannot_fill_a_field(world):
    hostile = INVENTORY.replace("1002,LGWAN接続系", "{value} %(line)d {{x}},LGWAN接続系")
    record = run_in("ja", hostile.encode())
    assert "「{value} %(line)d {{x}}」" in page_in("ja", world, record)
    with translation.override("en"):
        assert record.error_texts[0].startswith('line 2: Department "{value} %(line)d {{x}}" was not found')
