"""Every file a view hands out (HTML/XLSX/PDF/CSV/JSON/YAML download) respects department scope.

Download views are discovered, not listed: every named URL of every app is requested as a security
officer with its role-matrix sample (tests/apps/<app>/matrix_samples.py), a `fmt` parameter tried
in every format; a response that names a file (an attachment, or an inline page with a filename such
as the printable sheet) or is not an HTML page is a download. The samples
belong to 総務部, so for each download:
- the lead of 総務部 gets the file when the view admits leads (the scope, not a bug, refuses below);
- the lead of 福祉部 gets 403 or 404 and no file.
A download that holds no department's data is named in NOT_DEPARTMENT_DATA with the reason.
An app may add `scope_kwargs(world)` to its matrix_samples: objects that touch 福祉部 but whose file
holds another department's data (a 細事業 of 福祉部 inside a 総務部 事業); 福祉部's lead gets no file.
A per-owner sample (a background job's file) is requested by each lead as their own, and by the
lead of 福祉部 as the officer's.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mamori.apps.core.models import Role
from tests.apps.core.factories import user_with_role
from tests.apps.core.world import build_world
from tests.apps.test_role_matrix import (
    PUBLIC_URLS,
    _sample_kwargs,
    all_routes,
    quiet_request_log,
    sample_for,
    sample_modules,
)

__all__ = ["quiet_request_log"]  # the fixture, shared with the role matrix

FORMATS = ("html", "xlsx", "pdf", "csv", "json", "yaml")
#: downloads that hold no department's data, each with the reason (every lead may have them)
NOT_DEPARTMENT_DATA = {
    "passwords:range": "a range of the breached-password list, the same for everyone",
    "training:image": "a picture in a course's text, the same for everyone who may read the course",
    "training:report-export": "each reader's own scope: a lead's file holds only their departments (test_report.py)",
}


def _is_file(response: Any) -> bool:
    disposition = response.get("Content-Disposition", "")
    page = response.get("Content-Type", "").startswith("text/html")
    return response.status_code == 200 and (
        "attachment" in disposition or "filename=" in disposition or not page
    )


def _url(name: str, kwargs: dict[str, Any]) -> str:
    kwargs = dict(kwargs)
    query = kwargs.pop("?", "")
    return reverse(name, kwargs=kwargs or None) + (f"?{query}" if query else "")


def _variants(route: Any, kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, url) for a route: one per format when the URL takes `fmt`."""
    if "fmt" not in route.params:
        return [(route.name, _url(route.name, kwargs))]
    return [(f"{route.name}[{fmt}]", _url(route.name, {**kwargs, "fmt": fmt})) for fmt in FORMATS]


def _scope_kwargs(world: Any) -> dict[str, list[dict[str, Any]]]:
    extra: dict[str, list[dict[str, Any]]] = {}
    for samples in sample_modules():
        if hasattr(samples, "scope_kwargs"):
            for name, kwargs in samples.scope_kwargs(world).items():
                extra.setdefault(name, []).append(kwargs)
    return extra


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_no_download_crosses_a_department_leads_scope(quiet_request_log):
    world = build_world()
    samples = _sample_kwargs(world)
    extra = _scope_kwargs(world)
    officer = _client(world.users[Role.SECURITY_OFFICER])
    insider = _client(world.users[Role.DEPARTMENT_LEAD])  # lead of 総務部, where the samples live
    outsider = _client(user_with_role(Role.DEPARTMENT_LEAD, department=world.fukushi, username="outsider"))
    downloads: list[str] = []
    problems: list[str] = []
    for route in all_routes():
        if route.name in PUBLIC_URLS or (route.params and route.name not in samples):
            continue  # the role matrix reports a missing sample
        lead_allowed = Role.DEPARTMENT_LEAD in route.view.allowed_roles
        sample = samples.get(route.name)  # per owner (a background job's file): each opens their own
        own = dict(_variants(route, sample_for(sample, world.users[Role.DEPARTMENT_LEAD])))
        for label, url in _variants(route, sample_for(sample, world.users[Role.SECURITY_OFFICER])):
            if not _is_file(officer.get(url)):
                continue
            downloads.append(label)
            if route.name in NOT_DEPARTMENT_DATA:
                continue
            if lead_allowed and not _is_file(insider.get(own[label])):
                problems.append(f"{label}: the lead of 総務部 gets no file of 総務部")
            response = outsider.get(url)
            if response.status_code not in (403, 404) or _is_file(response):
                problems.append(f"{label}: the lead of 福祉部 got {response.status_code} for 総務部's file")
        for kwargs in extra.get(route.name, []):
            for label, url in _variants(route, kwargs):
                response = outsider.get(url)
                if _is_file(response):
                    problems.append(f"{label} {url}: the lead of 福祉部 got another department's file")
    assert not problems, "\n".join(problems)
    expected = {f"evaluation:sheet_download[{f}]" for f in ("html", "xlsx", "pdf")}
    expected |= {f"evaluation:export[{f}]" for f in ("csv", "xlsx", "yaml")}
    assert expected <= set(downloads), f"download views not discovered: {expected - set(downloads)}"
    assert "evaluation:sheet_download" in extra
    stale = set(NOT_DEPARTMENT_DATA) - {d.split("[")[0] for d in downloads}
    assert not stale, f"no longer downloads, drop them from NOT_DEPARTMENT_DATA: {stale}"
