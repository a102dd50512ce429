"""Demo devices for みなと台市: about 1,200 devices across the 33 課 and the three zones, and ten days
of hygiene reports with a realistic spread (a few stale signatures, some unpatched PCs, 道路課
behind, a few PCs gone quiet), all written as the tools' files and imported through the real import
path. The firewall, mail gateway and internet-connection equipment have renewal plans; the firewall's
support ended earlier this fiscal year. Idempotent: a second run finds the devices and stops."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import IO

from django.utils import timezone

from mamori.apps.core.demo_city import DEPARTMENTS
from mamori.apps.core.messages import server_text
from mamori.apps.core.models import Organisation
from mamori.apps.core.wareki import fiscal_year_of, fiscal_year_range

from . import imports, services
from .demo_files import (
    InventoryRow,
    Observation,
    days_back,
    hygiene_csv,
    inventory_csv,
    osquery_lines,
    wazuh_bundle,
)
from .models import Device, DeviceImport, ImportState, RenewalStatus

ACTOR = "demo"
SEED = 20260401
PCS = 1100
DAYS = 10
BEHIND = "7002"  # 道路課: signatures and patches weeks behind
#: each maker with a model of its own (a "Dell ThinkPad" would tell the officer the demo is made up)
PC_MODELS = [
    ("富士通", "LIFEBOOK U9313"),
    ("NEC", "Mate MKL44"),
    ("Dell", "Latitude 5440"),
    ("Lenovo", "ThinkPad L14"),
]
MYNUMBER_DEPARTMENTS = {"2003", "2004", "3001", "3002", "4001", "4002", "4003", "4004"}
INFORMATION_POLICY = "1004"
ZONE = {"m": "マイナンバー利用事務系", "l": "LGWAN接続系", "i": "インターネット接続系"}


def _network(today: date) -> list[InventoryRow]:
    """The centre's equipment; the firewall's support ended this fiscal year, before today; half the
    switches' ends with this fiscal year."""
    fy_start, fy_end = fiscal_year_range(fiscal_year_of(today))
    fw_end = max(fy_start, today - timedelta(days=45)) if today > fy_start else today - timedelta(days=1)
    rows = [
        InventoryRow("NW-FW-01", "fw01", "UTM", "Fortinet", "FortiGate 200E", "FG200E0001", "FortiOS", "6.4.15",
                     INFORMATION_POLICY, "本庁舎サーバ室", ZONE["i"], date(2018, 3, 20), None, fw_end),
        InventoryRow("NW-MG-01", "mgw01", "メールゲートウェイ", "Soliton", "MailZipper", "MZ0002", "", "",
                     INFORMATION_POLICY, "本庁舎サーバ室", ZONE["i"], date(2020, 3, 15), None,
                     today + timedelta(days=240)),
        InventoryRow("NW-GW-01", "inet-gw01", "インターネット接続機器", "YAMAHA", "RTX3510", "YR3510001", "", "",
                     INFORMATION_POLICY, "本庁舎サーバ室", ZONE["i"], date(2023, 2, 1), None, date(fy_end.year + 4, 3, 31)),
    ]  # fmt: skip
    for i in range(1, 26):
        zone = ZONE["m"] if i <= 6 else ZONE["l"] if i <= 22 else ZONE["i"]
        eos = fy_end if i <= 12 else date(fy_end.year + 3, 9, 30)
        rows.append(InventoryRow(f"NW-SW-{i:02d}", f"sw{i:02d}", "L2スイッチ", "Allied Telesis", "x530L-28GTX",
                                 f"AT530{i:05d}", "AlliedWare Plus", "5.5.2", INFORMATION_POLICY,
                                 f"本庁舎{1 + i % 6}階", zone, date(2019, 9, 1), None, eos))  # fmt: skip
    for i in range(1, 11):
        rows.append(InventoryRow(f"NW-AP-{i:02d}", f"ap{i:02d}", "無線LANアクセスポイント", "Cisco", "Catalyst 9115",
                                 f"FGL9115{i:04d}", "", "", INFORMATION_POLICY, f"本庁舎{1 + i % 6}階",
                                 ZONE["l"], date(2022, 4, 1), None, date(fy_end.year + 2, 3, 31)))  # fmt: skip
    return rows


def inventory_rows(rng: random.Random, today: date) -> list[InventoryRow]:
    return _fleet(rng, today) + _network(today)


def _fleet(rng: random.Random, today: date) -> list[InventoryRow]:
    """PCs by each 課's size, and the servers of 情報政策課 in each zone (two near their end of support:
    dates follow `today`, so the demo tells the same story in any year)."""
    sections = [(code, weight) for _d, _n, sections in DEPARTMENTS for code, _name, weight in sections]
    total = sum(w for _c, w in sections)
    rows = []
    for code, weight in sections:
        for n in range(1, round(PCS * weight / total) + 1):
            if code in MYNUMBER_DEPARTMENTS:
                zone = ZONE["m"] if n % 5 < 2 else ZONE["l"]
            else:
                zone = ZONE["i"] if n % 10 == 0 else ZONE["l"]
            bought = date(2019 + rng.randrange(6), rng.choice([4, 7, 10]), 1)
            rows.append(InventoryRow(
                f"PC-{code}-{n:03d}", f"C{code}-PC{n:03d}", rng.choice(["ノートPC", "デスクトップ"]),
                *rng.choice(PC_MODELS),
                f"S{code}{n:04d}{rng.randrange(10**4):04d}", "Windows 11 Pro", "23H2", code, "本庁舎", zone,
                bought, bought.replace(year=bought.year + 5), None,
            ))  # fmt: skip
    for n in range(1, 61):
        zone = ZONE["m"] if n <= 20 else ZONE["l"] if n <= 50 else ZONE["i"]
        eos = today + timedelta(days=38) if n in (7, 33) else date(today.year + 5, 10, 14)
        rows.append(InventoryRow(f"SV-{n:03d}", f"sv{n:03d}", "サーバ", "Dell", "PowerEdge R650", f"SVC{n:05d}",
                                 "Windows Server 2022 Standard", "21H2", INFORMATION_POLICY, "本庁舎サーバ室", zone,
                                 date(2021, 10, 1), None, eos))  # fmt: skip
    return rows


def observations(
    rows: list[InventoryRow], today: date, rng: random.Random, days: int = DAYS
) -> list[Observation]:
    """`days` days per PC and server. Most are healthy; the spread is drawn once per host."""
    found = []
    for row in rows:
        if not row.asset_tag.startswith(("PC-", "SV-")):
            continue
        luck = rng.random()
        behind = row.department == BEHIND and luck < 0.7
        stale = behind or luck > 0.98
        unpatched = behind or 0.90 < luck <= 0.96
        quiet_from = days - 8 if 0.96 < luck <= 0.97 else None  # stopped reporting 8 days ago
        patch_day = today - timedelta(days=rng.randrange(50, 80) if unpatched else rng.randrange(3, 20))
        base = Observation(
            hostname=row.hostname, serial=row.serial, day=today,
            av_product="Apex One" if row.asset_tag.startswith("SV-") else "Microsoft Defender Antivirus",
            patches=(("KB5031356", patch_day - timedelta(days=30)), ("KB5032190", patch_day)),
            missing_updates=rng.randrange(2, 6) if unpatched else 0,
            os_name=row.os_name, os_version=row.os_version,
            baseline_pct=Decimal(rng.choice([62, 74, 85, 88, 91, 93, 94, 95, 96, 97])) if row.asset_tag.startswith("SV-") else None,
        )  # fmt: skip
        for k, day in enumerate(days_back(today, days)):
            if quiet_from is not None and k >= quiet_from:
                break
            signature = day - timedelta(days=rng.randrange(10, 25) if stale else rng.randrange(0, 2))
            found.append(replace(base, day=day, signatures_current=not stale, signature_date=signature))
    return found


def _import(filename: str, data: bytes, stdout: IO[str]) -> DeviceImport:
    record = imports.import_submit(actor=ACTOR, filename=filename, data=data)
    record = imports.import_execute(import_id=record.pk)
    if record.state != ImportState.SUCCEEDED:
        stdout.write(
            f"機器: {filename} の取込に失敗しました: {'; '.join(server_text(e) for e in record.errors[:3])}\n"
        )
    return record


def _renewal_plans(today: date) -> None:
    fy = fiscal_year_of(today)
    tags = {d.asset_tag: d for d in Device.objects.filter(asset_tag__startswith=("NW-"))}
    tags |= {d.asset_tag: d for d in Device.objects.filter(asset_tag__in=["SV-007", "SV-033"])}
    plans = [
        ("インターネット接続系ファイアウォール更新", fy, 18_480_000, RenewalStatus.ORDERED, ["NW-FW-01"],
         "サポート終了後の更新。納入は年度内の予定"),
        ("メールゲートウェイ（無害化）更新", fy + 1, 9_900_000, RenewalStatus.BUDGETED, ["NW-MG-01"], ""),
        ("インターネット接続機器更新", fy + 4, 6_600_000, RenewalStatus.PLANNED, ["NW-GW-01"], ""),
        ("庁内LANスイッチ更新（第1期）", fy + 1, 12_100_000, RenewalStatus.PLANNED,
         [f"NW-SW-{i:02d}" for i in range(1, 13)], "マイナンバー利用事務系を優先"),
        ("業務サーバ更新（2台）", fy + 1, 7_260_000, RenewalStatus.BUDGETED, ["SV-007", "SV-033"], ""),
    ]  # fmt: skip
    for title, year, yen, status, devices, note in plans:
        services.renewal_plan_create(
            actor=ACTOR, devices=[tags[t] for t in devices], title=title, fiscal_year=year, budget_yen=yen,
            status=status, note=note,
        )  # fmt: skip


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    if Device.objects.exists() or not organisation.departments.filter(code=INFORMATION_POLICY).exists():
        return
    rng = random.Random(SEED)
    today = timezone.localdate()
    rows = inventory_rows(rng, today)
    _import("機器台帳.csv", inventory_csv(rows), stdout)
    found = observations(rows, today, rng)
    # The マイナンバー系 cannot reach the centre: its antivirus console's CSV is carried over.
    mynumber = {r.hostname for r in rows if r.zone == ZONE["m"]}
    servers = {r.hostname for r in rows if r.asset_tag.startswith("SV-")}
    _import("mynumber-av-export.csv", hygiene_csv(o for o in found if o.hostname in mynumber), stdout)
    _import(
        "osquery-results.log",
        osquery_lines(o for o in found if o.hostname not in mynumber and o.hostname not in servers),
        stdout,
    )
    _import(
        "av-console-servers.csv",
        hygiene_csv(o for o in found if o.hostname in servers and o.hostname not in mynumber),
        stdout,
    )
    _import(
        "wazuh-agents.json",
        wazuh_bundle([o for o in found if o.hostname in servers and o.day == today]),
        stdout,
    )
    _renewal_plans(today)
    stdout.write(f"機器: {Device.objects.count():,}台、衛生状況の報告 {len(found):,}件を取込\n")
