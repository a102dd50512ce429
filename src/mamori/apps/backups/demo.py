"""Demo data for みなと台市's four protected systems, with REAL backups, an offsite copy and a drill.

Generated under MAMORI_HOME/demo-data (all fictional): a resident-records SQLite database (backed up
through SQLite's online backup API), financial-accounting CSV exports, a document-management folder
and a file-server share with Japanese file names. The primary repositories live in
MAMORI_HOME/repositories/primary/<system>; the offsite ones on the demo's own S3 server with Object
Lock (`demo_s3`: SeaweedFS on 127.0.0.1, running while the demo runs), immutable for
`OFFSITE_LOCK_DAYS` days, so the four systems meet 3-2-1-1-0 for real. Idempotent: a second call
creates nothing twice and reruns no job that succeeded.
"""

from __future__ import annotations

import csv
import os
import random
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction

from mamori.apps.core.models import Classification, Department, NetworkZone, Organisation

from . import services
from .demo_s3 import DemoS3, demo_s3_start
from .jobs import run_execute, run_request
from .models import (
    OK_STATUSES,
    JobKind,
    Medium,
    ProtectedSystem,
    RepositoryRole,
    SourceKind,
)
from .own_files import demo_data_dir, repositories_dir
from .passwords import generate_password

ACTOR = "demo"
FAMILY = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "松本",
    "井上",
]
GIVEN = [
    "太郎",
    "花子",
    "翔太",
    "美咲",
    "健一",
    "由美",
    "大輔",
    "陽菜",
    "拓海",
    "さくら",
    "誠",
    "愛",
    "蓮",
    "結衣",
    "悠真",
]
TOWNS = ["港町", "潮見台", "汐入", "緑ヶ丘", "桜木町", "本町", "海岸通", "丘の上"]


@dataclass(frozen=True)
class DemoSystem:
    code: str
    name: str
    dept_code: str
    dept_name: str
    zone: str
    classification: str
    rpo_hours: int
    rto_minutes: int


SYSTEMS = [
    DemoSystem(
        "jumin",
        "住民情報システム",
        "3001",
        "市民課",
        NetworkZone.MYNUMBER,
        Classification.CONFIDENTIAL_3,
        24,
        240,
    ),
    DemoSystem(
        "zaimu",
        "財務会計システム",
        "2002",
        "財政課",
        NetworkZone.LGWAN,
        Classification.CONFIDENTIAL_2,
        24,
        480,
    ),
    DemoSystem(
        "bunsho",
        "文書管理システム",
        "1001",
        "総務課",
        NetworkZone.LGWAN,
        Classification.CONFIDENTIAL_2,
        24,
        480,
    ),
    DemoSystem(
        "fileserver",
        "ファイルサーバ",
        "1004",
        "情報政策課",
        NetworkZone.LGWAN,
        Classification.CONFIDENTIAL_2,
        24,
        720,
    ),
]
SCHEDULES = [
    (JobKind.BACKUP, "0 2 * * *"),
    (JobKind.CHECK_SUBSET, "30 5 * * *"),
    (JobKind.OFFSITE_COPY, "0 4 * * 0"),
    (JobKind.FORGET_PRUNE, "0 6 * * 0"),
    (JobKind.RESTORE_DRILL, "0 10 1 * *"),
]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _residents(path: Path, rng: random.Random, count: int = 1500) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "CREATE TABLE residents (id INTEGER PRIMARY KEY, household_no TEXT, family_name TEXT, given_name TEXT,"
            " birth_date TEXT, sex TEXT, address TEXT, moved_in TEXT)"
        )
        rows = []
        for i in range(1, count + 1):
            birth = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 32000))
            rows.append(
                (
                    i,
                    f"H{(i + 1) // 2:06d}",
                    rng.choice(FAMILY),
                    rng.choice(GIVEN),
                    birth.isoformat(),
                    rng.choice(["男", "女"]),
                    f"みなと台市{rng.choice(TOWNS)}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号",
                    (birth + timedelta(days=rng.randrange(0, 9000))).isoformat(),
                )
            )
        conn.executemany("INSERT INTO residents VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.commit()
    finally:
        conn.close()


def _finance(folder: Path, rng: random.Random) -> None:
    items = ["報酬", "給料", "旅費", "需用費", "役務費", "委託料", "使用料及び賃借料", "備品購入費", "負担金"]
    for month in range(4, 11):
        path = folder / f"歳出執行状況_2026年{month:02d}月.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(["伝票番号", "所属", "節", "支出額（円）", "支払日"])
            for n in range(120):
                w.writerow(
                    [
                        f"{month:02d}-{n:05d}",
                        rng.choice(["総務課", "市民課", "財政課", "道路課"]),
                        rng.choice(items),
                        rng.randrange(1000, 3_000_000),
                        f"2026-{month:02d}-{rng.randint(1, 28):02d}",
                    ]
                )


def _documents(folder: Path, rng: random.Random) -> None:
    for n in range(1, 31):
        section = rng.choice(["総務課", "市民課", "情報政策課", "財政課"])
        _write(
            folder / "2026年度" / section / f"起案_{n:04d}.txt",
            f"起案番号 み総第{n}号\n件名 {rng.choice(['庁内LANの更新', '研修の実施', '委託契約の締結', '規程の改正'])}について\n"
            f"起案者 {section}\n\n本件について、別紙のとおり決裁を仰ぎます。\n" * 3,
        )


def _file_server(folder: Path, rng: random.Random) -> None:
    files = {
        "共有/総務課/会議録_2026年10月.txt": "情報セキュリティ委員会 会議録\n出席者 8名\n議題 バックアップ運用の見直し\n",
        "共有/情報政策課/庁内ネットワーク構成メモ.txt": "三層分離: マイナンバー利用事務系 / LGWAN接続系 / インターネット接続系\n",
        "共有/情報政策課/バックアップ手順書.md": "# バックアップ手順書\n\n1. 毎日2時に自動実行\n2. 毎週日曜に遠隔地へコピー\n",
        "共有/市民課/窓口案内_令和8年度.txt": "住民票の写しの交付 窓口1番\n転入・転出届 窓口2番\n",
        "個人/山田/メモ.txt": "来週の研修資料を準備すること\n",
    }
    for name, text in files.items():
        _write(folder / name, text * rng.randint(5, 40))


def generate_demo_data(root: Path, *, seed: int = 20261126) -> dict[str, Path]:
    """Create the four systems' data once (a second call leaves existing data as it is)."""
    rng = random.Random(seed)
    paths = {
        "jumin": root / "jumin" / "residents.sqlite3",
        "zaimu": root / "zaimu" / "exports",
        "bunsho": root / "bunsho",
        "fileserver": root / "fileserver",
    }
    if not paths["jumin"].exists():
        _residents(paths["jumin"], rng)
    if not paths["zaimu"].exists():
        _finance(paths["zaimu"], rng)
    if not paths["bunsho"].exists():
        _documents(paths["bunsho"], rng)
    if not paths["fileserver"].exists():
        _file_server(paths["fileserver"], rng)
    return paths


def _department(organisation: Organisation, code: str, name: str) -> Department:
    dept = Department.objects.filter(code=code).first()
    return dept or Department.objects.create(organisation=organisation, code=code, name=name)


def _free_dir(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`, ... when a repository left by an earlier demo (another database,
    perhaps another password) is there: an old repository is never reused nor deleted."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


OFFSITE_LOCK_DAYS = 14
OFFSITE_LOCK_MODE = "GOVERNANCE"  # the demo's data can still be cleaned up by its owner


def _system(
    organisation: Organisation, spec: DemoSystem, data: Path, password: str, s3: DemoS3
) -> ProtectedSystem:
    existing = ProtectedSystem.objects.filter(code=spec.code).first()
    if existing is not None:
        return existing
    repos = repositories_dir()
    with transaction.atomic():
        system = services.system_create(
            actor=ACTOR,
            code=spec.code,
            name=spec.name,
            department=_department(organisation, spec.dept_code, spec.dept_name),
            network_zone=spec.zone,
            classification=spec.classification,
            rpo_hours=spec.rpo_hours,
            rto_minutes=spec.rto_minutes,
        )
        kind = SourceKind.SQLITE if spec.code == "jumin" else SourceKind.PATH
        services.source_create(actor=ACTOR, system=system, kind=kind, path=str(data), excludes="*.tmp\n~$*")
        primary = _free_dir(repos / RepositoryRole.PRIMARY / spec.code)
        primary.parent.mkdir(parents=True, exist_ok=True)
        services.repository_create(
            actor=ACTOR, system=system, name="庁内バックアップ", url=str(primary), password=password,
            role=RepositoryRole.PRIMARY, medium=Medium.DISK, initialize=True,
        )  # fmt: skip
        services.repository_create(
            actor=ACTOR, system=system, name="遠隔地保管（S3・改ざん防止）", url=s3.url(s3.free_name(spec.code)),
            password=password, role=RepositoryRole.OFFSITE, medium=Medium.OBJECT_STORAGE, initialize=True,
            immutable_days=OFFSITE_LOCK_DAYS, lock_mode=OFFSITE_LOCK_MODE, secrets=s3.secrets,
        )  # fmt: skip
        for job, cron in SCHEDULES:
            full = {"drill_sample": 0} if job == JobKind.RESTORE_DRILL else {}  # the RTO needs a full restore
            services.schedule_set(actor=ACTOR, system=system, kind=job, cron=cron, **full)
    return system


def _ensure_run(system: ProtectedSystem, kind: str, stdout: IO[str]) -> None:
    if system.runs.filter(kind=kind, status__in=OK_STATUSES).exists():
        return
    detail = {"sample": 0} if kind == JobKind.RESTORE_DRILL else None  # a full-restore drill
    run = run_request(actor=ACTOR, system=system, kind=kind, enqueue=False, detail=detail)
    run = run_execute(run_id=run.pk)
    stdout.write(
        f"  {system.name}: {run.get_kind_display()} {run.get_status_display()} {run.error_text}".rstrip()
        + "\n"
    )


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    """Create the four systems (once) and run a backup, offsite copy, check and drill for each."""
    password = os.environ.get("MAMORI_DEMO_PASSWORD") or generate_password()
    data = generate_demo_data(demo_data_dir())
    s3 = demo_s3_start(Path(settings.MAMORI_HOME) / "demo-s3")
    stdout.write(
        f"バックアップ: 遠隔地保管用の S3 サーバ（SeaweedFS、Object Lock）を {s3.endpoint}/ で起動（終了時に停止）\n"
    )
    stdout.write("バックアップ: 4システムのデモデータ、リポジトリ、スケジュール\n")
    for spec in SYSTEMS:
        system = _system(organisation, spec, data[spec.code], password, s3)
        for kind in (JobKind.BACKUP, JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET, JobKind.RESTORE_DRILL):
            _ensure_run(system, kind, stdout)


__all__ = ["SYSTEMS", "generate_demo_data", "setup_demo"]
