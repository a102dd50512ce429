"""URL kwargs for the backup views in the role × view matrix: one real system with one real backup,
in the lead's department subtree, and one alert."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mamori.apps.backups.alerts import alert_raise
from mamori.apps.backups.models import AlertKind
from tests.apps.backups.conftest import make_system
from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    sut = make_system(Path(tempfile.mkdtemp(prefix="mamori-matrix-")), world.gyokaku)
    run = sut.run()
    alert = alert_raise(system=sut.system, kind=AlertKind.FAILED, message="テスト用の警告")
    system = {"code": sut.system.code}
    snapshot = {**system, "ref": run.snapshot_id}
    return {
        "backups:system-detail": system,
        "backups:run-now": system,
        "backups:snapshots": system,
        "backups:browse": snapshot,
        "backups:download": {**snapshot, "?": "path=" + quote(f"{sut.data}/共有/総務課/会議録.txt")},
        "backups:restore": snapshot,
        "backups:run-detail": {"pk": run.pk},
        "backups:run-progress": {"pk": run.pk},
        "backups:alert-ack": {"pk": alert.pk},
    }
