"""Imports through the real readers: an inventory CSV (all or nothing, line-numbered errors, a second
import of the same file changes nothing) and hygiene from a CSV, an osquery result log and a Wazuh
API bundle, each matched to the inventory; malformed and truncated files import nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.devices import imports
from mamori.apps.devices.models import Device, DeviceChange, HygieneReport, ImportState
from tests.apps.core.factories import DepartmentFactory
from tests.apps.disposal.helpers import signed_in

from .helpers import device, home_file

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"

INVENTORY = """資産番号,ホスト名,種別,メーカー,機種,シリアル番号,OS,所属,ネットワーク区分,サポート終了日,状態
GK-0001,GK-PC001,ノートPC,富士通,LIFEBOOK U9313,FJ001,Windows 11 Pro,1002,LGWAN接続系,2030-10-14,使用中
GK-0002,GK-PC002,デスクトップ,NEC,Mate,NE002,Windows 11 Pro,行政改革課,マイナンバー利用事務系,,使用中
JH-FW01,fw01,UTM,FortiNet,FortiGate 100F,FG001,FortiOS,総務部 情報政策課,インターネット接続系,令和8年3月31日,稼働中
"""


def run(data: bytes | str, filename: str = "inventory.csv", kind: str = ""):
    raw = data.encode() if isinstance(data, str) else data
    record = imports.import_submit(actor="officer", filename=filename, data=raw, kind=kind)
    return imports.import_execute(import_id=record.pk)


def test_an_inventory_imports_and_the_same_file_again_changes_nothing(world):
    first = run(INVENTORY)
    assert first.state == ImportState.SUCCEEDED and (first.created, first.updated) == (3, 0)
    fw = Device.objects.get(asset_tag="JH-FW01")
    assert (fw.kind, fw.department, fw.end_of_support) == ("firewall", world.johou, date(2026, 3, 31))
    assert fw.changes.get().changes["maker"] == [None, "FortiNet"]
    snapshot = list(Device.objects.values())
    again = run(INVENTORY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert list(Device.objects.values()) == snapshot and DeviceChange.objects.count() == 3
    changed = run(INVENTORY.replace("Mate,NE002", "Mate J,NE002"), filename="inventory-2.csv")
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    change = Device.objects.get(asset_tag="GK-0002").changes.first()
    assert change.changes == {"model_name": ["Mate", "Mate J"]} and change.via == "inventory-2.csv"
    actions = AuditEvent.objects.filter(action__startswith="devices.import").values_list("action", flat=True)
    assert list(actions) == ["devices.import.submit", "devices.import.apply"] * 3


def test_a_cp932_file_from_excel_imports_the_same(world):
    assert run(INVENTORY.encode("cp932")).created == 3


def test_one_bad_line_imports_nothing_and_names_every_problem(world):
    device("GK-OLD", world.gyokaku, hostname="gk-pc002")
    bad = INVENTORY.replace("1002,LGWAN接続系", "9999,LGWAN接続系").replace(",インターネット接続系,", ",,")
    record = run(bad)
    assert record.state == ImportState.FAILED and record.created == 0
    assert record.error_texts == [
        "2行目: 所属「9999」が見つからないか、同名の所属が複数あります（所属コードで書いてください）",
        "3行目: ホスト名 GK-PC002 は既に GK-OLD で登録されています",
        "4行目: ネットワーク区分がありません",
    ]
    assert Device.objects.count() == 1 and not (home_file(record)).exists()
    assert AuditEvent.objects.filter(action="devices.import.fail").count() == 1
    page = signed_in(world, Role.SECURITY_OFFICER).get(f"/devices/imports/{record.pk}/").content.decode()
    assert (
        "3件のエラーがあるため、何も取り込んでいません" in page
        and "4行目: ネットワーク区分がありません" in page
    )


def test_a_file_the_reader_refuses_imports_nothing(world):
    record = run((FIXTURES / "inventory_bad.csv").read_bytes(), kind="inventory_csv")
    assert record.state == ImportState.FAILED and record.error_count >= 5
    assert all("行目" in e for e in record.error_texts) and not Device.objects.exists()


def test_a_file_of_no_known_format_is_refused_at_once(world):
    with pytest.raises(imports.DeviceError, match="形式が分かりません"):
        imports.import_submit(actor="x", filename="notes.txt", data=b"hello")


@pytest.fixture
def ledger(world):
    for code, name in [("1001", "総務課"), ("3001", "市民課")]:
        DepartmentFactory(organisation=world.organisation, code=code, name=name, parent=world.soumu)
    somu = device("A-0001", world.gyokaku, hostname="SOMU-PC001", serial="FJ12345678")
    shimin = device("A-0002", world.gyokaku, hostname="SHIMIN-PC014")
    return {"somu": somu, "shimin": shimin}


def test_hygiene_csv_reports_match_by_serial_or_host_and_re_import_changes_nothing(ledger):
    data = (FIXTURES / "hygiene.csv").read_bytes()
    record = run(data, filename="hygiene.csv")
    assert record.state == ImportState.SUCCEEDED and (record.created, record.unknown_hosts) == (
        2,
        ["KAIGO-PC003"],
    )
    shimin = HygieneReport.objects.get(device=ledger["shimin"])
    assert (shimin.day, shimin.signature_date, shimin.missing_updates) == (
        date(2024, 11, 30),
        date(2024, 10, 2),
        3,
    )
    assert ledger["somu"].hygiene.baseline_pass_pct == Decimal("92.5")
    again = run(data, filename="hygiene.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    corrected = run(data.replace(b"92.5%", b"95%"), filename="hygiene-corrected.csv")
    assert (corrected.created, corrected.updated, corrected.unchanged) == (0, 1, 1)
    ledger["somu"].hygiene.refresh_from_db()
    assert ledger["somu"].hygiene.baseline_pass_pct == Decimal("95.0")
    assert HygieneReport.objects.get(device=ledger["somu"]).imported_by == corrected


def test_an_osquery_log_gives_one_report_per_host_and_day(ledger):
    record = run((FIXTURES / "osquery_snapshot.log").read_bytes(), filename="osquery.log")
    assert record.state == ImportState.SUCCEEDED, record.errors
    days = list(
        HygieneReport.objects.filter(device=ledger["shimin"], source="osquery").values_list("day", flat=True)
    )
    assert len(days) == 2 == record.created
    assert ledger["shimin"].hygiene.last_report_day == max(days)


def test_a_wazuh_bundle_matches_an_agent_by_its_host_name_without_the_domain(ledger):
    record = run((FIXTURES / "wazuh_bundle.json").read_bytes(), filename="wazuh.json")
    assert record.state == ImportState.SUCCEEDED, record.errors
    matched = set(HygieneReport.objects.filter(source="wazuh").values_list("device__asset_tag", flat=True))
    assert matched == {"A-0001", "A-0002"}  # shimin-pc014.city.example.lg.jp is SHIMIN-PC014


@pytest.mark.parametrize("name", ["osquery_truncated.log", "wazuh_truncated.json", "hygiene_bad.csv"])
def test_a_malformed_or_truncated_report_file_imports_nothing(ledger, name):
    record = run((FIXTURES / name).read_bytes(), filename=name)
    assert record.state == ImportState.FAILED and record.errors
    assert not HygieneReport.objects.exists()
