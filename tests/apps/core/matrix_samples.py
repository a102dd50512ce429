"""URL kwargs for core's parameterised views in the role × view matrix (tests/apps/test_role_matrix.py).

Each app with parameterised URLs provides `tests/apps/<app>/matrix_samples.py` with
`url_kwargs(world) -> {url_name: kwargs}`; it may create the objects it needs from the world.
"""

from __future__ import annotations

from typing import Any

from mamori.apps.core.models import Role

from .progress_kinds import echo_job
from .world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    staff = {"pk": world.staff_in_scope.pk}  # inside the lead's scope: leads may read it
    jobs = {user.pk: {"pk": echo_job(user).pk} for user in world.users.values()}

    def own_job(user: Any) -> dict[str, Any]:  # only its owner (and the kind's readers) may open a job
        return jobs[user.pk]

    return {
        "progress_detail": own_job,
        "progress_partial": own_job,
        "progress_download": own_job,
        "staff_detail": staff,
        "staff_update": staff,
        "staff_transfer": staff,
        "department_update": {"pk": world.gyokaku.pk},
        "user_update": {"pk": world.users[Role.STAFF].pk},
    }
