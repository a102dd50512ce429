"""Inventory CSV: a city's own sheet, GLPI and Snipe-IT exports, CP932, and the lines that are wrong."""

from datetime import date

import pytest

from mamori.apps.devices.formats import FormatError, read_inventory_csv


def test_city_sheet_reads_every_column_into_codes(fixture_bytes):
    parsed = read_inventory_csv(fixture_bytes("inventory_city.csv"))
    assert parsed.encoding == "utf-8-sig"
    by_tag = {r.asset_tag: r for r in parsed}
    assert len(by_tag) == 10
    pc = by_tag["A-0001"]
    assert (pc.line, pc.hostname, pc.kind, pc.zone, pc.status) == (2, "SOMU-PC001", "pc", "lgwan", "in_use")
    assert (pc.maker, pc.model, pc.serial, pc.os_name, pc.os_version) == (
        "富士通",
        "LIFEBOOK U9313",
        "FJ12345678",
        "Windows 11 Pro",
        "23H2",
    )
    assert (pc.purchase_date, pc.lease_end, pc.end_of_support) == (
        date(2023, 4, 1),
        date(2028, 3, 31),
        date(2027, 10, 14),
    )
    assert by_tag["A-0002"].zone == "mynumber"
    assert by_tag["A-0002"].lease_end == date(2025, 8, 31)  # 令和7年8月31日
    assert by_tag["N-0001"].purchase_date == date(2019, 3, 1)  # 平成31年3月1日
    kinds = {tag: r.kind for tag, r in by_tag.items()}
    assert kinds["N-0001"] == "firewall"
    assert kinds["N-0002"] == "mail_gateway"
    assert kinds["N-0003"] == "internet_gateway"
    assert kinds["S-0001"] == "server"
    assert kinds["N-0004"] == "switch"
    assert kinds["N-0005"] == "wireless"
    assert by_tag["N-0005"].status == "spare"
    assert by_tag["A-0004"].status == "disposed"
    assert by_tag["A-0003"].purchase_date == date(2023, 4, 1)  # R5.4.1
    assert by_tag["A-0003"].department == "税務課, 収納係"
    assert not parsed.notes


def test_formula_like_text_is_kept_as_written(fixture_bytes):
    device = {r.asset_tag: r for r in read_inventory_csv(fixture_bytes("inventory_city.csv"))}["A-0003"]
    assert device.hostname == "=cmd|' /C calc'!A0"
    assert device.serial == "@SUM(1+1)"


def test_glpi_export_semicolons_and_english_headers(fixture_bytes):
    parsed = read_inventory_csv(fixture_bytes("inventory_glpi.csv"))
    rows = [(r.hostname, r.asset_tag, r.kind, r.serial, r.os_name, r.status) for r in parsed]
    assert rows == [
        ("SOMU-PC001", "A-0001", "pc", "FJ12345678", "Microsoft Windows 11 Pro", "in_use"),
        ("LG-FILE01", "S-0001", "server", "SVC0001", "Microsoft Windows Server 2022 Standard", "in_use"),
        ("PRN-2F-01", "P-0001", "other", "RC0001", "", "in_use"),
    ]
    ignored = {p.params["name"] for p in parsed.notes}
    assert ignored == {"Entity", "Last update"}


def test_snipeit_export(fixture_bytes):
    parsed = read_inventory_csv(fixture_bytes("inventory_snipeit.csv"))
    rows = [(r.asset_tag, r.hostname, r.kind, r.maker, r.status, r.end_of_support) for r in parsed]
    assert rows == [
        ("A-0102", "KOSEKI-PC02", "pc", "Lenovo", "in_use", date(2027, 6, 30)),
        ("A-0103", "", "pc", "Lenovo", "spare", date(2027, 6, 30)),
        ("N-0103", "fw-branch", "firewall", "Fortinet", "retired", date(2023, 4, 1)),
    ]


def test_cp932_with_full_width_cells(fixture_bytes):
    parsed = read_inventory_csv(fixture_bytes("inventory_cp932.csv"))
    assert parsed.encoding == "cp932"
    first, second = parsed
    assert (first.hostname, first.department, first.zone, first.purchase_date) == (
        "KOSEKI-PC01",
        "戸籍住民課",
        "mynumber",
        date(2020, 4, 1),
    )
    assert (second.zone, second.purchase_date) == ("lgwan", date(2021, 4, 1))


def test_every_bad_line_is_named_and_nothing_is_returned(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(fixture_bytes("inventory_bad.csv"))
    assert caught.value.messages() == [
        "3行目: ネットワーク区分 'DMZ' は マイナンバー利用事務系・LGWAN接続系・インターネット接続系 のいずれかにしてください",
        "4行目: 購入日 '2023-13-01' は日付（例 2024-04-01、2024/4/1、令和6年4月1日）ではありません",
        "5行目: 資産番号 'A-0001' が2行目と重複しています",
        "6行目: 状態 'なくした' は 使用中・予備・退役・廃棄 のいずれかにしてください",
        "6行目: 購入日 '平成31年5月1日' は日付（例 2024-04-01、2024/4/1、令和6年4月1日）ではありません",
        "7行目: 資産番号・ホスト名・シリアル番号 がすべて空です",
        "8行目: 種別 が空です",
    ]
    assert caught.value.line == 3
    assert caught.value.count == 7
    assert str(caught.value).endswith("（ほか 6 件）")


def test_unknown_kind_becomes_other_with_a_note():
    parsed = read_inventory_csv("資産番号,種別\nX-1,ロボット掃除機\n".encode())
    assert [r.kind for r in parsed] == ["other"]
    assert [str(n) for n in parsed.notes] == [
        "2行目: 種別 'ロボット掃除機' は分からないので その他 として読みました"
    ]


def test_missing_required_columns():
    with pytest.raises(FormatError) as caught:
        read_inventory_csv("メーカー,機種\nNEC,Mate\n".encode())
    assert caught.value.messages() == [
        "1行目: 必須の列 種別 がありません",
        "1行目: 資産番号・ホスト名・シリアル番号 のどれかの列が必要です",
    ]


def test_a_title_row_above_the_header_is_skipped_with_a_note():
    data = "機器台帳（令和6年度）,,\n作成: 情報政策課,,\n\n資産番号,ホスト名,種別\nA-1,PC-1,PC\n".encode(
        "cp932"
    )
    parsed = read_inventory_csv(data)
    assert [(r.line, r.asset_tag) for r in parsed] == [(5, "A-1")]
    assert [str(n) for n in parsed.notes] == [
        "4行目: 3行目までは表題として読み飛ばし、この行を見出しとして読みました"
    ]


def test_without_a_header_in_the_first_lines_the_first_row_is_judged():
    with pytest.raises(FormatError) as caught:
        read_inventory_csv("機器台帳,,\nA-1,PC-1,PC\n".encode())
    assert caught.value.messages()[0] == "1行目: 必須の列 種別 がありません"


def test_excel_unicode_text_is_utf16_with_tabs():
    parsed = read_inventory_csv("資産番号\tホスト名\t種別\r\nA-1\t総務-PC\tノートPC\r\n".encode("utf-16"))
    assert parsed.encoding == "utf-16"
    assert [(r.asset_tag, r.hostname, r.kind) for r in parsed] == [("A-1", "総務-PC", "pc")]
