"""Fixtures: the demo city with the seed's program set up by the app's own demo."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, _registry, register_kpi
from mamori.apps.core.models import Organisation
from mamori.apps.evaluation import demo as evaluation_demo
from mamori.apps.evaluation.demo import setup_demo


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(name="みなと台市", prefecture="大阪府", code="279999")


@pytest.fixture
def drill_kpi_for_flat(monkeypatch):
    """A headline KPI registered before the demo runs, so the demo binds an indicator of the current
    year to it."""
    kpi = Kpi("test.flat_rate", "テスト率", "%", "up", lambda fy: KpiValue(Decimal(90), [Evidence("記録")]))
    register_kpi(kpi)
    monkeypatch.setattr(evaluation_demo, "HEADLINE_KPIS", (*evaluation_demo.HEADLINE_KPIS, kpi.code))
    yield kpi
    _registry.pop(kpi.code, None)


@pytest.fixture
def demo(organisation):
    setup_demo(organisation=organisation, stdout=io.StringIO())
    return organisation
