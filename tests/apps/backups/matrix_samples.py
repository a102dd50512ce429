"""URL kwargs for the backup pages in the platform's role × view matrix (tests/apps/test_role_matrix.py).

The sample system belongs to a department inside the department lead's scope, and has a real
repository with one snapshot, a run and an alert, so every page can render.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from mamori.apps.backups import services
from mamori.apps.backups.alerts import alert_raise
from mamori.apps.backups.jobs import run_execute, run_request
from mamori.apps.backups.models import AlertKind, JobKind
from mamori.apps.backups.own_files import demo_data_dir

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    home = Path(settings.MAMORI_HOME) / f"matrix-{uuid.uuid4().hex[:8]}"
    data = demo_data_dir() / home.name  # a server folder: MAMORI_HOME itself may not be a source
    data.mkdir(parents=True)
    (data / "規程.txt").write_text("情報セキュリティ規程\n", encoding="utf-8")
    system = services.system_create(
        actor="test", code="matrix", name="行政改革課サーバ", department=world.gyokaku
    )
    source = services.source_create(actor="test", system=system, path=str(data))
    schedule = services.schedule_set(actor="test", system=system, kind=JobKind.BACKUP, cron="0 2 * * *")
    repo = services.repository_create(
        actor="test",
        system=system,
        name="庁内",
        url=str(Path(settings.MAMORI_HOME) / "repositories" / home.name),  # its own place for repositories
        password="matrix-pass",
        initialize=True,
    )
    run = run_execute(run_id=run_request(actor="test", system=system, kind=JobKind.BACKUP, enqueue=False).pk)
    alert = alert_raise(system=system, kind=AlertKind.MISSED, message="sample")
    code = {"code": system.code}
    snapshot = {**code, "ref": "latest"}
    return {
        **{
            f"backups:{name}": code
            for name in (
                "system-detail",
                "system-edit",
                "source-create",
                "repository-create",
                "schedule-set",
                "retention-set",
                "run-now",
                "snapshots",
                "search",
                "system-delete",
                "system-active",
            )
        },
        "backups:browse": snapshot,
        "backups:restore": snapshot,
        "backups:download": {**snapshot, "path": str(data / "規程.txt").lstrip("/")},
        "backups:repository-password": {**code, "pk": repo.pk},
        "backups:repository-edit": {**code, "pk": repo.pk},
        "backups:repository-delete": {**code, "pk": repo.pk},
        "backups:source-edit": {**code, "pk": source.pk},
        "backups:source-delete": {**code, "pk": source.pk},
        "backups:schedule-delete": {**code, "pk": schedule.pk},
        "backups:run-detail": {"pk": run.pk},
        "backups:run-progress": {"pk": run.pk},
        "backups:alert-ack": {"pk": alert.pk},
    }
