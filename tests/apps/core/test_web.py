"""The web layer: sign-in with lockout, CSP and cookie headers, CSRF, pages per role, import upload."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from mamori.apps.core.models import AuditEvent, PopulationRecord, Role, Staff

from .factories import TEST_PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_page_is_japanese_and_sign_in_leads_to_the_dashboard(world, client):
    page = client.get(reverse("login"))
    assert page.status_code == 200 and "ログイン" in page.content.decode()
    response = _login(client, "officer")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "ダッシュボード" in dashboard and "みなと台市" in dashboard and "人口 112,400人" in dashboard


def test_five_failures_lock_the_login_with_a_japanese_message(world, client):
    for _ in range(4):
        assert _login(client, "officer", "wrong password").status_code == 200
    locked = _login(client, "officer", "wrong password")
    assert locked.status_code == 429
    assert "ログインが一時的にロックされています" in locked.content.decode()
    # Even the right password is refused while locked.
    again = _login(client, "officer")
    assert again.status_code == 429 and "30分間" in again.content.decode()
    assert "_auth_user_id" not in client.session


def test_csp_and_security_headers_are_sent(world, client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_scripts_or_styles(world, client):
    client.force_login(world.users[Role.ADMINISTRATOR])
    for name in ("dashboard", "staff_list", "audit_list", "user_list", "staff_import", "department_list"):
        html = client.get(reverse(name)).content.decode()
        assert "<style" not in html and " style=" not in html, name
        assert html.count("<script") == html.count("<script src="), name


def test_cookies_are_http_only_and_same_site(world, client):
    response = _login(client, "officer")
    session = response.cookies["mamori_session"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_post_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.SECURITY_OFFICER])
    response = client.post(reverse("staff_transfer", kwargs={"pk": world.staff_in_scope.pk}), {})
    assert response.status_code == 403
    assert "送信を受け付けられませんでした" in response.content.decode()


def test_lead_sees_only_their_departments_staff(world, client):
    client.force_login(world.users[Role.DEPARTMENT_LEAD])
    html = client.get(reverse("staff_list")).content.decode()
    assert "佐藤 花子" in html and "鈴木 一郎" not in html
    outside = client.get(reverse("staff_detail", kwargs={"pk": world.staff_outside.pk}))
    assert outside.status_code == 404


def test_staff_list_searches_and_pages(world, client):
    client.force_login(world.users[Role.AUDITOR])
    html = client.get(reverse("staff_list"), {"q": "すずき"}).content.decode()
    assert "鈴木 一郎" not in html  # kana of the factory staff is やまだ; names are searched too
    html = client.get(reverse("staff_list"), {"q": "鈴木"}).content.decode()
    assert "鈴木 一郎" in html and "佐藤 花子" not in html


def test_staff_detail_shows_the_transfer_history(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    url = reverse("staff_transfer", kwargs={"pk": world.staff_in_scope.pk})
    response = client.post(
        url, {"to_department": world.johou.pk, "effective_date": "2026-04-01", "note": "定期"}
    )
    assert response.status_code == 302
    html = client.get(reverse("staff_detail", kwargs={"pk": world.staff_in_scope.pk})).content.decode()
    assert "2026-04-01" in html and "総務部 行政改革課" in html and "総務部 情報政策課" in html


def test_staff_import_page_shows_line_numbered_errors(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    data = "職員番号,姓,名,所属コード\n500001,森,茂,X99\n".encode("cp932")
    upload = SimpleUploadedFile("staff.csv", data, content_type="text/csv")
    html = client.post(reverse("staff_import"), {"file": upload}).content.decode()
    assert "2行目: 所属コード &#x27;X99&#x27; が存在しません" in html
    assert "何も取り込んでいません" in html
    assert not Staff.objects.filter(employee_number="500001").exists()


def test_staff_import_page_shows_the_first_100_errors_and_the_count(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    data = (
        "職員番号,姓,名,所属コード\n" + "".join(f"{600000 + i},森,茂,X99\n" for i in range(1000))
    ).encode()
    html = client.post(
        reverse("staff_import"), {"file": SimpleUploadedFile("staff.csv", data)}
    ).content.decode()
    assert "1000件の問題があるため" in html and "ほか 900件は表示していません" in html
    assert html.count("行目: 所属コード") == 100


def test_audit_page_verifies_the_chain(world, client):
    client.force_login(world.users[Role.AUDITOR])
    html = client.get(reverse("audit_list"), {"verify": "1"}).content.decode()
    assert 'data-verification="ok"' in html and "改ざんは見つかりませんでした" in html


def test_a_service_error_is_shown_on_the_form(world, client):
    client.force_login(world.users[Role.ADMINISTRATOR])
    response = client.post(reverse("user_create"), {"username": "newlead", "role": Role.DEPARTMENT_LEAD})
    assert response.status_code == 200
    assert "所属長ロールには担当する所属を指定してください。" in response.content.decode()


def test_english_locale_can_be_chosen(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("dashboard")).content.decode()
    assert "Dashboard" in html and "Backups" in html
    assert "年" not in html.split('class="lead"')[1].split("</p>")[0]  # the population date is English too


def test_staff_list_queries_do_not_grow_with_the_staff(world, client, django_assert_max_num_queries):
    StaffFactory.create_batch(60, department=world.kosodate)
    client.force_login(world.users[Role.AUDITOR])
    with django_assert_max_num_queries(12):
        response = client.get(reverse("staff_list"))
    assert response.status_code == 200 and "62人" in response.content.decode()


def test_department_edit_refuses_a_cycle_and_renames(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    url = reverse("department_update", kwargs={"pk": world.soumu.pk})
    refused = client.post(url, {"name": "総務部", "parent": world.gyokaku.pk})
    assert "上位の所属に自分自身または下位の所属は指定できません。" in refused.content.decode()
    assert client.post(url, {"name": "総務局", "parent": ""}).status_code == 302
    world.soumu.refresh_from_db()
    assert world.soumu.name == "総務局"
    assert AuditEvent.objects.get(action="department.update").after["name"] == "総務局"


def test_administrator_changes_a_role_and_password(world, client):
    client.force_login(world.users[Role.ADMINISTRATOR])
    user = world.users[Role.STAFF]
    url = reverse("user_update", kwargs={"pk": user.pk})
    form = {"role": Role.AUDITOR, "department": "", "employee_number": "100001", "is_active": "on",
            "password": "a new long passphrase 42"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    user.refresh_from_db()
    assert user.membership.role == Role.AUDITOR and user.membership.staff == world.staff_in_scope
    assert user.check_password("a new long passphrase 42")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["user.password_set", "user.update"]


def test_officer_adds_and_edits_staff_and_a_department_change_is_a_transfer(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    form = {"employee_number": "700001", "family_name": "石井", "given_name": "学", "family_name_kana": "いしい",
            "given_name_kana": "まなぶ", "email": "", "department": world.gyokaku.pk, "position": "主事",
            "employment_category": "regular", "status": "active", "joined_on": "2026-04-01", "left_on": ""}  # fmt: skip
    created = client.post(reverse("staff_create"), form)
    staff = Staff.objects.get(employee_number="700001")
    assert created["Location"] == reverse("staff_detail", kwargs={"pk": staff.pk})
    edit = form | {"department": world.kosodate.pk, "position": "主任", "effective_date": "2026-10-01"}
    assert client.post(reverse("staff_update", kwargs={"pk": staff.pk}), edit).status_code == 302
    staff.refresh_from_db()
    assert (staff.department, staff.position) == (world.kosodate, "主任")
    transfer = staff.transfers.get()
    assert (transfer.from_department, str(transfer.effective_date)) == (world.gyokaku, "2026-10-01")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "staff.create",
        "staff.transfer",
        "staff.update",
    ]


def test_form_help_text_is_tied_to_its_field_for_screen_readers(world, client):
    client.force_login(world.users[Role.SECURITY_OFFICER])
    html = client.get(reverse("staff_import")).content.decode()
    assert 'aria-describedby="id_file_helptext"' in html and 'id="id_file_helptext"' in html


def test_a_population_record_reads_in_the_chosen_language(world):
    record = PopulationRecord.objects.first()
    assert "人 /" in str(record)
    with translation.override("en"):
        assert "residents" in str(record) and "人" not in str(record)


def test_the_last_administrator_sees_why_they_cannot_demote_themselves(world, client):
    admin = world.users[Role.ADMINISTRATOR]
    client.force_login(admin)
    response = client.post(
        reverse("user_update", kwargs={"pk": admin.pk}), {"role": Role.STAFF, "is_active": "on"}
    )
    assert response.status_code == 200
    assert "最後の有効なシステム管理者" in response.content.decode()
    admin.refresh_from_db()
    assert admin.membership.role == Role.ADMINISTRATOR


def test_a_refused_page_is_one_log_line_naming_the_user(world, client, caplog):
    client.force_login(world.users[Role.STAFF])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("user_list")).status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is None
    assert record.getMessage() == f"Forbidden (Permission denied): {reverse('user_list')} (user staff)"
    assert "Traceback" not in caplog.text


def test_pages_and_the_login_form_are_never_stored_by_a_browser(world, client):
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]
    client.force_login(world.users[Role.AUDITOR])
    response = client.get(reverse("audit_list"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
