from django.http import HttpRequest

from .navigation import nav_items
from .permissions import user_role


def navigation(request: HttpRequest) -> dict[str, object]:
    role = user_role(request.user) if hasattr(request, "user") else None
    return {"nav_items": nav_items(role), "current_role": role}
