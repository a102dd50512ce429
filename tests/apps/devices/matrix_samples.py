"""URL kwargs for the devices pages in the role × view matrix: a device in the lead's scope, a
renewal plan and an import record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mamori.apps.devices import imports, services
from mamori.apps.devices.models import DeviceKind, ImportKind

from .helpers import device

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    pc = device("MX-PC-1", world.gyokaku)
    firewall = device("MX-FW-1", world.johou, kind=DeviceKind.FIREWALL)
    plan = services.renewal_plan_create(
        actor="test", devices=[firewall], title="FW更新", fiscal_year=2027, budget_yen=5_000_000
    )
    record = imports.import_submit(actor="test", kind=ImportKind.HYGIENE_CSV, filename="x.csv", data=b"x")
    return {
        "devices:device-detail": {"pk": pc.pk},
        "devices:device-edit": {"pk": pc.pk},
        "devices:renewal-edit": {"pk": plan.pk},
        "devices:import-detail": {"pk": record.pk},
        "devices:failing-xlsx": {"?": f"department={world.gyokaku.pk}"},  # 総務部's devices
    }
