"""Files in the shapes the tools write, for the demo, the benchmark and the browser test: an inventory
CSV (a city's own sheet), osquery result-log lines, a Wazuh API bundle and a hygiene CSV exported
from an antivirus console. They go through the same readers and imports as a city's real files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from mamori.apps.core.spreadsheet import csv_rows

CITY_TZ = ZoneInfo("Asia/Tokyo")

INVENTORY_HEADER = [
    "資産番号", "ホスト名", "種別", "メーカー", "機種", "シリアル番号", "OS", "OSバージョン", "所属", "設置場所",
    "ネットワーク区分", "購入日", "リース終了日", "サポート終了日", "状態",
]  # fmt: skip
HYGIENE_HEADER = [
    "報告日", "ホスト名", "シリアル番号", "ウイルス対策製品", "エンジンバージョン", "定義ファイル日付",
    "リアルタイム保護", "最終パッチ適用日", "未適用更新数", "基準適合率",
]  # fmt: skip


@dataclass(frozen=True)
class InventoryRow:
    asset_tag: str
    hostname: str
    kind: str  # as a ledger writes it: ノートPC, サーバ, UTM ...
    maker: str
    model: str
    serial: str
    os_name: str
    os_version: str
    department: str  # the 課's code
    location: str
    zone: str  # マイナンバー利用事務系 / LGWAN接続系 / インターネット接続系
    purchase_date: date | None = None
    lease_end: date | None = None
    end_of_support: date | None = None
    status: str = "使用中"


@dataclass(frozen=True)
class Observation:
    """What an agent saw on one host on one day."""

    hostname: str
    serial: str
    day: date
    av_product: str = "Microsoft Defender Antivirus"
    av_engine: str = "1.1.24090.11"
    av_on: bool = True
    signatures_current: bool = True
    signature_date: date | None = None
    patches: tuple[tuple[str, date], ...] = ()  # (KB, installed on)
    missing_updates: int = 0
    os_name: str = "Microsoft Windows 11 Pro"
    os_version: str = "10.0.22631"
    baseline_pct: Decimal | None = None


def _csv(header: list[str], rows: Iterable[list[object]], *, bom: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(csv_rows([header, *rows]))  # an agent's file, but written by mamori: same rule
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def inventory_csv(rows: Iterable[InventoryRow]) -> bytes:
    """UTF-8 with a BOM, as Excel saves it, Japanese headings."""
    return _csv(
        INVENTORY_HEADER,
        (
            [
                r.asset_tag,
                r.hostname,
                r.kind,
                r.maker,
                r.model,
                r.serial,
                r.os_name,
                r.os_version,
                r.department,
                r.location,
                r.zone,
                _day(r.purchase_date),
                _day(r.lease_end),
                _day(r.end_of_support),
                r.status,
            ]
            for r in rows
        ),
    )


def hygiene_csv(observations: Iterable[Observation]) -> bytes:
    """An antivirus console's daily export: signature dates, real-time state, patches, baseline."""
    return _csv(
        HYGIENE_HEADER,
        (
            [
                o.day.isoformat(),
                o.hostname,
                o.serial,
                o.av_product,
                o.av_engine,
                _day(o.signature_date),
                "有効" if o.av_on else "無効",
                _day(max((d for _kb, d in o.patches), default=None)),
                o.missing_updates,
                "" if o.baseline_pct is None else f"{o.baseline_pct}%",
            ]
            for o in observations
        ),
    )


def _unix(day: date, hour: int) -> int:
    return int(datetime.combine(day, time(hour), CITY_TZ).timestamp())


def osquery_lines(observations: Iterable[Observation]) -> bytes:
    """The filesystem logger's snapshot lines: security products, patches and OS of each host-day."""
    out = []
    for o in observations:
        moment = _unix(o.day, 9)
        calendar = datetime.fromtimestamp(moment, UTC).strftime("%a %b %d %H:%M:%S %Y UTC")
        base = {"hostIdentifier": o.hostname, "calendarTime": calendar, "unixTime": str(moment),
                "epoch": "0", "counter": "0", "numerics": False, "decorations": {"hostname": o.hostname},
                "action": "snapshot"}  # fmt: skip
        products = [{"type": "Antivirus", "name": o.av_product, "state": "On" if o.av_on else "Off",
                     "state_timestamp": "", "remediation_path": "",
                     "signatures_up_to_date": "1" if o.signatures_current else "0"}]  # fmt: skip
        patches = [{"hotfix_id": kb, "installed_on": f"{d.month}/{d.day}/{d.year}", "description": "Update",
                    "caption": "", "csname": o.hostname, "fix_comments": "", "installed_by": "NT AUTHORITY\\SYSTEM",
                    "install_date": ""} for kb, d in o.patches]  # fmt: skip
        system = [{"hostname": o.hostname, "hardware_serial": o.serial, "cpu_brand": "Intel(R) Core(TM) i5"}]
        os_row = [{"name": o.os_name, "version": o.os_version, "platform": "windows", "build": "22631"}]
        for name, rows in (("pack_hygiene_av", products), ("pack_hygiene_patches", patches),
                           ("pack_hygiene_system", system), ("pack_hygiene_os", os_row)):  # fmt: skip
            if rows:
                out.append(json.dumps(base | {"name": name, "snapshot": rows}, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode()


def _response(items: list[dict[str, object]]) -> dict[str, object]:
    return {
        "data": {"affected_items": items, "total_affected_items": len(items), "total_failed_items": 0,
                 "failed_items": []},
        "message": "All selected items were returned", "error": 0,
    }  # fmt: skip


def wazuh_bundle(observations: list[Observation]) -> bytes:
    """`GET /agents`, `GET /sca/{id}` and `GET /syscollector/{id}/packages` for each host, bundled."""
    agents, sca, packages = [], {}, {}
    for i, o in enumerate(observations, start=1):
        agent_id = f"{i:03d}"
        keepalive = (
            datetime.combine(o.day, time(9), CITY_TZ).astimezone(UTC).isoformat().replace("+00:00", "Z")
        )
        agents.append({"id": agent_id, "name": o.hostname, "status": "active", "lastKeepAlive": keepalive,
                       "os": {"name": o.os_name, "version": o.os_version, "platform": "windows"},
                       "version": "Wazuh v4.9.2"})  # fmt: skip
        if o.baseline_pct is not None:
            total = 300
            passed = int(o.baseline_pct * total / 100)
            sca[agent_id] = _response([{"policy_id": "cis_win2022", "name": "CIS Microsoft Windows Server 2022 Benchmark v2.0.0",
                                        "pass": passed, "fail": total - passed, "invalid": 0, "total_checks": total,
                                        "score": int(o.baseline_pct), "end_scan": keepalive}])  # fmt: skip
        packages[agent_id] = _response(
            [{"name": o.av_product, "version": o.av_engine, "vendor": "", "format": "win"}]
        )
    return json.dumps(
        {"agents": _response(agents), "sca": sca, "packages": packages}, ensure_ascii=False, indent=1
    ).encode()


def days_back(today: date, n: int) -> list[date]:
    """The last n days, oldest first."""
    return [today - timedelta(days=k) for k in range(n - 1, -1, -1)]
