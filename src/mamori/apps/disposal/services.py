"""Disposal writes: each one transaction and one audit event, each a step of the chain of custody.

`scope` is the acting user's department ids (None: every department), so a department lead can
neither register nor move another department's medium even with a hand-made request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record, snapshot_of
from mamori.apps.core.chronology import check_after, check_past
from mamori.apps.core.models import Department
from mamori.apps.core.services import validated

from .certificates import CheckedFile, certificate_write
from .errors import DisposalError
from .models import Certificate, DisposalBatch, Medium, MediumState, Method

# The only allowed step from each state: nothing can be skipped, repeated or undone.
TRANSITIONS = {
    MediumState.REGISTERED: MediumState.STORED,
    MediumState.STORED: MediumState.HANDED_OVER,
    MediumState.HANDED_OVER: MediumState.CERTIFIED,
}

OUT_OF_SCOPE = _("他の所属の媒体は扱えません: {labels}")
BAD_STEP = _(
    "{label} は「{state}」のため「{target}」にできません（手順を飛ばしたり繰り返したりはできません）"
)
DUPLICATE_LABEL = _("管理番号 {label} は既に登録されています")
MYNUMBER_DESTROY = _("マイナンバー利用事務系の媒体は物理破壊以外の方法で処理できません: {labels}")
NO_MEDIA = _("媒体を1件以上選んでください")
NOT_IN_BATCH = _("この引渡しに含まれない媒体は証明書に記載できません: {labels}")
ISSUED_BEFORE_HANDOVER = _("証明書の発行日が引渡し日より前です")


def _user(actor: Actor) -> Any:
    return actor if isinstance(actor, get_user_model()) else None


def _labels(media: Iterable[Medium]) -> str:
    return "、".join(sorted(m.label for m in media))


def _check_scope(media: Iterable[Medium], scope: set[int] | None) -> None:
    outside = [m for m in media if scope is not None and m.department_id not in scope]
    if outside:
        raise DisposalError(
            OUT_OF_SCOPE.format(labels=_labels(outside)), code="out_of_scope", http_status=403
        )


def _check_past(value: datetime | date, field: object) -> None:
    check_past(value, field=field, error=DisposalError)


def _check_after_media(value: datetime, media: Iterable[Medium], field: object) -> None:
    """A hand-over no earlier than any of its media went into storage (or, unstored, was registered)."""
    for medium in media:
        if medium.stored_at is not None:
            previous, earlier = _("「{label}」の保管開始").format(label=medium.label), medium.stored_at
        else:
            previous, earlier = _("「{label}」の登録").format(label=medium.label), medium.registered_at
        check_after(value, earlier, field=field, previous=previous, error=DisposalError)


def _advance(media: list[Medium], target: str) -> None:
    for medium in media:
        if TRANSITIONS.get(MediumState(medium.state)) != target:
            raise DisposalError(
                BAD_STEP.format(
                    label=medium.label,
                    state=MediumState(medium.state).label,
                    target=MediumState(target).label,
                ),
                code="bad_step",
            )
        medium.state = target


def _locked(media: Iterable[Medium]) -> list[Medium]:
    """Fresh, row-locked copies, so two officers cannot move the same medium twice."""
    ids = [m.pk for m in media]
    return list(Medium.objects.select_for_update().filter(pk__in=ids).order_by("label"))


def medium_register(
    *,
    actor: Actor,
    scope: set[int] | None,
    label: str,
    kind: str,
    department: Department,
    classification: str,
    network_zone: str,
    description: str = "",
    serial_number: str = "",
    source_device: str = "",
    registered_at: datetime | None = None,
) -> Medium:
    """A medium to dispose of; `registered_at` (default now) for records entered after the fact."""
    registered_at = registered_at or timezone.now()
    _check_past(registered_at, _("登録日時"))
    if scope is not None and department.pk not in scope:
        raise DisposalError(
            OUT_OF_SCOPE.format(labels=department.full_name), code="out_of_scope", http_status=403
        )
    if Medium.objects.filter(label=label).exists():
        raise DisposalError(DUPLICATE_LABEL.format(label=label), code="duplicate_label")
    medium = Medium(
        label=label,
        kind=kind,
        department=department,
        classification=classification,
        network_zone=network_zone,
        description=description,
        serial_number=serial_number,
        source_device=source_device,
        registered_by=_user(actor),
        registered_at=registered_at,
    )
    validated(medium)
    try:
        with transaction.atomic():
            medium.save()
            audit_record(
                actor=actor, action="disposal.medium.register", obj=medium, after=snapshot_of(medium)
            )
    except IntegrityError as exc:  # the same number registered a moment ago by someone else
        raise DisposalError(DUPLICATE_LABEL.format(label=label), code="duplicate_label") from exc
    return medium


def medium_store(
    *,
    actor: Actor,
    scope: set[int] | None,
    medium: Medium,
    location: str,
    stored_at: datetime | None = None,
) -> Medium:
    """Registered → in storage (保管庫), waiting for a hand-over; `stored_at` defaults to now."""
    _check_scope([medium], scope)
    stored_at = stored_at or timezone.now()
    _check_past(stored_at, _("保管開始"))
    with transaction.atomic():
        (medium,) = _locked([medium])
        _advance([medium], MediumState.STORED)
        check_after(
            stored_at, medium.registered_at, field=_("保管開始"), previous=_("登録日時"), error=DisposalError
        )
        medium.storage_location = location
        medium.stored_at = stored_at
        medium.save(update_fields=["state", "storage_location", "stored_at"])
        audit_record(
            actor=actor,
            action="disposal.medium.store",
            obj=medium,
            after={
                "label": medium.label,
                "state": medium.state,
                "location": location,
                "stored_at": stored_at.isoformat(),
            },
        )
    return medium


def batch_hand_over(
    *,
    actor: Actor,
    scope: set[int] | None,
    media: list[Medium],
    contractor: str,
    method: str,
    handed_over_at: datetime,
    received_by: str,
    witness: str,
    note: str = "",
) -> DisposalBatch:
    """Stored media → handed over to a contractor in one batch. マイナンバー系 media: destroy only."""
    if not media:
        raise DisposalError(NO_MEDIA, code="no_media")
    _check_scope(media, scope)
    _check_past(handed_over_at, _("引渡し日時"))
    batch = DisposalBatch(
        contractor=contractor,
        method=method,
        handed_over_at=handed_over_at,
        handed_over_by=_user(actor),
        received_by=received_by,
        witness=witness,
        note=note,
    )
    validated(batch)
    with transaction.atomic():
        locked = _locked(media)
        mynumber = [m for m in locked if m.requires_destruction]
        if mynumber and method != Method.DESTROY:
            raise DisposalError(MYNUMBER_DESTROY.format(labels=_labels(mynumber)), code="destroy_required")
        _advance(locked, MediumState.HANDED_OVER)
        _check_after_media(handed_over_at, locked, _("引渡し日時"))
        batch.save()
        for medium in locked:
            medium.batch = batch
            medium.save(update_fields=["state", "batch"])
        audit_record(
            actor=actor,
            action="disposal.batch.hand_over",
            obj=batch,
            after=snapshot_of(batch) | {"media": [m.label for m in locked]},
        )
    return batch


def certificate_register(
    *,
    actor: Actor,
    batch: DisposalBatch,
    checked: CheckedFile,
    number: str,
    issued_on: date,
    media: list[Medium],
) -> Certificate:
    """Store the contractor's certificate and close the media it names; the rest of the batch stays
    handed over (open) until another certificate covers them."""
    if not media:
        raise DisposalError(NO_MEDIA, code="no_media")
    _check_past(issued_on, _("発行日"))
    if issued_on < timezone.localdate(batch.handed_over_at):
        raise DisposalError(ISSUED_BEFORE_HANDOVER, code="issued_before_handover")
    certificate = Certificate(
        batch=batch,
        number=number,
        issued_on=issued_on,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_by=_user(actor),
        uploaded_at=timezone.now(),
        stored_name=f"{checked.sha256}.{checked.extension}",
    )
    validated(certificate)
    with transaction.atomic():
        locked = _locked(media)
        outside = [m for m in locked if m.batch_id != batch.pk]
        if outside:
            raise DisposalError(NOT_IN_BATCH.format(labels=_labels(outside)), code="not_in_batch")
        _advance(locked, MediumState.CERTIFIED)
        certificate_write(checked)
        certificate.save()
        for medium in locked:
            medium.certificate = certificate
            medium.save(update_fields=["state", "certificate"])
        audit_record(
            actor=actor,
            action="disposal.certificate.register",
            obj=certificate,
            after=snapshot_of(certificate) | {"media": [m.label for m in locked]},
        )
    return certificate
