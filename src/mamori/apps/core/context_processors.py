"""Template context for every page: the navigation the signed-in role may use, and the role's name."""

from django.http import HttpRequest

from .models import Role
from .navigation import nav_items
from .permissions import user_role


def navigation(request: HttpRequest) -> dict[str, object]:
    role = user_role(request.user) if hasattr(request, "user") else None
    return {
        "nav_items": nav_items(role),
        "current_role": role,
        "current_role_label": Role(role).label if role else "",
    }
