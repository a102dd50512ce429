"""Hygiene CSV: one line per device per day; empty cells mean "not reported"."""

from datetime import date
from decimal import Decimal

import pytest

from mamori.apps.devices.formats import FormatError, read_hygiene_csv


def test_reports_with_every_field(fixture_bytes):
    somu, shimin, kaigo = read_hygiene_csv(fixture_bytes("hygiene.csv"))
    assert somu.source == "csv"
    assert (somu.line, somu.hostname, somu.serial, somu.reported_on) == (
        2,
        "SOMU-PC001",
        "FJ12345678",
        date(2024, 11, 30),
    )
    assert (somu.av_product, somu.av_engine_version, somu.av_signature_date, somu.av_realtime) == (
        "Apex One",
        "14.0.12737",
        date(2024, 11, 30),
        True,
    )
    assert (somu.last_patch_date, somu.missing_updates, somu.baseline_pass_pct) == (
        date(2024, 11, 13),
        0,
        Decimal("92.5"),
    )
    assert (shimin.av_signature_date, shimin.missing_updates, shimin.baseline_pass_pct) == (
        date(2024, 10, 2),
        3,
        Decimal("71.0"),
    )
    assert kaigo.reported_on == date(2024, 11, 30)  # 令和6年11月30日
    assert (kaigo.av_realtime, kaigo.av_signature_date, kaigo.missing_updates, kaigo.baseline_pass_pct) == (
        False,
        None,
        None,
        None,
    )


def test_every_bad_line_is_named(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_hygiene_csv(fixture_bytes("hygiene_bad.csv"))
    assert caught.value.messages() == [
        "3行目: 報告日 '2024-11-31' は日付（例 2024-04-01、2024/4/1、令和6年4月1日）ではありません",
        "4行目: 定義ファイル日付 'yesterday' は日付（例 2024-04-01、2024/4/1、令和6年4月1日）ではありません",
        "4行目: リアルタイム保護 'たぶん' は はい・いいえ（有効・無効、1・0）のどちらかにしてください",
        "4行目: 未適用更新数 '-1' は 0 以上の整数にしてください",
        "4行目: 基準適合率 '120%' は 0〜100 の数（例 85.5 または 85.5%）にしてください",
        "5行目: 同じ機器の同じ日の報告が2行目にもあります",
        "6行目: ホスト名・シリアル番号・資産番号 がすべて空です",
    ]


def test_english_headers_and_host_with_domain_is_the_same_device():
    data = b"date,hostname,signatures up to date,realtime\n2024-11-30,PC-1,1,on\n2024-11-30,pc-1.city.lg.jp,0,off\n"
    with pytest.raises(FormatError) as caught:
        read_hygiene_csv(data)
    assert caught.value.messages() == ["3行目: 同じ機器の同じ日の報告が2行目にもあります"]
    (report,) = read_hygiene_csv(data.rsplit(b"\n", 2)[0] + b"\n")
    assert (report.av_signatures_current, report.av_realtime) == (True, True)
