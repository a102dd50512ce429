"""The awareness tests' city: core's small world, staff with logins, and a campaign sent to them
through a real SMTP server (`smtp_sink`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from mamori.apps.awareness import services
from mamori.apps.awareness.models import Campaign
from mamori.apps.core.models import StaffStatus
from tests.apps.core.factories import StaffFactory, staff_login
from tests.apps.core.world import World, build_world

from .helpers import campaign_data

LINK = re.compile(r"https?://[^/\s]+(/awareness/ack/[^/\s]+/)")


@dataclass
class City:
    world: World
    sato: object  # 佐藤 花子's login (総務部 行政改革課, inside the lead's scope)
    suzuki: object  # 鈴木 一郎's login (福祉部 子育て支援課)


@pytest.fixture
def city(db, settings) -> City:
    settings.MAMORI_BASE_URL = "http://testserver"
    world = build_world()
    StaffFactory(department=world.johou, employee_number="100002", email="")  # banner only: no address
    # on leave (休職) and left (退職): not asked
    StaffFactory(department=world.johou, employee_number="100003", status=StaffStatus.LEAVE)
    StaffFactory(department=world.johou, employee_number="100004", status=StaffStatus.LEFT)
    return City(world, staff_login(staff=world.staff_in_scope), staff_login(staff=world.staff_outside))


@pytest.fixture
def sent(city, smtp_sink, django_capture_on_commit_callbacks) -> Campaign:
    """A campaign to all staff, sent: three recipients, two with an address, both mailed."""
    campaign = services.campaign_create(actor="officer", data=campaign_data())
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_send(actor="officer", campaign=campaign)
    campaign.refresh_from_db()
    return campaign


def link_for(sink, address: str, *, nth: int = 0) -> str:
    mails = [m for m, rcpt in zip(sink.messages, sink.recipients, strict=True) if rcpt == [address]]
    return LINK.search(mails[nth].get_content()).group(1)
