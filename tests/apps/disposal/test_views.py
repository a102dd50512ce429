"""The disposal pages as each person uses them: a department lead registers and stores their own
department's media and cannot read or move another department's; the officer hands over."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.disposal.models import DisposalBatch, Medium, MediumState
from tests.apps.lights import Light, dashboard_light

from .helpers import handed_over, medium, signed_in, stored


def test_a_lead_registers_and_stores_a_medium_of_their_department(world):
    lead = signed_in(world, Role.DEPARTMENT_LEAD)
    response = lead.post(
        reverse("disposal:medium-create"),
        {"label": "総務-USB-1", "kind": "usb", "department": world.gyokaku.pk, "classification": "c2",
         "network_zone": "lgwan", "description": "会議資料"},
    )  # fmt: skip
    m = Medium.objects.get(label="総務-USB-1")
    assert response.status_code == 302 and m.registered_by == world.users[Role.DEPARTMENT_LEAD]
    lead.post(reverse("disposal:medium-store", args=[m.pk]), {"location": "保管庫"})
    assert Medium.objects.get(pk=m.pk).state == MediumState.STORED


def test_a_lead_cannot_register_for_another_department(world):
    lead = signed_in(world, Role.DEPARTMENT_LEAD)
    response = lead.post(
        reverse("disposal:medium-create"),
        {"label": "福祉-USB-1", "kind": "usb", "department": world.kosodate.pk, "classification": "c2",
         "network_zone": "lgwan"},
    )  # fmt: skip
    assert response.status_code == 200 and not Medium.objects.exists()


def test_a_lead_can_neither_read_nor_move_another_departments_media(world):
    theirs = medium("福祉-USB-1", world.kosodate)
    batch = handed_over([stored("福祉-USB-2", world.kosodate)])
    lead = signed_in(world, Role.DEPARTMENT_LEAD)
    assert lead.get(reverse("disposal:medium-detail", args=[theirs.pk])).status_code == 404
    assert lead.post(reverse("disposal:medium-store", args=[theirs.pk]), {"location": "x"}).status_code == 404
    assert lead.get(reverse("disposal:batch-detail", args=[batch.pk])).status_code == 404
    listing = lead.get(reverse("disposal:media")).content.decode()
    assert "福祉-USB-1" not in listing and "福祉-USB-2" not in listing
    assert Medium.objects.get(pk=theirs.pk).state == MediumState.REGISTERED
    # a lead may not hand over at all, even their own stored media
    mine = stored("総務-USB-1", world.gyokaku)
    response = lead.post(reverse("disposal:batch-create"), {"media": [mine.pk]})
    assert response.status_code == 403 and not DisposalBatch.objects.filter(media=mine).exists()


def test_the_officer_hands_over_only_stored_media(world):
    officer = signed_in(world, Role.SECURITY_OFFICER)
    ready, not_ready = stored("USB-1", world.gyokaku), medium("USB-2", world.kosodate)
    form = {
        "contractor": "処理株式会社", "method": "destroy", "received_by": "受領者", "witness": "立会人",
        "handed_over_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }  # fmt: skip
    refused = officer.post(reverse("disposal:batch-create"), {**form, "media": [ready.pk, not_ready.pk]})
    assert refused.status_code == 200 and not DisposalBatch.objects.exists()
    done = officer.post(reverse("disposal:batch-create"), {**form, "media": [ready.pk]})
    batch = DisposalBatch.objects.get()
    assert done["Location"] == reverse("disposal:batch-detail", args=[batch.pk])
    assert batch.handed_over_by == world.users[Role.SECURITY_OFFICER]


def test_the_list_shows_overdue_media_and_the_card_turns_red(world, settings):
    settings.MAMORI_DISPOSAL_CERTIFICATE_DAYS = 30
    handed_over([stored("USB-OLD", world.gyokaku)], days_ago=40)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    page = officer.get(reverse("disposal:media")).content.decode()
    assert 'data-section="overdue"' in page and "USB-OLD" in page
    light = dashboard_light(officer, "disposal")
    batch = Medium.objects.get(label="USB-OLD").batch
    assert light == Light(
        "red",
        "引渡しから30日を過ぎても証明書がない媒体 1件",
        reverse("disposal:batch-detail", args=[batch.pk]),
    )
    upload = reverse("disposal:certificate-upload", args=[batch.pk])
    assert f'href="{upload}"' in officer.get(light.url).content.decode()  # where it is fixed
    lead = signed_in(world, Role.DEPARTMENT_LEAD)  # 行政改革課's medium: the lead's too, to follow
    assert dashboard_light(lead, "disposal").status == "red" and lead.get(light.url).status_code == 200

    handed_over([stored("HDD-OLD", world.gyokaku)], days_ago=35)  # a second batch late
    late = dashboard_light(officer, "disposal")
    assert (late.label, late.url) == (
        "引渡しから30日を過ぎても証明書がない媒体 2件",
        reverse("disposal:media") + "#overdue",
    )
    assert 'id="overdue"' in officer.get(late.url).content.decode()


def test_media_in_hand_turn_the_light_amber_with_their_count(world):
    stored("USB-NEW", world.gyokaku)
    officer = signed_in(world, Role.SECURITY_OFFICER)
    assert dashboard_light(officer, "disposal") == Light(
        "amber", "処理中の媒体 1件", reverse("disposal:media")
    )


def test_the_media_list_takes_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    for i in range(15):
        handed_over([stored(f"USB-{i:02}", world.gyokaku)])
    officer = signed_in(world, Role.SECURITY_OFFICER)
    with django_assert_max_num_queries(12):
        assert officer.get(reverse("disposal:media")).status_code == 200
