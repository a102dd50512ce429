"""The audit log page: search by the object's name and by person, entries that name their object,
field names in the reader's language, the changed fields old → new, and 「履歴」 per object."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from mamori.apps.core import services
from mamori.apps.core.audit import audit_record
from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.core.services import StaffData

from .factories import StaffFactory

pytestmark = pytest.mark.django_db


def _page(client: Client, world, **params: str) -> str:  # type: ignore[no-untyped-def]
    client.force_login(world.users[Role.AUDITOR])
    return client.get(reverse("audit_list"), params).content.decode()


def _rows(html: str) -> list[str]:
    return [part.split("</tr>")[0] for part in html.split('<tr data-sequence="')[1:]]


def _rename(world, staff, family_name: str) -> None:  # type: ignore[no-untyped-def]
    data = StaffData(**{f: getattr(staff, f) for f in StaffData.__dataclass_fields__})
    data.family_name = family_name
    services.staff_update(actor=world.users[Role.SECURITY_OFFICER], staff=staff, data=data)


def test_an_entry_names_its_object_and_shows_the_changed_field_old_to_new(world, client):
    _rename(world, world.staff_in_scope, "田中")
    [row] = _rows(_page(client, world, q="staff.update"))
    assert "<strong>田中 花子</strong>" in row  # the name when written
    assert (
        '<li data-field="family_name"><span class="field">姓</span> <del>佐藤</del> → <ins>田中</ins></li>'
        in row
    )
    assert 'data-field="given_name"' not in row.split("<details>")[0]  # only what changed is highlighted
    assert "core.staff #" not in row
    assert '<span class="muted small">職員</span>' in row  # the model's verbose name


def test_searching_a_name_finds_the_objects_entries_from_before_a_rename(world, client):
    _rename(world, world.staff_in_scope, "田中")
    _rename(world, world.staff_in_scope, "高橋")
    rows = _rows(_page(client, world, q="田中"))
    assert len(rows) == 2  # the event named 田中 花子, and the next one of the same person (→ 高橋)
    assert not _rows(_page(client, world, q="介護保険システム"))


def test_searching_by_person_matches_the_username_or_the_staff_name_behind_it(world, client):
    officer = world.users[Role.SECURITY_OFFICER]
    officer.membership.staff = StaffFactory(family_name="山本", given_name="守", family_name_kana="やまもと")
    officer.membership.save()
    _rename(world, world.staff_in_scope, "田中")
    audit_record(actor="cli:root", action="staff.import", object_type="core.staff", after={"rows": 1})
    for person in ("山本", "やまもと", "officer"):
        rows = _rows(_page(client, world, person=person))
        assert len(rows) == 1 and "<td>officer</td>" in rows[0], person
    assert len(_rows(_page(client, world, person="cli:root"))) == 1


def test_a_deleted_objects_entries_keep_its_name(world, client):
    staff = StaffFactory(family_name="削除", given_name="予定", department=world.gyokaku)
    audit_record(
        actor="officer",
        action="staff.update",
        obj=staff,
        before={"position": "主事"},
        after={"position": "主査"},
    )
    staff.delete()
    [row] = _rows(_page(client, world, q="削除"))
    assert "<strong>削除 予定</strong>" in row and "<del>主事</del> → <ins>主査</ins>" in row


def test_an_event_written_without_a_name_is_named_from_the_live_object(world, client):
    AuditEvent.objects.all().delete()
    audit_record(
        actor="officer",
        action="department.update",
        object_type="core.department",
        object_id=str(world.gyokaku.pk),
    )
    [row] = _rows(_page(client, world))
    assert "<strong>総務部 行政改革課</strong>" in row


def test_related_ids_and_choices_are_shown_by_name(world, client):
    _rename(world, world.staff_in_scope, "田中")
    services.staff_transfer(
        actor="officer",
        staff=world.staff_in_scope,
        to_department=world.kosodate,
        effective_date=date(2027, 4, 1),
    )
    [row] = _rows(_page(client, world, q="staff.transfer"))
    assert "<del>総務部 行政改革課 (#" in row and "<ins>福祉部 子育て支援課 (#" in row


def test_the_field_names_follow_the_readers_language(world, client):
    _rename(world, world.staff_in_scope, "田中")
    client.force_login(world.users[Role.AUDITOR])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    [row] = _rows(client.get(reverse("audit_list"), {"q": "staff.update"}).content.decode())
    assert '<span class="field">Family name</span>' in row


def test_the_history_link_leads_to_the_objects_entries_only(world, client):
    staff = world.staff_in_scope
    _rename(world, staff, "田中")
    _rename(world, world.staff_outside, "中村")
    client.force_login(world.users[Role.AUDITOR])
    detail = client.get(reverse("staff_detail", args=[staff.pk])).content.decode()
    link = f'<a class="history" href="/audit/?object=core.staff%3A{staff.pk}">履歴</a>'
    assert link in detail
    html = client.get(reverse("audit_list"), {"object": f"core.staff:{staff.pk}"}).content.decode()
    assert "「田中 花子」の履歴" in html
    assert all("<strong>田中 花子</strong>" in row for row in _rows(html)) and len(_rows(html)) == 1


def test_leads_do_not_get_a_history_link_they_could_not_follow(world, client):
    client.force_login(world.users[Role.DEPARTMENT_LEAD])
    detail = client.get(reverse("staff_detail", args=[world.staff_in_scope.pk])).content.decode()
    assert 'class="history"' not in detail


@pytest.mark.parametrize("hostile", ["core.staff:1 OR 1=1", "../x:1", "core.staff", "core.staff:" + "9" * 80])
def test_a_malformed_object_filter_is_ignored(world, client, hostile):
    _rename(world, world.staff_in_scope, "田中")
    html = _page(client, world, object=hostile)
    assert "object-history" not in html and len(_rows(html)) >= 1


def test_the_audit_page_queries_do_not_grow_with_the_entries(world, client, django_assert_max_num_queries):
    for i in range(30):
        _rename(world, world.staff_in_scope, f"姓{i}")
    client.force_login(world.users[Role.AUDITOR])
    with django_assert_max_num_queries(15):
        client.get(reverse("audit_list"), {"q": "姓"})


def test_payloads_that_do_not_fit_the_model_are_shown_as_written(world, client):
    """Payload keys are free: a name where a key is expected, lists, nested objects, markup."""
    audit_record(
        actor="<script>x</script>",
        action="staff.update",
        obj=world.staff_in_scope,
        before={"department": "庁内LDAP", "status": ["left"], "department_id": {"pk": 1}},
        after={"department": "<b>課</b>", "status": "left", "department_id": 999999},
    )
    [row] = _rows(_page(client, world, q="staff.update"))
    assert "<del>庁内LDAP</del> → <ins>&lt;b&gt;課&lt;/b&gt;</ins>" in row
    assert "<del>[&quot;left&quot;]</del> → <ins>退職</ins>" in row
    assert "<ins>#999999</ins>" in row and "&lt;script&gt;" in row
