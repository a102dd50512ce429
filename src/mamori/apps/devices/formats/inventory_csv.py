"""The device inventory from CSV: a city's own sheet, or a GLPI or Snipe-IT export.

Columns (Japanese name first; English, GLPI and Snipe-IT aliases accepted): 資産番号, ホスト名,
種別 (required), メーカー, 機種, シリアル番号, OS, OSバージョン, 所属, 設置場所, ネットワーク区分,
購入日, リース終了日, サポート終了日, 状態. Each line needs an asset tag, a hostname or a serial.
Kinds, zones and statuses are read from their usual spellings into codes; an unknown kind becomes
`other` with a note, an unknown zone or status is an error (they drive the coverage figures).
"""

from __future__ import annotations

from datetime import date

from .errors import Problem, Problems, gettext_noop
from .records import DeviceRecord, Parsed
from .table import TOO_LONG, read_table
from .values import BAD_DATE, fold, parse_date

COLUMNS: dict[str, tuple[str, ...]] = {
    "asset_tag": (
        "資産番号",
        "資産管理番号",
        "管理番号",
        "備品番号",
        "asset_tag",
        "asset tag",
        "inventory number",
        "otherserial",
        "棚卸番号",
        "在庫番号",
    ),
    "hostname": (
        "ホスト名",
        "コンピュータ名",
        "コンピューター名",
        "端末名",
        "機器名",
        "hostname",
        "host name",
        "computer name",
        "name",
        "asset name",
        "名前",
        "資産名",
    ),
    "kind": (
        "種別",
        "機器種別",
        "機器区分",
        "kind",
        "type",
        "category",
        "device type",
        "種類",
        "タイプ",
        "カテゴリ",
        "カテゴリー",
    ),
    "maker": ("メーカー", "製造元", "製造者", "maker", "manufacturer", "vendor"),
    "model": ("機種", "型番", "モデル", "機種名", "model", "model number"),
    "serial": ("シリアル番号", "製造番号", "シリアル", "serial", "serial number", "serial no."),
    "os_name": (
        "OS",
        "OS名",
        "os_name",
        "operating system",
        "operating system - name",
        "オペレーティングシステム",
        "オペレーティングシステム - 名前",
    ),
    "os_version": (
        "OSバージョン",
        "os_version",
        "os version",
        "operating system - version",
        "オペレーティングシステム - バージョン",
    ),
    "department": (
        "所属",
        "所属課",
        "課",
        "部署",
        "所管課",
        "管理部署",
        "利用部署",
        "department",
        "group",
        "グループ",
    ),
    "location": ("設置場所", "場所", "location", "ロケーション"),
    "zone": (
        "ネットワーク区分",
        "ネットワーク",
        "系統",
        "接続系",
        "セグメント",
        "zone",
        "network zone",
        "network",
    ),
    "purchase_date": (
        "購入日",
        "取得日",
        "導入日",
        "調達日",
        "purchase_date",
        "purchase date",
        "date of purchase",
        "購入日付",
    ),
    "lease_end": ("リース終了日", "リース満了日", "リース期限", "lease_end", "lease end", "lease end date"),
    "end_of_support": (
        "サポート終了日",
        "保守終了日",
        "サポート期限",
        "EOL",
        "EOS",
        "end_of_support",
        "end of support",
        "end of life",
        "eol date",
    ),
    "status": ("状態", "ステータス", "利用状況", "status", "status label"),
}
LABELS = {key: names[0] for key, names in COLUMNS.items()}
MAX_LENGTHS = {
    "asset_tag": 50,
    "hostname": 253,
    "serial": 100,
    "maker": 100,
    "model": 100,
    "os_name": 100,
    "os_version": 100,
    "department": 100,
    "location": 200,
}
DATE_COLUMNS = ("purchase_date", "lease_end", "end_of_support")

# Spellings folded (NFKC, case-folded, spaces removed) → code.
KIND_ALIASES = {
    "pc": (
        "pc",
        "パソコン",
        "パーソナルコンピュータ",
        "端末",
        "クライアント",
        "クライアントpc",
        "デスクトップ",
        "デスクトップpc",
        "ノート",
        "ノートpc",
        "ノートパソコン",
        "desktop",
        "laptop",
        "laptops",
        "desktops",
        "notebooks",
        "notebook",
        "computer",
        "computers",
        "workstation",
        "client",
        "シンクライアント",
        "thinclient",
        "タブレット",
        "tablet",
    ),
    "server": (
        "server",
        "servers",
        "サーバ",
        "サーバー",
        "仮想サーバ",
        "仮想サーバー",
        "virtualmachine",
        "vm",
    ),
    "firewall": (
        "firewall",
        "firewalls",
        "fw",
        "utm",
        "ファイアウォール",
        "ファイヤーウォール",
        "ファイアーウォール",
    ),
    "mail_gateway": (
        "mail_gateway",
        "mailgateway",
        "メールゲートウェイ",
        "メール中継",
        "メール中継サーバ",
        "メールリレー",
        "mailrelay",
        "smtpgateway",
        "メール無害化",
        "メール無害化装置",
    ),
    "internet_gateway": (
        "internet_gateway",
        "internetgateway",
        "インターネット接続機器",
        "インターネット接続装置",
        "インターネットゲートウェイ",
        "ルータ",
        "ルーター",
        "router",
        "routers",
        "proxy",
        "プロキシ",
        "プロキシサーバ",
        "web分離",
        "ネット分離装置",
        "無害化装置",
    ),
    "switch": (
        "switch",
        "switches",
        "スイッチ",
        "l2スイッチ",
        "l3スイッチ",
        "l2sw",
        "l3sw",
        "ハブ",
        "スイッチングハブ",
        "networkswitch",
    ),
    "wireless": (
        "wireless",
        "無線",
        "無線lan",
        "無線lanアクセスポイント",
        "アクセスポイント",
        "ap",
        "wifi",
        "accesspoint",
        "accesspoints",
        "wirelessaccesspoint",
    ),
    "other": (
        "other",
        "その他",
        "プリンタ",
        "プリンター",
        "複合機",
        "printer",
        "monitor",
        "モニタ",
        "phone",
        "電話",
        "networkequipment",
        "ネットワーク機器",
        "peripheral",
        "周辺機器",
    ),
}
ZONE_ALIASES = {
    "mynumber": (
        "mynumber",
        "マイナンバー利用事務系",
        "マイナンバー系",
        "個人番号利用事務系",
        "個人番号系",
        "マイナンバー",
    ),
    "lgwan": ("lgwan", "lgwan接続系", "lgwan系"),
    "internet": ("internet", "インターネット接続系", "インターネット系", "インターネット"),
}
STATUS_ALIASES = {
    "in_use": ("in_use", "inuse", "使用中", "稼働中", "運用中", "利用中", "貸出中", "deployed", "稼動中"),
    "spare": (
        "spare",
        "予備",
        "予備機",
        "在庫",
        "保管",
        "保管中",
        "未使用",
        "readytodeploy",
        "pending",
        "stock",
        "instock",
        "配備可能",
        "保留",
    ),
    "retired": (
        "retired",
        "退役",
        "廃止",
        "停止",
        "運用停止",
        "使用停止",
        "archived",
        "アーカイブ",
        "broken",
        "故障",
        "lost/stolen",
        "紛失",
        "outforrepair",
        "修理中",
    ),
    "disposed": ("disposed", "廃棄", "廃棄済", "廃棄済み", "処分済", "処分済み"),
}

UNKNOWN_KIND = gettext_noop("種別 '%(value)s' は分からないので その他 として読みました")
BAD_ZONE = gettext_noop(
    "ネットワーク区分 '%(value)s' は マイナンバー利用事務系・LGWAN接続系・インターネット接続系 のいずれかにしてください"
)
BAD_STATUS = gettext_noop("状態 '%(value)s' は 使用中・予備・退役・廃棄 のいずれかにしてください")
NO_KEY = gettext_noop("資産番号・ホスト名・シリアル番号 がすべて空です")
EMPTY_KIND = gettext_noop("種別 が空です")
DUPLICATE = gettext_noop("%(column)s '%(value)s' が%(first)d行目と重複しています")


def _code_index(aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {word.casefold(): code for code, words in aliases.items() for word in words}


_KINDS, _ZONES, _STATUSES = _code_index(KIND_ALIASES), _code_index(ZONE_ALIASES), _code_index(STATUS_ALIASES)


def code_of(value: str, index: dict[str, str]) -> str | None:
    """The code a spelling stands for; None when unknown. Spaces and width never matter."""
    return index.get("".join(fold(value).split()).casefold())


def read_inventory_csv(data: bytes) -> Parsed[DeviceRecord]:
    """Every device line of the file, or FormatError naming every bad line."""
    table = read_table(
        data, COLUMNS, labels=LABELS, required=("kind",), one_of=("asset_tag", "hostname", "serial")
    )
    problems = Problems()
    notes = list(table.notes)
    records = []
    first_seen: dict[tuple[str, str], int] = {}
    for line, row in table.rows:
        before = problems.count
        for key, limit in MAX_LENGTHS.items():
            if len(row.get(key, "")) > limit:
                problems.add(TOO_LONG, line=line, column=LABELS[key], limit=limit)
        if not (row.get("asset_tag") or row.get("hostname") or row.get("serial")):
            problems.add(NO_KEY, line=line)
        kind = code_of(row["kind"], _KINDS) if row["kind"] else None
        if not row["kind"]:
            problems.add(EMPTY_KIND, line=line)
        elif kind is None:
            notes.append(Problem(UNKNOWN_KIND, {"value": row["kind"]}, line=line))
            kind = "other"
        zone = code_of(row["zone"], _ZONES) if row.get("zone") else ""
        if zone is None:
            problems.add(BAD_ZONE, line=line, value=row["zone"])
        status = code_of(row["status"], _STATUSES) if row.get("status") else "in_use"
        if status is None:
            problems.add(BAD_STATUS, line=line, value=row["status"])
        dates: dict[str, date | None] = {}
        for key in DATE_COLUMNS:
            try:
                dates[key] = parse_date(row[key]) if row.get(key) else None
            except ValueError:
                problems.add(BAD_DATE, line=line, column=LABELS[key], value=row[key])
        for key in ("asset_tag", "serial"):
            value = row.get(key, "")
            if value and (key, value.casefold()) in first_seen:
                problems.add(
                    DUPLICATE,
                    line=line,
                    column=LABELS[key],
                    value=value,
                    first=first_seen[(key, value.casefold())],
                )
            elif value:
                first_seen[(key, value.casefold())] = line
        if problems.count > before:
            continue
        records.append(
            DeviceRecord(
                line=line,
                asset_tag=row.get("asset_tag", ""),
                hostname=row.get("hostname", ""),
                kind=kind or "other",
                maker=row.get("maker", ""),
                model=row.get("model", ""),
                serial=row.get("serial", ""),
                os_name=row.get("os_name", ""),
                os_version=row.get("os_version", ""),
                department=row.get("department", ""),
                location=row.get("location", ""),
                zone=zone or "",
                purchase_date=dates["purchase_date"],
                lease_end=dates["lease_end"],
                end_of_support=dates["end_of_support"],
                status=status or "in_use",
            )
        )
    problems.raise_if_any()
    return Parsed(tuple(records), table.encoding, tuple(notes))
