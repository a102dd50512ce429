"""Template context for every page: the navigation the signed-in role may use, the role's name and
the banners asked of the signed-in person."""

from django.http import HttpRequest
from django.urls import reverse

from .models import Role
from .navigation import NavItem, banners, nav_items
from .permissions import user_role


def _active_key(items: list[NavItem], path: str) -> str:
    """The entry whose URL is the longest prefix of the current path (staff detail → 職員)."""
    best, best_len = "", 0
    for item in items:
        url = reverse(item.url_name)
        if (path == url or (url != "/" and path.startswith(url))) and len(url) > best_len:
            best, best_len = item.key, len(url)
    return best


def navigation(request: HttpRequest) -> dict[str, object]:
    role = user_role(request.user) if hasattr(request, "user") else None
    items = nav_items(role)
    signed_in = hasattr(request, "user") and request.user.is_authenticated
    return {
        "banners": banners(request) if signed_in else [],
        "nav_items": items,
        "active_nav": _active_key(items, request.path) if items else "",
        "current_role": role,
        "current_role_label": Role(role).label if role else "",
    }
