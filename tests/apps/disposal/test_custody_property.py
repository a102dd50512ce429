"""Any sequence of custody steps on a few media, in any order and with repeats: a medium only ever
moves to the next state, each accepted step is exactly one audit event, a refused one changes
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamori.apps.core.models import AuditEvent
from mamori.apps.disposal import services
from mamori.apps.disposal.errors import DisposalError
from mamori.apps.disposal.models import Medium, MediumState
from tests.apps.core.world import build_world

from .helpers import checked_pdf, handed_over, medium

ORDER = [MediumState.REGISTERED, MediumState.STORED, MediumState.HANDED_OVER, MediumState.CERTIFIED]
STEPS = st.lists(
    st.tuples(st.sampled_from(["store", "hand_over", "certify"]), st.integers(0, 2)), max_size=12
)


def _step(kind: str, m: Medium) -> None:
    if kind == "store":  # stored when registered (ten days ago), so a hand-over a day ago is in order
        services.medium_store(actor="t", scope=None, medium=m, location="保管庫", stored_at=m.registered_at)
    elif kind == "hand_over":
        handed_over([m])
    else:
        batch = m.batch or handed_over([m])  # a medium without a batch: the hand-over itself is tried
        services.certificate_register(
            actor="t",
            batch=batch,
            checked=checked_pdf(),
            number="C",
            issued_on=timezone.localdate(),
            media=[m],
        )


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_custody_only_moves_forward_one_audited_step_at_a_time(steps, media_root):
    with transaction.atomic():  # each example on a fresh city, rolled back after
        world = build_world()
        labels = [f"P-{i}" for i in range(3)]
        for label in labels:
            medium(label, world.gyokaku, registered_at=timezone.now() - timedelta(days=10))
        for kind, index in steps:
            m = Medium.objects.get(label=labels[index])
            before, events = m.state, AuditEvent.objects.count()
            try:
                _step(kind, m)
            except DisposalError:
                pass
            moved = ORDER.index(Medium.objects.get(pk=m.pk).state) - ORDER.index(before)
            assert 0 <= moved <= (2 if kind == "certify" else 1)  # certify may first hand over (its helper)
            assert AuditEvent.objects.count() - events == moved  # one event per state moved, none if refused
        transaction.set_rollback(True)
