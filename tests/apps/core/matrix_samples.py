"""URL kwargs for core's parameterised views in the role × view matrix (tests/apps/test_role_matrix.py).

Each app with parameterised URLs provides `tests/apps/<app>/matrix_samples.py` with
`url_kwargs(world) -> {url_name: kwargs}`; it may create the objects it needs from the world.
"""

from __future__ import annotations

from typing import Any

from mamori.apps.core.models import Role

from .world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    staff = {"pk": world.staff_in_scope.pk}  # inside the lead's scope: leads may read it
    return {
        "staff_detail": staff,
        "staff_update": staff,
        "staff_transfer": staff,
        "department_update": {"pk": world.gyokaku.pk},
        "user_update": {"pk": world.users[Role.STAFF].pk},
    }
