"""Benchmark: reading 1,200 devices and 30 days of their hygiene reports with apps.devices.formats.

Run: `.venv/bin/python bench/device_formats.py [--devices 1200] [--days 30] [--repeat 3]`. Builds
the files in memory in each tool's shape — an inventory CSV (CP932, as Excel saves it), one hygiene
CSV for the whole period, 30 daily osquery result logs (security products, security center, a
patches snapshot of 25 KBs, os_version, system_info per host) and 30 daily Wazuh bundles (agents,
SCA, 80 packages pulled with `select=name,version` and 25 hotfixes per agent) — then times each
reader. Prints a Markdown table of the median wall and CPU seconds; the issue's budget is 10 s for
the whole import, database writes included.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from mamori.apps.devices.formats import read_hygiene_csv, read_inventory_csv, read_osquery, read_wazuh

START = date(2024, 11, 1)
ZONES = ("マイナンバー利用事務系", "LGWAN接続系", "インターネット接続系")


def host(i: int) -> str:
    return f"PC-{i:05d}"


def inventory_csv(devices: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "資産番号",
            "ホスト名",
            "種別",
            "メーカー",
            "機種",
            "シリアル番号",
            "OS",
            "所属",
            "ネットワーク区分",
            "購入日",
            "サポート終了日",
            "状態",
        ]
    )
    for i in range(devices):
        writer.writerow(
            [
                f"A-{i:05d}",
                host(i),
                "ノートPC",
                "富士通",
                "LIFEBOOK",
                f"SN{i:08d}",
                "Windows 11 Pro",
                f"第{i % 33 + 1}課",
                ZONES[i % 3],
                f"令和{i % 6 + 2}年4月1日",
                "2027-10-14",
                "使用中",
            ]
        )
    return out.getvalue().encode("cp932")


def hygiene_csv(devices: int, days: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "報告日",
            "ホスト名",
            "ウイルス対策製品",
            "エンジンバージョン",
            "定義ファイル日付",
            "リアルタイム保護",
            "最終パッチ適用日",
            "未適用更新数",
            "基準適合率",
        ]
    )
    for d in range(days):
        day = START + timedelta(days=d)
        for i in range(devices):
            writer.writerow(
                [
                    day.isoformat(),
                    host(i),
                    "Apex One",
                    "14.0.12737",
                    (day - timedelta(days=i % 9)).isoformat(),
                    "有効",
                    "2024/10/9",
                    i % 4,
                    f"{80 + i % 20}.5%",
                ]
            )
    return out.getvalue().encode()


def _line(name: str, h: str, when: int, **body: object) -> str:
    return json.dumps(
        {
            "name": name,
            "hostIdentifier": h,
            "calendarTime": "",
            "unixTime": str(when),
            "epoch": "0",
            "counter": "1",
            "numerics": False,
            "decorations": {"hostname": h},
            **body,
        }
    )


def osquery_day(devices: int, day: date) -> bytes:
    when = int(datetime(day.year, day.month, day.day, 1, tzinfo=UTC).timestamp())
    lines = []
    for i in range(devices):
        h = host(i)
        lines.append(
            _line(
                "av",
                h,
                when,
                action="added",
                columns={
                    "type": "Antivirus",
                    "name": "Apex One",
                    "state": "On",
                    "state_timestamp": "",
                    "remediation_path": "",
                    "signatures_up_to_date": "1" if i % 7 else "0",
                },
            )
        )
        lines.append(
            _line(
                "wsc",
                h,
                when,
                action="snapshot",
                snapshot=[
                    {
                        "firewall": "Good",
                        "autoupdate": "Good",
                        "antivirus": "Good",
                        "antispyware": "Good",
                        "internet_settings": "Good",
                        "windows_security_center_service": "Good",
                        "user_account_control": "Good",
                    }
                ],
            )
        )
        lines.append(
            _line(
                "patches",
                h,
                when,
                action="snapshot",
                snapshot=[
                    {
                        "csname": h,
                        "hotfix_id": f"KB50{k:05d}",
                        "caption": "",
                        "description": "Security Update",
                        "fix_comments": "",
                        "installed_by": "NT AUTHORITY\\SYSTEM",
                        "install_date": "",
                        "installed_on": f"{k % 12 + 1}/9/2024",
                    }
                    for k in range(25)
                ],
            )
        )
        lines.append(
            _line(
                "os",
                h,
                when,
                action="snapshot",
                snapshot=[
                    {
                        "name": "Microsoft Windows 11 Pro",
                        "version": "10.0.22631",
                        "major": "10",
                        "minor": "0",
                        "patch": "",
                        "build": "22631",
                        "platform": "windows",
                        "platform_like": "windows",
                        "codename": "",
                        "arch": "64-bit",
                    }
                ],
            )
        )
        lines.append(
            _line(
                "system",
                h,
                when,
                action="snapshot",
                snapshot=[{"hostname": h, "uuid": "", "hardware_serial": f"SN{i:08d}", "computer_name": h}],
            )
        )
    return ("\n".join(lines) + "\n").encode()


def _response(items: list[dict[str, object]]) -> dict[str, object]:
    return {
        "data": {
            "affected_items": items,
            "total_affected_items": len(items),
            "total_failed_items": 0,
            "failed_items": [],
        },
        "message": "",
        "error": 0,
    }


def wazuh_day(devices: int, day: date) -> bytes:
    keepalive = f"{day.isoformat()}T01:00:00+00:00"
    ids = [f"{i + 1:03d}" for i in range(devices)]
    agents = [
        {
            "os": {"name": "Microsoft Windows 11 Pro", "platform": "windows", "version": "10.0.22631.4460"},
            "status": "active",
            "id": a,
            "name": host(i),
            "lastKeepAlive": keepalive,
            "version": "Wazuh v4.9.2",
        }
        for i, a in enumerate(ids)
    ]
    scan = {"id": 0, "time": keepalive}
    bundle = {
        "agents": _response(agents),
        "sca": {
            a: _response(
                [
                    {
                        "policy_id": "cis_win11",
                        "name": "CIS",
                        "pass": 250,
                        "fail": 50,
                        "score": 83,
                        "end_scan": keepalive,
                    }
                ]
            )
            for a in ids
        },
        # as pulled with ?select=name,version (the reader needs no more; see formats/wazuh.py)
        "packages": {
            a: _response(
                [{"name": f"Package {k}", "version": "1.0"} for k in range(79)]
                + [{"name": "Trend Micro Apex One Security Agent", "version": "14.0.12737"}]
            )
            for a in ids
        },
        "hotfixes": {
            a: _response([{"scan": scan, "hotfix": f"KB50{k:05d}", "agent_id": a} for k in range(25)])
            for a in ids
        },
    }
    return json.dumps(bundle).encode()


def timed(label: str, repeat: int, files: list[bytes], reader) -> tuple[str, int, int, float, float]:
    """Median wall and CPU seconds: on a shared machine the CPU time is the fairer figure."""
    walls, cpus = [], []
    records = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        records = sum(len(reader(f)) for f in files)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return label, sum(len(f) for f in files), records, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    days = [START + timedelta(days=d) for d in range(args.days)]
    rows = [
        timed("inventory CSV (CP932)", args.repeat, [inventory_csv(args.devices)], read_inventory_csv),
        timed("hygiene CSV, one file", args.repeat, [hygiene_csv(args.devices, args.days)], read_hygiene_csv),
        timed(
            f"osquery logs, {args.days} daily files",
            args.repeat,
            [osquery_day(args.devices, d) for d in days],
            read_osquery,
        ),
        timed(
            f"Wazuh bundles, {args.days} daily files",
            args.repeat,
            [wazuh_day(args.devices, d) for d in days],
            read_wazuh,
        ),
    ]
    print(f"{args.devices} devices × {args.days} days, median of {args.repeat}\n")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| reader | input MB | records | wall s | CPU s |")
    print("|---|---:|---:|---:|---:|")
    for label, size, records, wall, cpu in rows:
        print(f"| {label} | {size / 2**20:.1f} | {records:,} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
