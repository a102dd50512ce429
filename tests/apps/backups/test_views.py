"""Pages: the role × view matrix, department scoping, browsing and downloading a snapshot's file,
"back up now" with its progress fragment, restore of a folder, acknowledging alerts, `status --json`."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from mamori.apps.backups import services
from mamori.apps.backups.jobs import run_request
from mamori.apps.backups.models import Alert, JobKind, Run, RunStatus
from mamori.apps.core.models import AuditEvent, Department, Role
from mamori.vault import api

from .conftest import REPO_PASSWORD, make_system, make_user

pytestmark = pytest.mark.django_db(transaction=True)
BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def world(sut, users, tmp_path, departments):
    sut.run()
    other = make_system(tmp_path / "jumin", departments["shimin"], code="jumin", name="住民情報システム")
    other.run()
    return sut


def as_user(client, users, name):
    if name != "anonymous":
        client.force_login(users[name], backend=BACKEND)
    return client


def urls(sut):
    code = sut.system.code
    run = Run.objects.filter(system=sut.system).first()
    path = str(sut.data / "共有" / "名簿.csv")
    return {
        "systems": ("get", reverse("backups:systems"), {}),
        "detail": ("get", reverse("backups:system-detail", args=[code]), {}),
        "snapshots": ("get", reverse("backups:snapshots", args=[code]), {}),
        "browse": ("get", reverse("backups:browse", args=[code, "latest"]), {}),
        "download": ("get", reverse("backups:download", args=[code, "latest", path.lstrip("/")]), {}),
        "run": ("get", reverse("backups:run-detail", args=[run.pk]), {}),
        "progress": ("get", reverse("backups:run-progress", args=[run.pk]), {}),
        "run_now": ("post", reverse("backups:run-now", args=[code]), {"kind": "check_subset"}),
    }


# expected status per role for the file-server system (department 情報政策課)
MATRIX = {
    "officer": {"systems": 200, "detail": 200, "snapshots": 200, "browse": 200, "download": 200, "run": 200,
                "progress": 200, "run_now": 302},
    "auditor": {"systems": 200, "detail": 200, "snapshots": 200, "browse": 200, "download": 403, "run": 200,
                "progress": 200, "run_now": 403},
    "lead": {"systems": 200, "detail": 404, "snapshots": 403, "browse": 403, "download": 403, "run": 404,
             "progress": 404, "run_now": 403},
    "staff": {k: 403 for k in ("systems", "detail", "snapshots", "browse", "download", "run", "progress", "run_now")},
    "anonymous": {k: 302 for k in ("systems", "detail", "snapshots", "browse", "download", "run", "progress", "run_now")},
}  # fmt: skip


@pytest.mark.parametrize("role", list(MATRIX))
def test_role_matrix(world, users, client, role):
    as_user(client, users, role)
    got = {}
    for name, (method, url, data) in urls(world).items():
        got[name] = getattr(client, method)(url, data).status_code
    assert got == MATRIX[role]


def test_lead_sees_only_own_departments_systems(world, users, client):
    page = as_user(client, users, "lead").get(reverse("backups:systems")).content.decode()
    assert "住民情報システム" in page and "ファイルサーバ" not in page


def test_overview_shows_the_lights_with_their_reason_and_the_checklist(world, users, client):
    page = as_user(client, users, "officer").get(reverse("backups:systems")).content.decode()
    assert page.count('data-light="amber"') == 2 and "同じサーバ上のパスのため遠隔地とみなしません" in page
    assert 'data-check="three_copies"' in page and 'data-check="zero_errors"' in page


def test_system_page_has_server_rendered_charts_and_no_inline_script(world, users, client):
    world.run()
    page = as_user(client, users, "officer").get(reverse("backups:system-detail", args=["fileserver"]))
    html = page.content.decode()
    assert html.count("<svg") == 2 and "<polyline" in html
    assert "<script>" not in html and "onclick" not in html


def test_browse_and_download_stream_the_exact_bytes(world, users, client):
    client = as_user(client, users, "officer")
    folder = str(world.data / "共有")
    page = client.get(
        reverse("backups:browse", args=["fileserver", "latest"]), {"path": folder}
    ).content.decode()
    assert "名簿.csv" in page and "総務課" in page
    response = client.get(
        reverse("backups:download", args=["fileserver", "latest", f"{folder}/名簿.csv".lstrip("/")])
    )
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert response["Content-Length"] == "3000"
    assert b"".join(response.streaming_content) == (world.data / "共有" / "名簿.csv").read_bytes()
    assert AuditEvent.objects.filter(action="backups.snapshot.download", actor="officer").count() == 1


def test_a_download_opens_the_repository_once_and_closes_it_even_if_never_read(
    world, users, client, monkeypatch
):
    opened, closed = [], []
    real_open, real_close = api.open_repository, api.Repository.close
    monkeypatch.setattr(api, "open_repository", lambda *a, **k: opened.append(1) or real_open(*a, **k))
    monkeypatch.setattr(api.Repository, "close", lambda self: closed.append(1) or real_close(self))
    url = reverse(
        "backups:download", args=["fileserver", "latest", f"{world.data}/共有/名簿.csv".lstrip("/")]
    )
    client = as_user(client, users, "officer")
    response = client.get(url)
    assert b"".join(response.streaming_content) == (world.data / "共有" / "名簿.csv").read_bytes()
    assert (len(opened), len(closed)) == (1, 1)  # before: 2 (its folder's listing, then the file)
    response = client.get(url)
    response.close()  # the client went away before the first byte
    assert (len(opened), len(closed)) == (2, 2)


def test_download_of_a_missing_path_is_a_clear_404(world, users, client):
    response = as_user(client, users, "officer").get(
        reverse("backups:download", args=["fileserver", "latest", "no/such/file"])
    )
    assert response.status_code == 404 and "見つかりません" in response.content.decode()


def test_back_up_now_then_progress_fragment_shows_the_finished_run(world, users, client):
    client = as_user(client, users, "officer")
    response = client.post(reverse("backups:run-now", args=["fileserver"]), {"kind": "backup"})
    run = Run.objects.filter(kind=JobKind.BACKUP, requested_by="officer").get()
    assert response["Location"] == reverse("backups:run-detail", args=[run.pk])
    assert run.status == RunStatus.SUCCEEDED
    fragment = client.get(
        reverse("backups:run-progress", args=[run.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-status="succeeded"' in fragment and "hx-trigger" not in fragment  # finished: polling stops


def test_queued_run_fragment_keeps_polling(world, users, client):
    run = run_request(actor="x", system=world.system, kind=JobKind.BACKUP, enqueue=False)
    html = (
        as_user(client, users, "officer").get(reverse("backups:run-detail", args=[run.pk])).content.decode()
    )
    assert 'hx-trigger="every 1s"' in html and reverse("backups:run-progress", args=[run.pk]) in html


def test_restore_a_folder_into_a_chosen_folder_names_where_it_went(world, users, client, tmp_path):
    target = tmp_path / "restored"
    folder = str(world.data / "共有" / "総務課")
    client = as_user(client, users, "officer")
    response = client.post(
        reverse("backups:restore", args=["fileserver", "latest"]),
        {"path": folder, "where": "folder", "target": str(target), "overwrite": "never"},
    )
    assert response.status_code == 302
    restored = target / "総務課" / "会議録.txt"  # the folder itself, not its eight parents
    assert restored.read_bytes() == (world.data / "共有" / "総務課" / "会議録.txt").read_bytes()
    assert sorted(p.name for p in target.iterdir()) == ["総務課"]
    page = client.get(response["Location"]).content.decode()
    assert f'data-field="restored-to">{target}/総務課<' in page
    assert AuditEvent.objects.filter(action="backups.run.request", actor="officer").exists()


def test_restore_into_an_existing_folder_keeps_or_replaces_as_chosen(world, users, client, tmp_path):
    busy = tmp_path / "busy"
    (busy / "総務課").mkdir(parents=True)
    (busy / "総務課" / "会議録.txt").write_text("edited after the backup")
    (busy / "keep.txt").write_text("mine")
    client = as_user(client, users, "officer")
    url = reverse("backups:restore", args=["fileserver", "latest"])
    folder = str(world.data / "共有" / "総務課")
    for overwrite, expected in (("never", "edited after the backup"), ("always", None)):
        response = client.post(
            url, {"path": folder, "where": "folder", "target": str(busy), "overwrite": overwrite}
        )
        run = Run.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
        assert run.status == RunStatus.SUCCEEDED, run.error_text
        text = (busy / "総務課" / "会議録.txt").read_text()
        assert text == (expected or (world.data / "共有" / "総務課" / "会議録.txt").read_text())
    assert (busy / "keep.txt").read_text() == "mine"


def test_restore_to_the_original_place_only_inside_the_backed_up_folders(world, users, client, tmp_path):
    client = as_user(client, users, "officer")
    url = reverse("backups:restore", args=["fileserver", "latest"])
    response = client.post(url, {"path": "/", "where": "original", "overwrite": "always"})
    assert response.status_code == 400 and "バックアップ元フォルダの中" in response.content.decode()
    lost = world.data / "共有" / "名簿.csv"
    content = lost.read_bytes()
    lost.unlink()
    response = client.post(url, {"path": str(lost), "where": "original", "overwrite": "never"})
    assert response.status_code == 302 and lost.read_bytes() == content


def test_alert_shown_until_acknowledged(world, users, client):
    services.repository_set_password(
        actor="t", repository=world.system.repositories.get(role="primary"), password="x"
    )
    world.run()
    client = as_user(client, users, "officer")
    page = client.get(reverse("backups:systems")).content.decode()
    alert = Alert.objects.get()
    assert f'data-alert="{alert.pk}"' in page
    assert (
        'data-system="fileserver"' in page and page.count('data-light="red"') == 1
    )  # the failed system is red
    client.post(reverse("backups:alert-ack", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.acknowledged_by == users["officer"]
    assert f'data-alert="{alert.pk}"' not in client.get(reverse("backups:systems")).content.decode()
    assert (
        as_user(client, users, "auditor").post(reverse("backups:alert-ack", args=[alert.pk])).status_code
        == 403
    )


def test_dashboard_card_replaces_the_placeholder(world, users, client):
    page = as_user(client, users, "officer").get(reverse("dashboard")).content.decode()
    assert 'data-card="backups"' in page and "3-2-1-1-0" in page


def test_status_json_has_no_secrets(world, capsys):
    call_command("status", "--json")
    out = capsys.readouterr().out
    data = json.loads(out)
    fs = next(s for s in data["systems"] if s["code"] == "fileserver")
    assert fs["status"] == "amber" and fs["protection_gaps"] and fs["last_backup"]["snapshot"]
    assert {r["role"] for r in fs["repositories"]} == {"primary", "offsite"}
    assert REPO_PASSWORD not in out and "password" not in out


def test_overview_query_count_is_bounded_per_system(world, users, client, django_assert_max_num_queries):
    client = as_user(client, users, "officer")
    for kind in (JobKind.OFFSITE_COPY, JobKind.CHECK_SUBSET, JobKind.RESTORE_DRILL):
        world.run(kind)
    with django_assert_max_num_queries(25):  # 2 systems: a handful per system + session, user, alerts
        client.get(reverse("backups:systems"))


def test_pages_read_in_english_when_english_is_chosen(world, users, client):
    client = as_user(client, users, "officer")
    world.run(JobKind.RESTORE_DRILL)
    detail = reverse("backups:system-detail", args=["fileserver"])
    japanese = client.get(reverse("backups:systems")).content.decode()
    assert "バックアップ — 保護対象システム" in japanese and "3つのコピー" in japanese
    assert "今すぐバックアップ" in client.get(detail).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("backups:systems")).content.decode()
    assert "<h1>Backups — Protected systems</h1>" in page
    assert "3 copies" in page and "1 offsite" in page and "0 check errors" in page
    assert "3つのコピー" not in page and "保護対象システム" not in page
    html = client.get(detail).content.decode()
    assert "Back up now" in html and "Run history" in html and "2 kinds of media" in html
    assert "今すぐバックアップ" not in html
    assert re.search(r"RPO / RTO</dt><dd>\d+ h .*/ \d+ min ", html), "RPO and RTO units in English"
    assert re.search(r"Passed \d+\.\d s \(within RTO\)", page), "the drill's duration in English"


def test_a_lead_sees_the_backup_card_of_their_departments_systems_only(world, users, departments, client):
    page = as_user(client, users, "lead").get(reverse("dashboard")).content.decode()
    card = page.split('data-card="backups"')[1].split("</section>")[0]
    assert "住民情報システム" in card and "ファイルサーバ" not in card
    assert "まだ記録がありません" not in page
    other = Department.objects.create(
        organisation=departments["soumu"].organisation, code="5000", name="建設部"
    )
    no_systems = make_user("lead-kensetsu", Role.DEPARTMENT_LEAD, other)
    page = as_user(client, {"x": no_systems}, "x").get(reverse("dashboard")).content.decode()
    assert 'data-card="backups"' not in page  # no system of theirs: no empty card
    page = as_user(client, users, "staff").get(reverse("dashboard")).content.decode()
    assert 'data-card="backups"' not in page


def test_an_alert_is_shown_in_the_readers_language(world, users, client):
    services.repository_set_password(
        actor="t", repository=world.system.repositories.get(role="primary"), password="x"
    )
    world.run()
    alert = Alert.objects.get()
    assert alert.message.startswith("バックアップが失敗しました: ")  # the e-mail's text, in Japanese
    client = as_user(client, users, "officer")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("backups:systems")).content.decode()
    shown = page.split(f'data-alert="{alert.pk}"')[1].split("</li>")[0]
    assert "Backup failed: " in shown and "が失敗しました" not in shown
    assert "Backup: the latest run failed" in page and "Backups is failing" not in page


def test_a_large_folder_is_browsed_page_by_page(sut, users, client):
    big = sut.data / "共有" / "大量"
    big.mkdir()
    for i in range(450):
        (big / f"文書{i:03d}.txt").write_text(str(i))
    sut.run()
    client = as_user(client, users, "officer")
    url = reverse("backups:browse", args=["fileserver", "latest"])
    first = client.get(url, {"path": str(big)}).content.decode()
    assert first.count("data-entry=") == 200 and 'data-pages="3"' in first and "文書000.txt" in first
    last = client.get(url, {"path": str(big), "page": 3}).content.decode()
    assert last.count("data-entry=") == 50 and "文書449.txt" in last and 'rel="next"' not in last


def test_search_finds_a_name_across_snapshots_and_only_officers_get_restore_buttons(world, users, client):
    url = reverse("backups:search", args=["fileserver"])
    page = as_user(client, users, "officer").get(url, {"q": "会議", "days": "30"}).content.decode()
    assert 'data-hits="1"' in page and "会議録.txt" in page and 'data-action="restore-original"' in page
    client.logout()
    page = as_user(client, users, "auditor").get(url, {"q": "会議", "days": "30"}).content.decode()
    assert 'data-hits="1"' in page and 'data-action="restore-original"' not in page
    page = client.get(url, {"q": "[", "days": "7"}).content.decode()
    assert 'data-hits="0"' in page  # a bracket is a character, not a pattern


def test_a_failed_backup_links_to_its_error_and_can_be_retried_from_there(world, users, client):
    hidden = world.data.with_name("moved-away")
    world.data.rename(hidden)  # the share was moved: the next backup fails
    failed = world.run()
    assert failed.status == RunStatus.FAILED
    officer = as_user(client, users, "officer")
    run_url = reverse("backups:run-detail", args=[failed.pk])
    for page in (reverse("backups:systems"), reverse("backups:system-detail", args=["fileserver"])):
        html = officer.get(page).content.decode()
        assert f'href="{run_url}" data-action="failed-run"' in html, page
    html = officer.get(run_url).content.decode()
    assert 'data-field="error"' in html and 'data-action="retry"' in html
    assert 'name="kind" value="backup"' in html
    hidden.rename(world.data)
    response = officer.post(reverse("backups:run-now", args=["fileserver"]), {"kind": "backup"})
    retried = Run.objects.filter(kind=JobKind.BACKUP, requested_by="officer").get()
    assert response["Location"] == reverse("backups:run-detail", args=[retried.pk])
    assert retried.status == RunStatus.SUCCEEDED
    assert 'data-action="failed-run"' not in officer.get(reverse("backups:systems")).content.decode()
    client.logout()
    auditor_view = as_user(client, users, "auditor").get(run_url).content.decode()
    assert 'data-field="error"' in auditor_view and 'data-action="retry"' not in auditor_view


def test_every_failed_job_kind_can_be_retried_and_a_full_drill_stays_full(world, users, client):
    officer = as_user(client, users, "officer")
    for kind in (JobKind.FORGET_PRUNE, JobKind.EXTEND_LOCKS):
        response = officer.post(reverse("backups:run-now", args=["fileserver"]), {"kind": kind})
        assert response.status_code == 302, kind
    run = run_request(
        actor="x", system=world.system, kind=JobKind.RESTORE_DRILL, detail={"sample": 0}, enqueue=False
    )
    Run.objects.filter(pk=run.pk).update(status=RunStatus.FAILED)
    html = officer.get(reverse("backups:run-detail", args=[run.pk])).content.decode()
    assert 'name="kind" value="restore_drill"' in html and 'name="full" value="1"' in html


def test_a_lead_is_offered_no_snapshot_pages_it_may_not_open(world, users, client):
    lead = as_user(client, users, "lead")
    html = lead.get(reverse("backups:system-detail", args=["jumin"])).content.decode()
    assert reverse("backups:snapshots", args=["jumin"]) not in html
    assert reverse("backups:search", args=["jumin"]) not in html
    run = Run.objects.filter(system__code="jumin", kind=JobKind.BACKUP).first()
    html = lead.get(reverse("backups:run-detail", args=[run.pk])).content.decode()
    assert run.snapshot_id in html and reverse("backups:browse", args=["jumin", run.snapshot_id]) not in html


def test_an_offsite_copy_run_links_to_the_snapshot_it_copied_which_opens(world, users, client):
    copy = world.run(JobKind.OFFSITE_COPY)
    source, copied = copy.detail["copied"][-1]
    assert copy.snapshot_id == copied != source  # the copy's own id lives in the offsite repository
    client = as_user(client, users, "officer")
    page = client.get(reverse("backups:run-detail", args=[copy.pk])).content.decode()
    browse = reverse("backups:browse", args=["fileserver", source])
    assert f'href="{browse}"' in page and reverse("backups:browse", args=["fileserver", copied]) not in page
    assert client.get(browse).status_code == 200
