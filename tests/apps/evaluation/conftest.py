"""Fixtures: the demo city with the seed's program set up by the app's own demo."""

from __future__ import annotations

import io

import pytest

from mamori.apps.core.models import Organisation
from mamori.apps.evaluation.demo import setup_demo


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(name="みなと台市", prefecture="大阪府", code="279999")


@pytest.fixture
def demo(organisation):
    setup_demo(organisation=organisation, stdout=io.StringIO())
    return organisation
