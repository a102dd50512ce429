"""URL kwargs for the evaluation views in the role × view matrix: the seed's program in the world."""

from __future__ import annotations

import io
from typing import Any

from mamori.apps.evaluation.demo import setup_demo
from mamori.apps.evaluation.models import Indicator, Program
from mamori.apps.evaluation.services import indicator_create, program_create
from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    setup_demo(organisation=world.organisation, stdout=io.StringIO())
    program = Program.objects.get(reference_number="1379", parent=None)
    indicator = Indicator.objects.filter(program__parent=program).first() or indicator_create(
        actor="test", program=program, kind="activity", name="研修回数", unit="回", direction="up"
    )
    year = {"pk": program.pk, "fy": 2012}
    return {
        "evaluation:program_detail": {"pk": program.pk},
        "evaluation:program_edit": {"pk": program.pk},
        "evaluation:sub_program_create": {"pk": program.pk},
        "evaluation:indicator_create": {"pk": program.pk},
        "evaluation:sheet_download": {**year, "fmt": "xlsx"},
        "evaluation:money": year,
        "evaluation:staffing": year,
        "evaluation:unit_costs": year,
        "evaluation:texts": year,
        "evaluation:rating": year,
        "evaluation:indicator_year": {"indicator": indicator.pk, "fy": 2012},
        "evaluation:indicator_edit": {"indicator": indicator.pk},
        "evaluation:export": {"fmt": "csv"},
    }


def scope_kwargs(world: World) -> dict[str, dict[str, Any]]:
    """For tests/apps/test_download_scope.py: a 細事業 of 福祉部 inside 総務部's 事業 — its sheet is
    the 事業's, so 福祉部's lead may not download it (called after `url_kwargs`)."""
    program = Program.objects.get(reference_number="1379", parent=None)
    sub = program_create(
        actor="test",
        measure=program.measure,
        department=world.kosodate,
        reference_number="99",
        parent=program,
        name="子育て支援課の細事業",
    )
    return {"evaluation:sheet_download": {"pk": sub.pk, "fy": 2012, "fmt": "xlsx"}}
