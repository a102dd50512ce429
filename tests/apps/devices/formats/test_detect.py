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
