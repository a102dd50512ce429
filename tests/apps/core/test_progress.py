"""Background work with progress (`mamori.apps.core.progress`): start → progress page → download.

The attacker's tests: another person's job (page, partial, file) is a 404, a role the kind does not
admit cannot start it, a failing job shows its one-line reason and never a traceback, the file is
private, a task delivered twice runs once.
"""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import AuditEvent, ProgressJob, ProgressState, Role
from mamori.apps.core.progress import (
    KEEP_DAYS,
    progress_execute,
    progress_result_path,
    progress_run,
    progress_start,
)

from .progress_kinds import REFUSAL, echo_job, register_test_kinds

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_a_started_job_runs_on_commit_and_its_file_is_downloaded(world, django_capture_on_commit_callbacks):
    register_test_kinds()
    staff = world.users[Role.STAFF]
    with django_capture_on_commit_callbacks(execute=True):
        job = progress_start(
            actor=staff, kind="test.echo", title="一覧の作成", params={"lines": ["一", "二", "三"]}
        )
    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.message) == (ProgressState.SUCCEEDED, 3, 3, "ok")
    client = _client(staff)
    page = client.get(reverse("progress_detail", args=[job.pk])).content.decode()
    assert "一覧の作成" in page and "完了" in page and "hx-trigger" not in page and "refresh" not in page
    assert reverse("progress_download", args=[job.pk]) in page
    response = client.get(reverse("progress_download", args=[job.pk]))
    assert b"".join(response.streaming_content).decode() == "一\n二\n三"
    assert (
        "attachment" in response["Content-Disposition"]
        and "%E7%B5%90%E6%9E%9C" in response["Content-Disposition"]
    )
    actions = list(AuditEvent.objects.filter(object_id=str(job.pk)).values_list("action", "actor"))
    assert actions == [("core.progress.start", "staff"), ("core.progress.finish", "system")]


def test_a_job_without_a_file_ends_with_its_message_and_a_link_to_the_details(world):
    register_test_kinds()
    staff = world.users[Role.STAFF]
    job = progress_execute(job_id=progress_start(actor=staff, kind="test.note", title="取込").pk)
    assert (job.state, job.result_file, job.result_name) == (ProgressState.SUCCEEDED, "", "")
    page = _client(staff).get(reverse("progress_detail", args=[job.pk])).content.decode()
    assert '<span data-field="message">3件中 新規 3</span>' in page and 'href="/audit/?job=1"' in page
    assert "保存期間" not in page and reverse("progress_download", args=[job.pk]) not in page


def test_a_running_job_shows_its_bar_and_polls_or_refreshes_without_javascript(world):
    officer = world.users[Role.SECURITY_OFFICER]
    job = ProgressJob.objects.create(
        owner=officer,
        kind="test.echo",
        title="年度一括",
        state=ProgressState.RUNNING,
        done=2,
        total=5,
        message="1380 情報化",
    )
    client = _client(officer)
    page = client.get(reverse("progress_detail", args=[job.pk])).content.decode()
    assert '<progress max="5" value="2">40%</progress>' in page and "1380 情報化" in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert f'hx-get="{reverse("progress_partial", args=[job.pk])}" hx-trigger="every 1s"' in page
    partial = client.get(reverse("progress_partial", args=[job.pk])).content.decode()
    assert partial.startswith('<div id="progress" data-state="running"') and "<html" not in partial
    assert reverse("progress_download", args=[job.pk]) not in page
    assert client.get(reverse("progress_download", args=[job.pk])).status_code == 404


def test_someone_elses_job_is_not_found_but_the_kinds_readers_see_it(world):
    job = echo_job(world.users[Role.STAFF])
    lead = _client(world.users[Role.DEPARTMENT_LEAD])
    for name in ("progress_detail", "progress_partial", "progress_download"):
        assert lead.get(reverse(name, args=[job.pk])).status_code == 404, name
    auditor = _client(world.users[Role.AUDITOR])  # test.echo names READERS as its readers
    assert auditor.get(reverse("progress_download", args=[job.pk])).status_code == 200
    register_test_kinds()
    private = progress_execute(
        job_id=progress_start(actor=world.users[Role.STAFF], kind="test.refuse", title="x").pk
    )
    assert auditor.get(reverse("progress_detail", args=[private.pk])).status_code == 404


def test_a_role_the_kind_does_not_admit_cannot_start_it(world):
    register_test_kinds()
    with pytest.raises(ApplicationError) as raised:
        progress_start(actor=world.users[Role.STAFF], kind="test.officers", title="x")
    assert raised.value.code == "forbidden" and not ProgressJob.objects.exists()
    with pytest.raises(ApplicationError) as raised:
        progress_start(actor=world.users[Role.STAFF], kind="no.such.kind", title="x")
    assert raised.value.code == "unknown_kind"


def test_a_refusal_fails_the_job_with_its_reason_and_a_bug_without_its_traceback(world, caplog):
    register_test_kinds()
    staff = world.users[Role.STAFF]
    refused = progress_execute(job_id=progress_start(actor=staff, kind="test.refuse", title="x").pk)
    assert (refused.state, refused.error, refused.result_file) == (ProgressState.FAILED, REFUSAL, "")
    bug = progress_execute(job_id=progress_start(actor=staff, kind="test.bug", title="y").pk)
    page = _client(staff).get(reverse("progress_detail", args=[bug.pk])).content.decode()
    assert bug.state == ProgressState.FAILED and "予期しないエラー" in bug.error
    assert "/srv/secret/path" not in page and "KeyError" not in page and "予期しないエラー" in page
    assert "/srv/secret/path" in caplog.text  # the log has it for the administrator
    finish = AuditEvent.objects.filter(object_id=str(refused.pk), action="core.progress.finish").get()
    assert finish.after["state"] == "failed" and finish.after["error"] == REFUSAL


def test_the_file_is_private_and_a_task_delivered_twice_runs_once(world):
    job = echo_job(world.users[Role.STAFF])
    path = progress_result_path(job)
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    progress_run.call(job_id=job.pk)  # delivered again: already finished, nothing happens
    assert ProgressJob.objects.get(pk=job.pk).result_file == job.result_file
    assert AuditEvent.objects.filter(object_id=str(job.pk), action="core.progress.finish").count() == 1


def test_old_results_are_swept_when_the_next_job_starts(world):
    old = echo_job(world.users[Role.STAFF])
    path = progress_result_path(old)
    ProgressJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=KEEP_DAYS + 1))
    echo_job(world.users[Role.STAFF])
    assert path is not None and not path.exists()
    old.refresh_from_db()
    assert old.result_file == ""
    page = _client(world.users[Role.STAFF]).get(reverse("progress_detail", args=[old.pk])).content.decode()
    assert "保存期間が過ぎました" in page
