"""Files built to hurt: huge, deeply nested, NUL bytes, mixed encodings, cells past every limit."""

import pytest

from mamori.apps.devices.formats import (
    FormatError,
    read_hygiene_csv,
    read_inventory_csv,
    read_osquery,
    read_wazuh,
    table,
)


def test_nul_bytes_are_refused_by_line(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(fixture_bytes("inventory_nul.csv"))
    assert caught.value.messages() == [
        "2行目: NUL文字（0x00）が含まれています。CSVのテキストとして保存し直してください"
    ]


def test_mixed_encodings_name_the_unreadable_line(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(fixture_bytes("inventory_mixed_encoding.csv"))
    assert caught.value.messages() == ["2行目: 文字コード UTF-8 として読めない文字があります"]


def test_oversized_file_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(table, "MAX_BYTES", 1000)
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(b"x" * 1001)
    assert str(caught.value) == (
        "ファイルが大きすぎます（0.0 MB、上限 0 MB）。期間や部署で分けて取り込んでください"
    )


def test_the_default_size_limit_applies_to_every_reader():
    huge = b" " * (table.MAX_BYTES + 1)
    for reader in (read_inventory_csv, read_hygiene_csv, read_wazuh, read_osquery):
        with pytest.raises(FormatError, match="ファイルが大きすぎます"):
            reader(huge)


def test_row_limit(monkeypatch):
    monkeypatch.setattr(table, "MAX_ROWS", 3)
    data = "資産番号,種別\n" + "".join(f"A-{i},PC\n" for i in range(5))
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(
            data.encode(),
        )
    assert caught.value.messages() == [
        "5行目: 行が多すぎます（上限 3 行）。ファイルを分けて取り込んでください"
    ]


def test_deeply_nested_json_is_a_format_error_not_a_crash():
    deep = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(FormatError, match="入れ子が深すぎます"):
        read_wazuh(b'{"agents": ' + deep + b"}")
    line = b'{"name": "x", "hostIdentifier": "h", "unixTime": "1", "columns": ' + deep + b"}\n"
    with pytest.raises(FormatError, match="入れ子が深すぎます"):
        read_osquery(line)


def test_a_cell_past_the_csv_field_limit():
    data = "資産番号,種別\nA-1,".encode() + b"x" * 200_000 + b"\n"
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(data)
    assert caught.value.line == 2


def test_long_cells_are_refused_not_cut():
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(("資産番号,種別\n" + "A" * 51 + ",PC\n").encode())
    assert caught.value.messages() == ["2行目: 資産番号 が長すぎます（50文字まで）"]


def test_json_that_is_not_utf8():
    with pytest.raises(FormatError) as caught:
        read_wazuh('{"agents": "総務"}'.encode("cp932"))
    assert str(caught.value) == "JSON は UTF-8 で保存してください（13 バイト目が読めません）"


def test_escaped_nul_in_wazuh_text():
    document = b'{"data": {"affected_items": [{"id": "001", "name": "PC\\u0000", "status": "active", "lastKeepAlive": "2024-11-30T00:00:00Z"}]}, "error": 0}'
    with pytest.raises(FormatError) as caught:
        read_wazuh(document)
    assert caught.value.messages() == [
        "agents.data.affected_items[0].name: NUL文字（\\u0000）を含む文字列は取り込めません"
    ]


def test_the_error_shows_at_most_a_hundred_problems_and_counts_all():
    data = "資産番号,種別,購入日\n" + "".join(f"A-{i},PC,someday\n" for i in range(300))
    with pytest.raises(FormatError) as caught:
        read_inventory_csv(data.encode())
    assert (len(caught.value.problems), caught.value.count) == (100, 300)
    assert str(caught.value).endswith("（ほか 299 件）")
