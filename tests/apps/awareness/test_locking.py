"""Everyone acknowledges the same notice at once: one acknowledgement locks only its own recipient row,
not the campaign every other acknowledgement refers to."""

from __future__ import annotations

import pytest

from mamori.apps.awareness import services
from mamori.apps.awareness.models import Recipient
from tests.apps.locking import lock_timeout, paused_inside, postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


def test_an_acknowledgement_in_progress_does_not_block_anothers(city, sent, monkeypatch):
    mine = Recipient.objects.get(campaign=sent, staff=city.world.staff_in_scope)
    theirs = Recipient.objects.get(campaign=sent, staff=city.world.staff_outside)

    def acknowledge_mine() -> None:
        services.acknowledgement_record(actor=city.sato, recipient=mine)

    with paused_inside(monkeypatch, services, "audit_record", acknowledge_mine):
        with lock_timeout():
            services.acknowledgement_record(actor=city.suzuki, recipient=theirs)
    assert Recipient.objects.filter(campaign=sent, acknowledged_at__isnull=False).count() == 2
