"""One upload form for every format: the content tells which reader a file needs."""

import pytest

from mamori.apps.devices.formats import FormatError, detect_format, read_file

CASES = [
    ("inventory_city.csv", "inventory_csv"),
    ("inventory_glpi.csv", "inventory_csv"),
    ("inventory_snipeit.csv", "inventory_csv"),
    ("inventory_cp932.csv", "inventory_csv"),
    ("hygiene.csv", "hygiene_csv"),
    ("wazuh_bundle.json", "wazuh"),
    ("wazuh_agents.json", "wazuh"),
    ("osquery_differential.log", "osquery"),
    ("osquery_snapshot.log", "osquery"),
    ("osquery_batch.log", "osquery"),
]


@pytest.mark.parametrize(("name", "expected"), CASES)
def test_fixture_formats_are_detected(fixture_bytes, name, expected):
    data = fixture_bytes(name)
    assert detect_format(name, data) == expected
    # the name does not matter: an export saved as .txt is still read
    assert detect_format("upload.txt", data) == expected


def test_read_file_dispatches(fixture_bytes):
    kind, parsed = read_file("results.log", fixture_bytes("osquery_differential.log"))
    assert kind == "osquery"
    assert len(parsed) == 1


@pytest.mark.parametrize(
    "data", [b"", b"\x89PNG\r\n\x1a\n....", b"a,b,c\n1,2,3\n", b"[1, 2]", b"PK\x03\x04zip"]
)
def test_unknown_content_is_refused(data):
    with pytest.raises(FormatError) as caught:
        detect_format("devices.xlsx", data)
    assert str(caught.value).startswith("ファイル 'devices.xlsx' の形式が分かりません。")


def test_csv_under_a_title_row_and_in_utf16():
    titled = "機器台帳（令和6年度）,,\n資産番号,ホスト名,種別\nA-1,PC-1,PC\n".encode("cp932")
    assert detect_format("台帳.csv", titled) == "inventory_csv"
    assert detect_format("台帳.txt", "資産番号\t種別\r\nA-1\tPC\r\n".encode("utf-16")) == "inventory_csv"


def test_a_full_width_first_header_after_a_bom():
    # U+FF21 is EF BC A1 in UTF-8: the BOM is removed as a prefix, not as a set of bytes
    data = "\ufeff資産番号,ＯＳ,種別\nA-1,Windows,PC\n".encode()
    assert detect_format("a.csv", data) == "inventory_csv"
    assert detect_format("a.csv", "\ufeffＡ,種別\nA-1,PC\n".encode()) == "inventory_csv"
