"""The optional Wazuh API pull: its settings (one connection; the password encrypted at rest, never
shown, never audited) and the worker job that pulls a bundle and imports it like an uploaded one.

Only when configured: with no `WazuhSource` the devices pages offer files alone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record
from mamori.apps.core.models import ProgressJob
from mamori.apps.core.permissions import OFFICERS
from mamori.apps.core.progress import ProgressKind, ProgressResult, Report, progress_start
from mamori.apps.core.secretbox import secret_decrypt, secret_encrypt

from .errors import DeviceError
from .imports import import_execute, import_submit
from .models import ImportKind, WazuhSource
from .tasks import job_result
from .wazuh_api import NOT_HTTPS, WazuhAccess, tls_context, wazuh_bundle

KIND = "devices.wazuh_pull"
NOT_CONFIGURED = _("Wazuh API の接続先が設定されていません。")
PASSWORD_REQUIRED = _("初めて設定するときはパスワードを入力してください。")


def wazuh_source_get() -> WazuhSource | None:
    return WazuhSource.objects.order_by("pk").first()


def _snapshot(source: WazuhSource) -> dict[str, Any]:
    return {
        "url": source.url,
        "username": source.username,
        "timeout_seconds": source.timeout_seconds,
        "ca_certificate_set": bool(source.ca_certificate),
    }


def wazuh_source_save(
    *,
    actor: Actor,
    url: str,
    username: str,
    password: str = "",
    ca_certificate: str = "",
    timeout_seconds: int = 30,
) -> WazuhSource:
    """Create or change the connection; an empty `password` keeps the stored one."""
    source = wazuh_source_get() or WazuhSource()
    before = _snapshot(source) if source.pk else None
    if not password and not source.password_encrypted:
        raise DeviceError(PASSWORD_REQUIRED, code="password_required")
    if not url.strip().lower().startswith("https://"):
        raise DeviceError(NOT_HTTPS, code="wazuh_not_https")
    tls_context(ca_certificate.strip())  # a certificate that cannot be read is refused now, not at the pull
    source.url, source.username = url.strip(), username.strip()
    source.ca_certificate, source.timeout_seconds = ca_certificate.strip(), timeout_seconds
    if password:
        source.password_encrypted = secret_encrypt(password)
    source.full_clean()
    with transaction.atomic():
        source.save()
        audit_record(
            actor=actor,
            action="devices.wazuh_source.save",
            obj=source,
            before=before,
            after=_snapshot(source) | {"password_changed": bool(password)},
        )
    return source


def wazuh_pull_start(*, actor: Any) -> ProgressJob:
    source = wazuh_source_get()
    if source is None:
        raise DeviceError(NOT_CONFIGURED, code="not_configured")
    return progress_start(actor=actor, kind=KIND, title=str(_("Wazuh API から取得")) + f" — {source.url}")


def wazuh_pull_job(job: ProgressJob, report: Report) -> ProgressResult:
    """Pull with the settings as they are when the job runs, then import the bundle as an upload."""
    source = wazuh_source_get()
    if source is None:
        raise DeviceError(NOT_CONFIGURED, code="not_configured")
    access = WazuhAccess(
        url=source.url,
        username=source.username,
        password=secret_decrypt(source.password_encrypted),
        ca_certificate=source.ca_certificate,
        timeout=float(source.timeout_seconds),
    )
    bundle = wazuh_bundle(access, report=report)
    name = f"wazuh-api-{timezone.localtime():%Y%m%d-%H%M}.json"
    record = import_submit(actor=job.owner, filename=name, data=bundle, kind=ImportKind.WAZUH)
    job.params = job.params | {"import_id": record.pk}
    ProgressJob.objects.filter(pk=job.pk).update(params=job.params)  # the detail link names the import
    return job_result(import_execute(import_id=record.pk, report=report))


PULL_KIND = ProgressKind(
    key=KIND,
    label=_("Wazuh API からの取得"),
    run=wazuh_pull_job,
    roles=OFFICERS,
    back=lambda job: reverse("devices:wazuh"),
    detail=lambda job: (
        reverse("devices:import-detail", args=[job.params["import_id"]])
        if job.params.get("import_id")
        else ""
    ),
)
