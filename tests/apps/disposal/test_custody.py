"""The chain of custody: registered → in storage → handed over → certified, one audited step at a
time; no step skipped or repeated; マイナンバー系 media destroyed only; scope enforced by the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mamori.apps.core import chronology
from mamori.apps.core.models import AuditEvent, NetworkZone, Role
from mamori.apps.disposal import services
from mamori.apps.disposal.errors import DisposalError
from mamori.apps.disposal.models import Certificate, DisposalBatch, Medium, MediumState, Method
from mamori.apps.disposal.selectors import overdue_media

from .helpers import checked_pdf, handed_over, medium, stored


def _certify(batch: DisposalBatch, media: list[Medium], number: str = "C-1") -> Certificate:
    return services.certificate_register(
        actor="officer", batch=batch, checked=checked_pdf(), number=number,
        issued_on=timezone.localdate(), media=media,
    )  # fmt: skip


def test_a_medium_goes_through_every_step_and_each_step_is_one_audit_event(world):
    m = medium("USB-1", world.gyokaku, registered_at=timezone.now() - timedelta(days=3))
    m = services.medium_store(
        actor="lead", scope=None, medium=m, location="保管庫A", stored_at=timezone.now() - timedelta(days=2)
    )
    batch = handed_over([m])
    _certify(batch, [m])
    m.refresh_from_db()
    assert m.state == MediumState.CERTIFIED and m.certificate.batch == batch
    actions = list(AuditEvent.objects.filter(action__startswith="disposal.").values_list("action", flat=True))
    assert actions == [
        "disposal.medium.register",
        "disposal.medium.store",
        "disposal.batch.hand_over",
        "disposal.certificate.register",
    ]


def test_no_step_can_be_skipped(world):
    registered = medium("USB-1", world.gyokaku)
    with pytest.raises(DisposalError) as exc:
        handed_over([registered])
    assert exc.value.code == "bad_step" and "USB-1" in exc.value.message
    assert not DisposalBatch.objects.exists()
    s = stored("USB-2", world.gyokaku)
    other = handed_over([stored("USB-3", world.gyokaku)])
    with pytest.raises(DisposalError, match="含まれない"):
        _certify(other, [s])  # a stored medium cannot be certified (and is not in that batch)
    s.refresh_from_db()
    assert s.state == MediumState.STORED


def test_no_step_can_be_repeated(world):
    m = stored("USB-1", world.gyokaku)
    with pytest.raises(DisposalError) as exc:
        services.medium_store(actor="lead", scope=None, medium=m, location="保管庫B")
    assert exc.value.code == "bad_step"
    batch = handed_over([m])
    with pytest.raises(DisposalError, match="引渡し済み"):
        handed_over([m])
    _certify(batch, [m])
    with pytest.raises(DisposalError) as exc:
        _certify(batch, [m], number="C-2")
    assert exc.value.code == "bad_step"
    assert DisposalBatch.objects.count() == 1 and Certificate.objects.count() == 1
    assert Medium.objects.get(pk=m.pk).storage_location == "保管庫"


def test_a_stale_copy_cannot_move_a_medium_twice(world):
    """Two officers on the same page: the second hand-over sees the locked, fresh row."""
    m = stored("USB-1", world.gyokaku)
    stale = Medium.objects.get(pk=m.pk)
    handed_over([m])
    with pytest.raises(DisposalError):
        handed_over([stale])


@pytest.mark.parametrize("method", [Method.CLEAR, Method.PURGE])
def test_mynumber_media_refuse_any_method_but_destroy(world, method):
    hdd = stored("HDD-1", world.gyokaku, zone=NetworkZone.MYNUMBER)
    usb = stored("USB-1", world.gyokaku)
    with pytest.raises(DisposalError) as exc:
        handed_over([hdd, usb], method=method)
    assert exc.value.code == "destroy_required" and "HDD-1" in exc.value.message
    assert not DisposalBatch.objects.exists()
    assert set(Medium.objects.values_list("state", flat=True)) == {MediumState.STORED}
    handed_over([hdd, usb], method=Method.DESTROY)


def test_media_not_on_the_certificate_stay_open(world):
    a, b = stored("USB-1", world.gyokaku), stored("USB-2", world.gyokaku)
    batch = handed_over([a, b])
    _certify(batch, [a])
    assert Medium.objects.get(pk=a.pk).state == MediumState.CERTIFIED
    assert Medium.objects.get(pk=b.pk).state == MediumState.HANDED_OVER
    client = Client()
    client.force_login(world.users[Role.AUDITOR])
    page = client.get(reverse("disposal:batch-detail", args=[batch.pk])).content.decode()
    still_open = page.split('data-section="open"')[1].split("</p>")[0]
    assert "USB-2" in still_open and "USB-1" not in still_open
    _certify(batch, [Medium.objects.get(pk=b.pk)], number="C-2")
    assert Medium.objects.get(pk=b.pk).state == MediumState.CERTIFIED


def test_a_certificate_cannot_name_media_of_another_batch(world):
    a, b = stored("USB-1", world.gyokaku), stored("USB-2", world.gyokaku)
    first, _second = handed_over([a]), handed_over([b])
    with pytest.raises(DisposalError) as exc:
        _certify(first, [a, Medium.objects.get(pk=b.pk)])
    assert exc.value.code == "not_in_batch"
    assert not Certificate.objects.exists()


def test_a_scoped_user_cannot_batch_or_register_another_departments_media(world):
    mine, theirs = stored("USB-1", world.gyokaku), stored("USB-2", world.kosodate)
    scope = world.soumu.descendant_ids()
    with pytest.raises(DisposalError) as exc:
        services.batch_hand_over(
            actor="lead", scope=scope, media=[mine, theirs], contractor="x", method=Method.DESTROY,
            handed_over_at=timezone.now(), received_by="x", witness="x",
        )  # fmt: skip
    assert (
        exc.value.code == "out_of_scope" and "USB-2" in exc.value.message and "USB-1" not in exc.value.message
    )
    assert not DisposalBatch.objects.exists()
    with pytest.raises(DisposalError):
        services.medium_register(
            actor="lead", scope=scope, label="X", kind="usb", department=world.kosodate,
            classification="c2", network_zone="lgwan",
        )  # fmt: skip
    with pytest.raises(DisposalError):
        services.medium_store(actor="lead", scope=scope, medium=medium("USB-3", world.kosodate), location="x")


def test_dates_in_the_future_are_refused_and_nothing_saved(world):
    m = stored("USB-1", world.gyokaku)
    with pytest.raises(DisposalError) as exc:
        services.batch_hand_over(
            actor="o", scope=None, media=[m], contractor="x", method=Method.DESTROY,
            handed_over_at=timezone.now() + timedelta(hours=2), received_by="x", witness="x",
        )  # fmt: skip
    assert exc.value.code == "in_future"
    batch = handed_over([m])
    with pytest.raises(DisposalError) as exc:
        services.certificate_register(
            actor="o", batch=batch, checked=checked_pdf(), number="C", media=[m],
            issued_on=timezone.localdate() + timedelta(days=1),
        )  # fmt: skip
    assert exc.value.code == "in_future"
    assert DisposalBatch.objects.count() == 1 and not Certificate.objects.exists()


def test_a_duplicate_label_is_refused(world):
    medium("USB-1", world.gyokaku)
    with pytest.raises(DisposalError, match="USB-1"):
        medium("USB-1", world.johou)


def test_a_medium_without_certificate_n_days_after_hand_over_is_overdue(world, settings):
    settings.MAMORI_DISPOSAL_CERTIFICATE_DAYS = 30
    late = stored("USB-1", world.gyokaku)
    recent = stored("USB-2", world.gyokaku)
    handed_over([late], days_ago=31)
    handed_over([recent], days_ago=29)
    assert [m.label for m in overdue_media()] == ["USB-1"]


def test_each_step_dated_before_the_one_before_it_is_refused_with_the_dates(world):
    now = timezone.now()
    m = medium("USB-1", world.gyokaku, registered_at=now - timedelta(days=10))
    with pytest.raises(DisposalError) as exc:
        services.medium_store(
            actor="lead", scope=None, medium=m, location="x", stored_at=now - timedelta(days=11)
        )
    assert (
        exc.value.code == "out_of_order"
        and "保管開始" in exc.value.message
        and "登録日時" in exc.value.message
    )
    m = services.medium_store(
        actor="lead", scope=None, medium=m, location="x", stored_at=now - timedelta(days=5)
    )
    with pytest.raises(DisposalError) as exc:
        handed_over([m], days_ago=6)
    assert exc.value.code == "out_of_order"
    assert "「USB-1」の保管開始" in exc.value.message and chronology.shown(m.stored_at) in exc.value.message
    batch = handed_over([m], days_ago=4)
    with pytest.raises(DisposalError) as exc:
        services.certificate_register(
            actor="o", batch=batch, checked=checked_pdf(), number="C", media=[m],
            issued_on=timezone.localdate(now - timedelta(days=5)),
        )  # fmt: skip
    assert exc.value.code == "issued_before_handover"
    steps = AuditEvent.objects.filter(action__startswith="disposal.").values_list("action", flat=True)
    assert list(steps) == ["disposal.medium.register", "disposal.medium.store", "disposal.batch.hand_over"]


def test_a_hand_over_in_the_minute_of_storage_is_in_order(world):
    """The form gives minutes: 10:15 for a medium stored at 10:15:30 is not 'before' it."""
    stored_at = timezone.now().replace(second=30, microsecond=0) - timedelta(hours=1)
    m = medium("USB-1", world.gyokaku, registered_at=stored_at)
    m = services.medium_store(actor="lead", scope=None, medium=m, location="x", stored_at=stored_at)
    services.batch_hand_over(
        actor="o", scope=None, media=[m], contractor="x", method=Method.DESTROY,
        handed_over_at=stored_at.replace(second=0), received_by="x", witness="x",
    )  # fmt: skip
    assert Medium.objects.get(pk=m.pk).state == MediumState.HANDED_OVER


def test_one_late_medium_refuses_the_whole_hand_over_and_future_steps_are_refused(world):
    early = stored("USB-1", world.gyokaku)  # stored 60 days ago
    late = medium("USB-2", world.gyokaku, registered_at=timezone.now() - timedelta(days=2))
    late = services.medium_store(actor="lead", scope=None, medium=late, location="x")
    with pytest.raises(DisposalError) as exc:
        handed_over([early, late], days_ago=3)
    assert "USB-2" in exc.value.message and "USB-1" not in exc.value.message
    assert not DisposalBatch.objects.exists()
    assert set(Medium.objects.values_list("state", flat=True)) == {MediumState.STORED}
    future = timezone.now() + timedelta(minutes=5)
    with pytest.raises(DisposalError) as exc:
        medium("USB-3", world.gyokaku, registered_at=future)
    assert exc.value.code == "in_future" and not Medium.objects.filter(label="USB-3").exists()
    fresh = medium("USB-4", world.gyokaku)
    with pytest.raises(DisposalError) as exc:
        services.medium_store(actor="lead", scope=None, medium=fresh, location="x", stored_at=future)
    assert exc.value.code == "in_future" and Medium.objects.get(pk=fresh.pk).stored_at is None


def test_the_hand_over_form_shows_why_a_date_before_storage_is_refused(world):
    m = medium("USB-1", world.gyokaku, registered_at=timezone.now() - timedelta(days=2))
    m = services.medium_store(actor="lead", scope=None, medium=m, location="x")
    client = Client()
    client.force_login(world.users[Role.SECURITY_OFFICER])
    early = timezone.localtime() - timedelta(days=1)
    page = client.post(
        reverse("disposal:batch-create"),
        {"media": [m.pk], "contractor": "x", "method": Method.DESTROY, "received_by": "x", "witness": "x",
         "handed_over_at": early.strftime("%Y-%m-%dT%H:%M")},
    )  # fmt: skip
    assert page.status_code == 200 and "「USB-1」の保管開始" in page.content.decode()
    assert not DisposalBatch.objects.exists()
