"""The whole role × view matrix, discovered from the URL configuration.

Every named URL pattern of every app is requested as each role and anonymously:
- a view must declare `allowed_roles` (RoleRequiredMixin) unless it is one of PUBLIC_URLS;
- allowed roles get 200 / 302 (405 for POST-only views), others 403; auditors get 403 on `writes` views;
- anonymous requests are redirected to the login page;
- a forbidden POST to a write view is refused with 403 too;
- every navigation entry leads to a view its roles may open;
- every response (page or download) is `Cache-Control: no-store`;
- every link and form on a page a role opens leads to a view that admits that role (no button that
  ends in 403, no link to a URL that does not exist);
- every table on a page has a class (the site's table styles are opt-in: a bare table renders
  unstyled, its headers centred over left-aligned cells).
Parameterised URLs take their kwargs from `tests/apps/<app>/matrix_samples.py` (see core's); the
key "?" holds a query string the view needs. A sample may instead be a function of the requesting
user, for objects only their owner sees (a background job): each role then opens its own.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, include, path, resolve, reverse
from django.urls.resolvers import RoutePattern
from django.views.generic import TemplateView

import tests.apps
from mamori.apps.core.models import Role
from mamori.apps.core.navigation import all_nav_items
from mamori.apps.core.permissions import ALL_ROLES, RoleRequiredMixin
from tests.apps.core.world import World, build_world

PUBLIC_URLS = {"login", "logout", "set_language", "password_set"}  # password_set: the mailed link
ALLOWED = {200, 302, 405}


@dataclass(frozen=True)
class Route:
    name: str
    view: Any
    params: tuple[str, ...]


def _routes(patterns: list[Any], namespace: str = "", outer: tuple[str, ...] = ()) -> Iterator[Route]:
    """Every named URL with its view and all its parameters (an include's prefix may hold some)."""
    for entry in patterns:
        params = (*outer, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, ns, params)
        elif isinstance(entry, URLPattern) and entry.name:
            view = getattr(entry.callback, "view_class", entry.callback)
            yield Route(f"{namespace}{entry.name}", view, params)


def all_routes() -> list[Route]:
    return sorted({r.name: r for r in _routes(get_resolver().url_patterns)}.values(), key=lambda r: r.name)


def sample_modules() -> Iterator[Any]:
    """Each app's tests/apps/<app>/matrix_samples.py, where there is one."""
    for module in pkgutil.iter_modules(tests.apps.__path__):
        try:
            yield importlib.import_module(f"tests.apps.{module.name}.matrix_samples")
        except ModuleNotFoundError as exc:
            if exc.name != f"tests.apps.{module.name}.matrix_samples":
                raise


def _sample_kwargs(world: World) -> dict[str, dict[str, Any]]:
    samples: dict[str, dict[str, Any]] = {}
    for samples_module in sample_modules():
        samples |= samples_module.url_kwargs(world)
    return samples


def sample_for(sample: Any, user: Any) -> dict[str, Any]:
    """The kwargs `user` requests: a per-owner sample is called with the user."""
    return dict(sample(user) if callable(sample) else sample or {})


def _url(name: str, sample: Any, user: Any) -> str:
    kwargs = sample_for(sample, user)
    query = kwargs.pop("?", "")  # a sample may add a query string, e.g. the file to download
    return reverse(name, kwargs=kwargs or None) + (f"?{query}" if query else "")


def declaration_problem(route: Route) -> str | None:
    view = route.view
    if not (isinstance(view, type) and issubclass(view, RoleRequiredMixin)) or not view.allowed_roles:
        return f"{route.name}: the view declares no allowed_roles (use RoleRequiredMixin)"
    return None


def _expected(view: Any, role: str) -> bool:
    return role in view.allowed_roles and not (view.writes and role == Role.AUDITOR)


_TARGETS = re.compile(rb'<(?:a|form)\b[^>]*?\s(?:href|action)="([^"]*)"')
_BARE_TABLE = re.compile(rb"<table(?![^>]*\sclass=)[^>]*>")
_NOT_VIEWS = ("#", "mailto:", "http:", "https:", "javascript:", "/static/", "/i18n/")


def link_problems(html: bytes, role: str) -> set[str]:
    """Links and form targets on a page that the role may not open, or that lead nowhere."""
    problems = set()
    for raw in _TARGETS.findall(html):
        target = raw.decode().replace("&amp;", "&")
        if not target or target.startswith(_NOT_VIEWS) or target.startswith("?"):
            continue
        target_path = target.split("?", 1)[0].split("#", 1)[0]
        try:
            view = getattr(resolve(target_path).func, "view_class", None)
        except Resolver404:
            problems.add(f"links to {target}, which does not exist")
            continue
        if isinstance(view, type) and issubclass(view, RoleRequiredMixin) and not _expected(view, role):
            problems.add(f"links to {target}, which refuses {role}")
    return problems


@pytest.fixture
def quiet_request_log():
    """403s are the expected outcome here; keep django.request's warnings out of the report."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.mark.django_db
def test_every_view_checks_roles_as_declared(quiet_request_log):
    world = build_world()
    samples = _sample_kwargs(world)
    routes = all_routes()
    problems: list[str] = []
    clients = {}
    for role, user in world.users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    anonymous = Client()
    login_url = reverse("login")
    checked = 0
    for route in routes:
        if route.name in PUBLIC_URLS:
            continue
        view = route.view
        if problem := declaration_problem(route):
            problems.append(problem)
            continue
        if route.params and route.name not in samples:
            problems.append(f"{route.name}: no sample kwargs; add it to tests/apps/<app>/matrix_samples.py")
            continue
        url = _url(route.name, samples.get(route.name), world.users[Role.SECURITY_OFFICER])
        response = anonymous.get(url)
        if response.status_code != 302 or not response["Location"].startswith(login_url):
            problems.append(
                f"{route.name}: anonymous got {response.status_code}, expected a redirect to login"
            )
        for role in sorted(ALL_ROLES):
            url = _url(route.name, samples.get(route.name), world.users[role])
            response = clients[role].get(url)
            status = response.status_code
            allowed = _expected(view, role)
            if (status in ALLOWED) != allowed or (not allowed and status != 403):
                problems.append(
                    f"{route.name} as {role}: GET {status}, expected {'200/302' if allowed else 403}"
                )
            if status == 200 and response.get("Content-Type", "").startswith("text/html"):
                problems.extend(f"{route.name} as {role}: {p}" for p in link_problems(response.content, role))
                if _BARE_TABLE.search(response.content):
                    problems.append(f"{route.name} as {role}: a <table> without a class")
            if "no-store" not in response.get("Cache-Control", ""):  # pages and downloads alike
                problems.append(f"{route.name} as {role}: no Cache-Control: no-store")
            if view.writes and not allowed:
                post_status = clients[role].post(url, {}).status_code
                if post_status != 403:
                    problems.append(f"{route.name} as {role}: POST {post_status}, expected 403")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 5 * 17  # core alone has 17 protected views; other apps add theirs


def test_every_named_url_is_covered():
    """A protected URL pattern is either public by name or has a role-checking view."""
    names = {r.name for r in all_routes()}
    assert {"dashboard", "staff_list", "staff_import", "audit_list", "user_list"} <= names
    assert PUBLIC_URLS <= names


def test_navigation_entries_lead_to_views_their_roles_may_open():
    views = {r.name: r.view for r in all_routes()}
    for item in all_nav_items():
        view = views[item.url_name]
        for role in item.roles:
            assert role in view.allowed_roles, (
                f"nav '{item.key}' shown to {role}, but {item.url_name} refuses it"
            )


def test_a_link_a_role_may_not_follow_is_reported():
    html = (
        b'<a href="/staff/">ok</a><a href="/users/">users</a><form method="post" action="/staff/new/">'
        b'<a href="/no-such-page/">x</a><a href="#top">t</a><a href="/static/x.css">s</a>'
    )
    assert link_problems(html, Role.ADMINISTRATOR) == {"links to /no-such-page/, which does not exist"}
    assert link_problems(html, Role.AUDITOR) == {
        f"links to /users/, which refuses {Role.AUDITOR}",
        f"links to /staff/new/, which refuses {Role.AUDITOR}",
        "links to /no-such-page/, which does not exist",
    }


def test_a_table_without_a_class_is_found():
    assert _BARE_TABLE.search(b'<table class="list"></table><table>')
    assert _BARE_TABLE.search(b'<table id="x">')
    assert not _BARE_TABLE.search(b'<table id="x" class="list findings">')


def test_a_view_without_allowed_roles_is_reported():
    def plain_view(request):  # a function view with no role check
        return None

    class Undeclared(RoleRequiredMixin, TemplateView):
        pass

    patterns = [
        path("x/", plain_view, name="x"),
        path("y/<int:pk>/", Undeclared.as_view(), name="y"),
        path("z/<slug:code>/", include([path("<int:pk>/", Undeclared.as_view(), name="z")])),
    ]
    routes = list(_routes([URLResolver(RoutePattern("app/"), patterns, app_name="app", namespace="app")]))
    assert [r.name for r in routes] == ["app:x", "app:y", "app:z"]
    assert routes[1].params == ("pk",) and routes[2].params == ("code", "pk")
    assert all("declares no allowed_roles" in declaration_problem(r) for r in routes)
