"""Disposal reads, limited to the user's departments (`membership_department_ids`; None: all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from mamori.apps.core.permissions import membership_department_ids

from .certificates import stored_sha256
from .models import Certificate, DisposalBatch, Medium, MediumState

DEFAULT_CERTIFICATE_DAYS = 30


def certificate_due_days() -> int:
    """Days after a hand-over by which the contractor's certificate should be in (then: an alert)."""
    return int(getattr(settings, "MAMORI_DISPOSAL_CERTIFICATE_DAYS", DEFAULT_CERTIFICATE_DAYS))


def medium_list(*, user, state: str = "") -> QuerySet[Medium]:  # type: ignore[no-untyped-def]
    scope = membership_department_ids(user)
    media = Medium.objects.select_related("department", "department__parent", "batch", "certificate")
    if scope is not None:
        media = media.filter(department_id__in=scope)
    return media.filter(state=state) if state else media


def medium_get(*, user, pk: int) -> Medium:  # type: ignore[no-untyped-def]
    return get_object_or_404(medium_list(user=user), pk=pk)


def state_counts(*, user) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = medium_list(user=user).order_by().values("state").annotate(n=Count("pk"))
    counts = {state: 0 for state in MediumState.values}
    counts.update({r["state"]: r["n"] for r in rows})
    return counts


def overdue_media(*, user=None, now: datetime | None = None) -> QuerySet[Medium]:  # type: ignore[no-untyped-def]
    """Media handed over more than N days ago whose certificate has not come in."""
    cutoff = (now or timezone.now()) - timedelta(days=certificate_due_days())
    media = (
        medium_list(user=user) if user is not None else Medium.objects.select_related("batch", "department")
    )
    return media.filter(state=MediumState.HANDED_OVER, batch__handed_over_at__lt=cutoff).order_by(
        "batch__handed_over_at", "label"
    )


def batch_list(*, user) -> QuerySet[DisposalBatch]:  # type: ignore[no-untyped-def]
    """Batches holding at least one medium the user may see."""
    scope = membership_department_ids(user)
    batches = DisposalBatch.objects.all()
    if scope is not None:
        batches = batches.filter(media__department_id__in=scope).distinct()
    return batches.annotate(media_count=Count("media", distinct=True))


def batch_get(*, user, pk: int) -> DisposalBatch:  # type: ignore[no-untyped-def]
    return get_object_or_404(batch_list(user=user), pk=pk)


def certificate_get(*, user, pk: int) -> Certificate:  # type: ignore[no-untyped-def]
    scope = membership_department_ids(user)
    certificates = Certificate.objects.select_related("batch")
    if scope is not None:
        certificates = certificates.filter(batch__media__department_id__in=scope).distinct()
    return get_object_or_404(certificates, pk=pk)


@dataclass(frozen=True)
class CertificateCheck:
    certificate: Certificate
    intact: bool
    missing: bool


def certificate_verify(certificate: Certificate) -> CertificateCheck:
    """Compare the stored bytes with the hash recorded at upload (a changed or lost file is flagged)."""
    now = stored_sha256(certificate.stored_name)
    return CertificateCheck(certificate, intact=now == certificate.sha256, missing=now is None)
