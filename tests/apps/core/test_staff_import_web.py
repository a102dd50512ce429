"""The staff import on the web: upload → preview (creations, changes old → new, transfers) → confirm.

The file waits between the two steps in a private file bound to the session; the attacker's tests
send another session's token, a forged one, an expired one, and a file changed on disk.
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mamori.apps.core import pending_uploads
from mamori.apps.core.models import AuditEvent, Role, Staff, StaffTransfer

from .factories import StaffFactory

pytestmark = pytest.mark.django_db

RENAME = "職員番号,姓,名,所属コード\n100001,田中,花子,4004\n500001,森,茂,1002\n"


def _officer(world, client: Client | None = None) -> Client:  # type: ignore[no-untyped-def]
    client = client or Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    return client


def _upload(client: Client, text: str = RENAME) -> tuple[str, dict[str, str]]:
    response = client.post(reverse("staff_import"), {"file": SimpleUploadedFile("異動.csv", text.encode())})
    assert response.status_code == 200
    html = response.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(token|digest)" value="([^"]+)">', html))
    return html, fields


def _pending_dir() -> Path:
    return Path(settings.MAMORI_HOME) / "pending-uploads"


def test_the_preview_shows_changes_and_creations_and_saves_nothing(world, client):
    before = (Staff.objects.count(), AuditEvent.objects.count())
    html, fields = _upload(_officer(world, client))
    assert "新規 1人、変更 1人（うち異動 1人）、変更なし 0人。まだ何も保存していません。" in html
    change = html.split('data-employee="100001"')[1].split("</tr>")[0]
    assert "<del>佐藤</del> → <ins>田中</ins>" in change
    assert "<del>総務部 行政改革課</del> → <ins>福祉部 子育て支援課</ins>" in change
    assert "<td>森 茂</td><td>総務部 行政改革課</td>" in html.split('data-employee="500001"')[1]
    assert (Staff.objects.count(), AuditEvent.objects.count()) == before
    assert set(fields) == {"token", "digest"}


def test_confirming_the_preview_imports_it_and_removes_the_held_file(world, client):
    _officer(world, client)
    _, fields = _upload(client)
    assert (_pending_dir() / fields["token"]).exists()
    response = client.post(reverse("staff_import_confirm"), fields, follow=True)
    assert response.redirect_chain[-1][0] == reverse("staff_list")
    assert (
        "2行を取り込みました（UTF-8）：新規 1人、更新 1人（うち異動 1人）、変更なし 0人。"
        in response.content.decode()
    )
    hanako = Staff.objects.get(employee_number="100001")
    assert (hanako.family_name, hanako.department) == ("田中", world.kosodate)
    assert StaffTransfer.objects.filter(staff=hanako).exists()
    assert AuditEvent.objects.filter(action="staff.import", actor="officer", object_name="異動.csv").exists()
    assert not (_pending_dir() / fields["token"]).exists()
    again = client.post(reverse("staff_import_confirm"), fields, follow=True)  # a double submit
    assert "確認の期限（30分）が過ぎたか" in again.content.decode()
    assert Staff.objects.filter(employee_number="500001").count() == 1


def test_the_held_file_is_private(world, client):
    _, fields = _upload(_officer(world, client))
    mode = os.stat(_pending_dir() / fields["token"]).st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_cancel_discards_the_file_and_changes_nothing(world, client):
    _, fields = _upload(_officer(world, client))
    response = client.post(reverse("staff_import_confirm"), fields | {"cancel": "1"}, follow=True)
    assert "取込を取り消しました。" in response.content.decode()
    assert not (_pending_dir() / fields["token"]).exists()
    assert Staff.objects.get(employee_number="100001").family_name == "佐藤"


def test_another_sessions_token_is_refused(world, client):
    _, fields = _upload(_officer(world, client))
    other = Client()
    other.force_login(world.users[Role.ADMINISTRATOR])
    response = other.post(reverse("staff_import_confirm"), fields, follow=True)
    assert "確認の期限（30分）が過ぎたか" in response.content.decode()
    assert Staff.objects.get(employee_number="100001").family_name == "佐藤"
    assert (_pending_dir() / fields["token"]).exists()  # the owner may still confirm


@pytest.mark.parametrize("token", ["../../mamori.sqlite3", "", "x" * 32, "../" * 11 + "etc"])
def test_a_forged_token_is_refused(world, client, token):
    _officer(world, client)
    _upload(client)
    response = client.post(reverse("staff_import_confirm"), {"token": token, "digest": "0"}, follow=True)
    assert "確認の期限（30分）が過ぎたか" in response.content.decode()
    assert not Staff.objects.filter(employee_number="500001").exists()


def test_an_expired_preview_is_refused(world, client, monkeypatch):
    _, fields = _upload(_officer(world, client))
    later = time.time() + pending_uploads.PENDING_TTL + 1
    monkeypatch.setattr(pending_uploads.time, "time", lambda: later)
    response = client.post(reverse("staff_import_confirm"), fields, follow=True)
    assert "確認の期限（30分）が過ぎたか" in response.content.decode()
    assert not Staff.objects.filter(employee_number="500001").exists()


def test_a_held_file_changed_on_disk_is_refused(world, client):
    _, fields = _upload(_officer(world, client))
    (_pending_dir() / fields["token"]).write_bytes(RENAME.replace("森", "林").encode())
    response = client.post(reverse("staff_import_confirm"), fields, follow=True)
    assert "確認の期限（30分）が過ぎたか" in response.content.decode()
    assert not Staff.objects.filter(employee_number="500001").exists()


def test_abandoned_files_are_swept_and_a_session_holds_at_most_three(world, client):
    _officer(world, client)
    stale = _pending_dir()
    stale.mkdir(parents=True, exist_ok=True)
    abandoned = stale / ("a" * 32)
    abandoned.write_bytes(b"old")
    old = time.time() - pending_uploads.PENDING_TTL - 60
    os.utime(abandoned, (old, old))
    tokens = [_upload(client)[1]["token"] for _ in range(5)]
    assert not abandoned.exists()
    assert [(stale / t).exists() for t in tokens] == [False, False, True, True, True]


def test_a_change_made_after_the_preview_is_shown_again_not_imported(world, client):
    _, fields = _upload(_officer(world, client))
    Staff.objects.filter(employee_number="100001").update(given_name="華子")
    response = client.post(reverse("staff_import_confirm"), fields)
    html = response.content.decode()
    assert response.status_code == 409
    assert "プレビューの後に職員の登録内容が変わったため、取り込みませんでした。" in html
    assert "<del>華子</del> → <ins>花子</ins>" in html  # the new preview
    assert Staff.objects.get(employee_number="100001").family_name == "佐藤"


def test_warnings_must_be_acknowledged_before_importing(world, client):
    StaffFactory(employee_number="000002", family_name="山田", given_name="太郎", department=world.gyokaku)
    html, fields = _upload(_officer(world, client), "職員番号,姓,名,所属コード\n2,山田,太郎,1002\n")
    assert "職員番号 &#x27;2&#x27; は登録済みの &#x27;000002&#x27;（山田 太郎）" in html
    assert 'name="accept_warnings" value="1" required' in html
    response = client.post(reverse("staff_import_confirm"), fields)
    assert response.status_code == 409 and "警告の内容を確かめたら" in response.content.decode()
    assert not Staff.objects.filter(employee_number="2").exists()
    client.post(reverse("staff_import_confirm"), fields | {"accept_warnings": "1"})
    assert Staff.objects.filter(employee_number="2").exists()


def test_the_preview_reads_in_english(world, client):
    _officer(world, client)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html, _ = _upload(client)
    assert "1 new, 1 changed (1 transferred), 0 unchanged. Nothing has been saved yet." in html
    assert "Import these changes" in html


def test_a_stale_preview_is_explained_in_english_too(world, client):
    _officer(world, client)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    _, fields = _upload(client)
    Staff.objects.filter(employee_number="100001").update(given_name="華子")
    html = client.post(reverse("staff_import_confirm"), fields).content.decode()
    assert "The staff register changed after the preview, so nothing was imported." in html
