"""Wazuh server API JSON: the bundle of agents, SCA, packages and hotfixes, and a bare GET /agents."""

import json
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mamori.apps.devices.formats import FormatError, read_wazuh


def test_bundle_gives_one_report_per_connected_agent(fixture_bytes):
    parsed = read_wazuh(fixture_bytes("wazuh_bundle.json"))
    somu, shimin = parsed
    assert (somu.source, somu.agent_id, somu.hostname, somu.line) == ("wazuh", "001", "SOMU-PC001", 2)
    # 2024-11-30T16:05Z is 1 December in Japan
    assert somu.reported_on == date(2024, 12, 1)
    assert (somu.os_name, somu.os_version) == ("Microsoft Windows 11 Pro", "10.0.22631.4460")
    assert somu.baseline_pass_pct == Decimal("92.3")  # 277 / (277 + 23); the 9 invalid checks do not count
    assert (somu.av_product, somu.av_engine_version) == ("Trend Micro Apex One Security Agent", "14.0.12737")
    assert somu.hotfixes == ("KB5044033", "KB5046633")
    assert (somu.av_signature_date, somu.av_realtime, somu.last_patch_date, somu.missing_updates) == (
        None,
        None,
        None,
        None,
    )
    assert shimin.host_key == "shimin-pc014"
    assert (shimin.reported_on, shimin.baseline_pass_pct, shimin.av_product) == (
        date(2024, 11, 20),
        Decimal("60.0"),
        "",
    )
    skipped = sorted(p.params["agent"] for p in parsed.notes)
    assert skipped == ["000", "003"]  # the manager (keep-alive 9999-12-31) and an agent never connected


def test_reported_day_follows_the_given_time_zone(fixture_bytes):
    somu, _ = read_wazuh(fixture_bytes("wazuh_bundle.json"), tz=ZoneInfo("UTC"))
    assert somu.reported_on == date(2024, 11, 30)


def test_bare_agents_response(fixture_bytes):
    (report,) = read_wazuh(fixture_bytes("wazuh_agents.json"))
    assert (report.hostname, report.reported_on, report.baseline_pass_pct) == (
        "LG-FILE01",
        date(2024, 11, 30),
        None,
    )


def test_truncated_file_names_where_it_stops(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_wazuh(fixture_bytes("wazuh_truncated.json"))
    (message,) = caught.value.messages()
    assert message.startswith(f"{caught.value.line}行目: JSON として読めません（")
    assert message.endswith("ファイルが途中で切れていないか確かめてください")


def test_wrong_types_are_named_by_path(fixture_bytes):
    with pytest.raises(FormatError) as caught:
        read_wazuh(fixture_bytes("wazuh_wrong_types.json"))
    assert caught.value.messages() == [
        "agents.data.affected_items[2]: オブジェクト のはずが 文字列 です",
        "hotfixes: オブジェクト のはずが 配列 です",
        "agents.data.affected_items[0].lastKeepAlive: 日時 'yesterday' が読めません（例 2024-04-01T09:00:00Z）",
        "agents.data.affected_items[0].os: オブジェクト のはずが 文字列 です",
        "sca.001.data.affected_items[0].pass: 整数 のはずが 文字列 です",
        "agents.data.affected_items[1].name: 文字列 のはずが 配列 です",
    ]


@pytest.mark.parametrize("document", [b"[]", b'{"items": []}', b'"agents"'])
def test_other_json_is_refused(document):
    with pytest.raises(FormatError) as caught:
        read_wazuh(document)
    assert "Wazuh API の応答" in str(caught.value)


def test_api_error_response_is_refused():
    with pytest.raises(FormatError) as caught:
        read_wazuh(b'{"data": {"affected_items": []}, "error": 1, "message": "Permission denied"}')
    assert caught.value.messages() == [
        "agents.error: Wazuh API がエラーを返した応答です（error=1）。取得し直してください"
    ]


def _agents(ids, total):
    items = [
        {"id": i, "name": f"PC-{i}", "status": "active", "lastKeepAlive": "2024-11-30T00:00:00Z"} for i in ids
    ]
    return {"data": {"affected_items": items, "total_affected_items": total}, "error": 0}


def test_a_file_short_of_the_api_total_is_refused():
    # GET /agents answers 500 agents unless asked for more: the rest would look silent
    with pytest.raises(FormatError) as caught:
        read_wazuh(json.dumps(_agents(["001", "002"], 1200)).encode())
    assert caught.value.messages() == [
        "agents: エージェント 1200 台のうち 2 台分しかありません。GET /agents を limit=100000 で（またはすべてのページを）取得してください"
    ]


def test_agents_in_pages():
    bundle = {"agents": [_agents(["001", "002"], 3), _agents(["003"], 3)]}
    assert [r.agent_id for r in read_wazuh(json.dumps(bundle).encode())] == ["001", "002", "003"]


def test_a_short_package_list_is_read_with_a_note():
    packages = {
        "data": {
            "affected_items": [{"name": "ESET Endpoint Security", "version": "11"}],
            "total_affected_items": 300,
        }
    }
    bundle = {"agents": _agents(["001"], 1), "packages": {"001": packages}}
    parsed = read_wazuh(json.dumps(bundle).encode())
    assert [r.av_product for r in parsed] == ["ESET Endpoint Security"]
    assert [str(n) for n in parsed.notes] == [
        "packages.001.data.affected_items: 300 件のうち 1 件分しかないので、あるものだけ読みました（limit を増やすと全件になります）"
    ]
