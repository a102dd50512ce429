"""The inventory edited on the pages: every change kept field by field, duplicates refused, a disposed
device linked to the disposal records of its disks, and a lead limited to their departments."""

from __future__ import annotations

from datetime import date

import pytest

from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.devices import services
from mamori.apps.devices.errors import DeviceError
from mamori.apps.devices.models import DeviceKind, DeviceStatus
from tests.apps.disposal.helpers import medium, signed_in

from .helpers import device

pytestmark = pytest.mark.django_db


def test_an_officer_registers_and_edits_a_device_and_its_history_shows_each_change(world):
    client = signed_in(world, Role.SECURITY_OFFICER)
    form = {
        "asset_tag": "GK-PC-014", "hostname": "GK-PC-014", "kind": "pc", "department": world.gyokaku.pk,
        "network_zone": "lgwan", "status": "in_use", "maker": "NEC", "end_of_support": "2025-10-14",
    }  # fmt: skip
    response = client.post("/devices/new/", form)
    assert response.status_code == 302, response.content.decode()
    pc = world.gyokaku.devices.get()
    assert pc.host_key == "gk-pc-014"
    response = client.post(f"/devices/{pc.pk}/edit/", form | {"maker": "富士通", "location": "本庁舎3階"})
    assert response.status_code == 302
    change = pc.changes.first()
    assert change.changes == {"maker": ["NEC", "富士通"], "location": ["", "本庁舎3階"]}
    assert change.actor == "officer" and change.via == "画面"
    page = client.get(f"/devices/{pc.pk}/").content.decode()
    assert "メーカー: NEC → 富士通; 設置場所: — → 本庁舎3階" in page  # by the fields' labels
    assert "ネットワーク区分: LGWAN接続系;" in page and "状態: 使用中" in page  # choices by name, not code
    client.cookies["django_language"] = "en"
    page = client.get(f"/devices/{pc.pk}/").content.decode()
    assert "Maker: NEC → 富士通" in page and "Network zone: LGWAN segment;" in page and ">Web page<" in page
    actions = list(AuditEvent.objects.filter(object_type="devices.device").values_list("action", flat=True))
    assert actions == ["devices.device.create", "devices.device.update"]


def test_saving_unchanged_values_records_nothing(world):
    pc = device("PC-1", world.gyokaku, maker="NEC")
    services.device_update(actor="test", device=pc, maker="NEC")
    assert pc.changes.count() == 1  # the creation only
    assert not AuditEvent.objects.filter(action="devices.device.update").exists()


def test_a_duplicate_asset_tag_or_host_name_is_refused(world):
    device("PC-1", world.gyokaku, hostname="GK-PC-001")
    with pytest.raises(DeviceError, match="資産番号 PC-1 は既に登録されています"):
        device("PC-1", world.johou, hostname="other")
    with pytest.raises(DeviceError, match="ホスト名 gk-pc-001 は既に PC-1 で登録されています"):
        device("PC-2", world.johou, hostname="gk-pc-001")


def test_disposal_media_link_only_to_a_disposed_device(world):
    pc = device("PC-1", world.gyokaku)
    disk = medium("R8-HDD-01", world.gyokaku)
    with pytest.raises(DeviceError, match="廃棄済みの機器だけ"):
        services.device_update(actor="test", device=pc, media=[disk], status=DeviceStatus.IN_USE)
    services.device_update(actor="test", device=pc, media=[disk], status=DeviceStatus.DISPOSED)
    assert list(pc.disposal_media.all()) == [disk]
    assert pc.changes.first().changes["disposal_media"] == [[], ["R8-HDD-01"]]


def test_a_lead_sees_only_their_departments_devices_and_cannot_edit(world):
    inside = device("PC-IN", world.gyokaku)
    outside = device("PC-OUT", world.kosodate)
    lead = signed_in(world, Role.DEPARTMENT_LEAD)
    listing = lead.get("/devices/").content.decode()
    assert "PC-IN" in listing and "PC-OUT" not in listing
    assert lead.get(f"/devices/{outside.pk}/").status_code == 404
    assert lead.get(f"/devices/{inside.pk}/edit/").status_code == 403


def test_a_renewal_plan_covers_servers_and_network_equipment_only(world):
    pc = device("PC-1", world.gyokaku)
    with pytest.raises(DeviceError, match="更新計画の対象はサーバとネットワーク機器です: PC-1"):
        services.renewal_plan_create(actor="t", devices=[pc], title="x", fiscal_year=2027, budget_yen=1)


def test_the_renewal_page_totals_each_fiscal_year_in_thousand_yen(world):
    fw = device("FW-1", world.johou, kind=DeviceKind.FIREWALL, end_of_support=date(2027, 3, 31))
    mail = device("MG-1", world.johou, kind=DeviceKind.MAIL_GATEWAY)
    services.renewal_plan_create(actor="t", devices=[fw], title="FW", fiscal_year=2026, budget_yen=12_345_500)
    services.renewal_plan_create(
        actor="t", devices=[mail], title="MG", fiscal_year=2026, budget_yen=4_000_400
    )
    services.renewal_plan_create(actor="t", devices=[mail], title="MG2", fiscal_year=2030, budget_yen=999)
    page = signed_in(world, Role.AUDITOR).get("/devices/renewals/").content.decode()
    assert '<span data-total="2026">16,346 千円</span>' in page  # 16,345,900 yen, half up
    assert '<span data-total="2030">1 千円</span>' in page
    assert '<strong data-total="all">16,347 千円</strong>' in page
