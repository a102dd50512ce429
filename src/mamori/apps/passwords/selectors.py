"""Reads for the passwords pages, the dashboard card and the KPIs."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import AuditRun, Directory, Finding, PasswordPolicy, RunStatus

# The findings a person can filter the list by, in the order an auditor asks for them.
FILTERS = {
    "leaver_enabled": "leaver_enabled",
    "overdue": "overdue",
    "due_soon": "due_soon",
    "must_change": "must_change",
    "stale": "stale",
    "never_expires": "never_expires",
    "locked": "locked",
    "disabled": "disabled",
    "unmatched": "unmatched",
    "noncompliant": "compliant",
}


def policy_list() -> QuerySet[PasswordPolicy]:
    return PasswordPolicy.objects.all()


def policy_get(pk: int) -> PasswordPolicy:
    return get_object_or_404(PasswordPolicy, pk=pk)


def directory_list() -> QuerySet[Directory]:
    return Directory.objects.all()


def directory_get(pk: int) -> Directory:
    return get_object_or_404(Directory, pk=pk)


def run_list(*, directory: Directory | None = None, limit: int = 20) -> QuerySet[AuditRun]:
    runs = AuditRun.objects.select_related("directory")
    if directory is not None:
        runs = runs.filter(directory=directory)
    return runs[:limit]


def run_get(pk: int) -> AuditRun:
    return get_object_or_404(AuditRun.objects.select_related("directory"), pk=pk)


def latest_runs() -> list[AuditRun]:
    """The newest completed run of each directory."""
    runs = []
    for directory in Directory.objects.all():
        run = directory.runs.filter(status=RunStatus.OK).first()
        if run is not None:
            runs.append(run)
    return runs


def finding_list(*, run: AuditRun, show: str = "") -> QuerySet[Finding]:
    findings = run.findings.select_related("staff", "staff__department")
    if show == "noncompliant":
        return findings.filter(compliant=False, disabled=False)
    if show in FILTERS:
        return findings.filter(**{FILTERS[show]: True})
    return findings
