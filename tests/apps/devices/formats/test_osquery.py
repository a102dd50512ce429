"""osquery result logs: differential, snapshot and batched lines, merged per host per day."""

from datetime import date

import pytest

from mamori.apps.devices.formats import FormatError, read_osquery


def test_differential_lines_make_one_report_per_host_and_day(fixture_bytes):
    parsed = read_osquery(fixture_bytes("osquery_differential.log"))
    (report,) = parsed
    assert (report.source, report.hostname, report.reported_on, report.line) == (
        "osquery",
        "SOMU-PC001",
        date(2024, 11, 30),
        1,
    )
    # Defender is listed but off; the product that is on is the antivirus. The removed line is ignored.
    assert (report.av_product, report.av_realtime, report.av_signatures_current) == (
        "Trend Micro Apex One Antivirus",
        True,
        True,
    )
    assert report.last_patch_date == date(2024, 11, 13)  # the newest installed_on, written M/D/YYYY
    assert report.hotfixes == ("KB5044033", "KB5046633")
    assert (report.os_name, report.os_version) == ("Microsoft Windows 11 Pro", "10.0.22631")
    assert report.av_signature_date is None and report.missing_updates is None
    assert [n.params["name"] for n in parsed.notes] == ["pack_inventory_users"]


def test_snapshots_over_two_days(fixture_bytes):
    day1, day2 = sorted(read_osquery(fixture_bytes("osquery_snapshot.log")), key=lambda r: r.reported_on)
    assert (day1.reported_on, day2.reported_on) == (date(2024, 11, 29), date(2024, 11, 30))
    assert (day1.av_signatures_current, day1.av_realtime) == (True, True)  # security center: Good
    assert (day2.av_signatures_current, day2.av_realtime) == (False, None)  # Poor: on or off is not said
    # the failed November update does not count; the October one (1728518400 = 2024-10-10 09:00 JST) does
    assert day1.last_patch_date == day2.last_patch_date == date(2024, 10, 10)
    assert day1.serial == "NE98765432"


def test_batched_lines(fixture_bytes):
    (report,) = read_osquery(fixture_bytes("osquery_batch.log"))
    assert (report.hostname, report.av_product, report.av_realtime, report.av_signatures_current) == (
        "KAIGO-PC003",
        "ESET Endpoint Security",
        False,
        False,
    )


def test_truncated_last_line(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_osquery(fixture_bytes("osquery_truncated.log"))
    assert caught.value.line == 5
    assert "JSON として読めません" in str(caught.value)


def test_bad_lines(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_osquery(fixture_bytes("osquery_bad.log"))
    assert caught.value.messages() == ["4行目: JSON のオブジェクト（{…}）ではありません"]
    with pytest.raises(FormatError) as caught:
        read_osquery(fixture_bytes("osquery_bad.log").rsplit(b"\n", 2)[0])
    assert caught.value.messages() == ["3行目: unixTime 'not-a-time' が時刻として読めません"]


def test_wrong_types(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_osquery(fixture_bytes("osquery_wrong_types.log"))
    assert caught.value.messages() == [
        "1行目: name は文字列のはずが 配列 です",
        "2行目: snapshot はオブジェクトの配列のはずが オブジェクト です",
        "3行目: hostIdentifier に NUL文字（\\u0000）が含まれています",
    ]


def test_a_log_without_hygiene_queries_is_refused():
    line = b'{"name": "users", "hostIdentifier": "PC1", "unixTime": "1732924800", "columns": {"uid": "1"}, "action": "added"}\n'
    with pytest.raises(FormatError) as caught:
        read_osquery(line)
    assert caught.value.messages() == ["衛生状態に使える結果（ウイルス対策・パッチ・OS）がありません"]
