"""The optional Wazuh API pull, against a schema-faithful loopback HTTPS server (`wazuh_server`), not a
real Wazuh manager: the officer saves the connection (the password encrypted, never shown or
audited), pulls in the worker, and the bundle is imported like an uploaded one. Failures end the
job in one line with nothing imported: a refused login, a page cut short, no answer, a certificate
that does not verify, a plain-HTTP URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse

from mamori.apps.core.models import AuditEvent, ProgressState, Role
from mamori.apps.core.progress import progress_execute
from mamori.apps.devices import wazuh_api
from mamori.apps.devices.models import DeviceImport, HygieneReport, WazuhSource
from mamori.apps.devices.wazuh_pull import wazuh_pull_start, wazuh_source_save
from tests.apps.disposal.helpers import signed_in

from .test_imports import ledger  # noqa: F401 - the fixture: two devices the bundle's agents name
from .wazuh_server import PASSWORD, USER, FakeWazuh, fake_wazuh

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeWazuh]:
    with fake_wazuh(tmp_path_factory.mktemp("wazuh")) as running:
        yield running


@pytest.fixture
def wazuh(server: FakeWazuh) -> Iterator[FakeWazuh]:
    server.faults.clear()
    server.requests.clear()
    yield server
    server.faults.clear()


def _pull(world, **settings):  # type: ignore[no-untyped-def]
    officer = world.users[Role.SECURITY_OFFICER]
    wazuh_source_save(actor=officer, **settings)
    return progress_execute(job_id=wazuh_pull_start(actor=officer).pk)


def _settings(server: FakeWazuh, **changes):  # type: ignore[no-untyped-def]
    return {
        "url": server.url,
        "username": USER,
        "password": PASSWORD,
        "ca_certificate": server.ca_pem,
        "timeout_seconds": 5,
    } | changes


def test_the_officer_configures_pulls_and_the_reports_arrive(ledger, world, wazuh, monkeypatch):  # noqa: F811
    monkeypatch.setattr(wazuh_api, "PAGE", 2)  # four agents: two pages
    wazuh.faults.add("expire_once")  # the first data request finds the token expired
    officer = signed_in(world, Role.SECURITY_OFFICER)
    saved = officer.post(reverse("devices:wazuh"), _settings(wazuh))
    assert saved.status_code == 302, saved.content.decode()[:800]
    source = WazuhSource.objects.get()
    assert PASSWORD not in source.password_encrypted and PASSWORD not in str(
        list(AuditEvent.objects.values_list("after", flat=True))
    )
    page = officer.get(reverse("devices:wazuh")).content.decode()
    assert PASSWORD not in page and "今すぐ取得する" in page

    started = officer.post(reverse("devices:wazuh-pull"))
    job_id = int(started["Location"].rstrip("/").split("/")[-1])
    job = progress_execute(job_id=job_id)  # what `mamori worker` does

    assert job.state == ProgressState.SUCCEEDED, job.error
    record = DeviceImport.objects.get(pk=job.params["import_id"])
    assert record.kind == "wazuh" and record.filename.startswith("wazuh-api-")
    matched = set(HygieneReport.objects.filter(source="wazuh").values_list("device__asset_tag", flat=True))
    assert matched == {"A-0001", "A-0002"}  # as the same responses imported from a file
    assert [r for r in wazuh.requests if r.startswith("GET /agents")] == [
        "GET /agents?offset=0&limit=2",  # refused: expired; logged in again
        "GET /agents?offset=0&limit=2",
        "GET /agents?offset=2&limit=2",
    ]
    assert wazuh.requests.count("POST /security/user/authenticate") == 2
    assert not any("/003" in r for r in wazuh.requests)  # never connected: nothing to ask
    done = officer.get(reverse("progress_detail", args=[job.pk])).content.decode()
    assert reverse("devices:import-detail", args=[record.pk]) in done


@pytest.mark.parametrize(
    ("fault", "changes", "message"),
    [
        (None, {"password": "wrong"}, "Wazuh API へのログインが拒否されました（HTTP 401）"),
        ("truncate_page", {}, "Wazuh API の応答が途中で切れました（/agents）"),
        ("hang", {"timeout_seconds": 1}, "Wazuh API が 1 秒以内に応答しませんでした（/agents）"),
        (None, {"ca_certificate": ""}, "Wazuh API の証明書を検証できません"),  # not in the system's CAs
        ("redirect", {}, "Wazuh API がエラーを返しました（HTTP 307"),  # the password does not follow
    ],
)
def test_a_failed_pull_ends_in_one_line_with_nothing_imported(
    ledger,  # noqa: F811
    world,
    wazuh,
    monkeypatch,
    fault,
    changes,
    message,
):
    monkeypatch.setattr(wazuh_api, "PAGE", 2)
    if fault:
        wazuh.faults.add(fault)
    job = _pull(world, **_settings(wazuh, **changes))
    assert job.state == ProgressState.FAILED and job.error.startswith(message), job.error
    assert "\n" not in job.error and "Traceback" not in job.error
    assert not DeviceImport.objects.exists() and not HygieneReport.objects.exists()


def test_a_plain_http_url_or_an_unreadable_ca_is_refused_before_anything_is_stored(world, wazuh):
    with pytest.raises(wazuh_api.DeviceError, match="https://"):
        wazuh_source_save(actor="officer", **_settings(wazuh, url=wazuh.url.replace("https", "http")))
    with pytest.raises(wazuh_api.DeviceError, match="CA証明書を読めません"):
        wazuh_source_save(
            actor="officer", **_settings(wazuh, ca_certificate="-----BEGIN CERTIFICATE-----\nAAAA")
        )
    assert not WazuhSource.objects.exists()


def test_without_a_connection_the_pull_is_not_offered(world):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    assert "今すぐ取得する" not in officer.get(reverse("devices:wazuh")).content.decode()
    response = officer.post(reverse("devices:wazuh-pull"), follow=True)
    assert "接続先が設定されていません" in response.content.decode()
