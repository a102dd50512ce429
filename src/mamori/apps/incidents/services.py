"""Incident writes: each one transaction and one audit event (and a timeline entry where a person
would expect one). Staff and department leads report; the officer triages, corrects the dates (with
a reason), records the statutory reports, closes and — with a reason — reopens. A closed incident
takes no other change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mamori.apps.backups.models import ProtectedSystem
from mamori.apps.core.audit import Actor, audit_record, snapshot_of
from mamori.apps.core.chronology import check_after, check_past, is_before, shown
from mamori.apps.core.messages import Message, message_json
from mamori.apps.core.models import Department
from mamori.apps.core.services import validated
from mamori.apps.disposal.models import Medium

from .errors import IncidentError
from .models import Incident, IncidentStatus, TimelineEntry
from .selectors import reasons_of

OUT_OF_SCOPE = _("他の所属の事故は報告できません: {department}")
# both dates with their values: the officer sees which one to correct
LEARNED_BEFORE_DETECTED = _(
    "市が把握した日時（{learned}）が発生・発見日時（{detected}）より前です。どちらかを直してください"
)
NOT_REPORTABLE = _("この事故は個人情報保護委員会への報告の対象ではありません")
ALREADY_FILED = _("{report}は既に記録されています")
FILED_BEFORE_LEARNED = _(
    "提出日時（{filed}）が市が把握した日時（{learned}）より前です。日時を確かめてください"
)
FINAL_BEFORE_PRELIMINARY = _("確報の前に速報を記録してください")
FINAL_MISSING = _("確報を提出するまで完了にできません")
ALREADY_CLOSED = _("この事故は既に完了しています")
CLOSE_SEPARATELY = _("完了は「完了にする」で記録してください")
NOT_CLOSED = _("この事故は完了していないため再開できません")
REOPEN_REASON_REQUIRED = _("再開する理由を入力してください")
CORRECT_REASON_REQUIRED = _("訂正する理由を入力してください")
NOTHING_TO_CORRECT = _("日時が変わっていません")
REPORTS = {"preliminary": _("速報"), "final": _("確報")}
# the timeline's own entries: stored as messages, read in each reader's language
RECEIVED = _("報告を受け付けました")
CORRECTED = _("日時を訂正しました（{changes}）: {reason}")
DATE_CHANGE = "{label} {before} → {after}"  # nothing to translate but the label
FILED = _("{report}を個人情報保護委員会に提出")
CLOSED = _("完了しました")
REOPENED = _("再開しました: {reason}")
PERSONAL_FIELDS = [
    "personal_data",
    "people_affected",
    "special_care",
    "ordinance_special_care",
    "my_number",
    "financial_damage",
    "unauthorised_purpose",
]
TRIAGE_FIELDS = ["severity", "status", "kind", "devices", "root_cause", "measures", *PERSONAL_FIELDS]


def _user(actor: Actor) -> Any:
    return actor if isinstance(actor, get_user_model()) else None


def _check_past(value: datetime, field: object) -> None:
    check_past(value, field=field, error=IncidentError)


def _check_after_report(value: datetime, incident: Incident, field: object) -> None:
    """The timeline starts with 「報告を受け付けました」: nothing on it is dated before that."""
    check_after(value, incident.reported_at, field=field, previous=_("報告日時"), error=IncidentError)


def _check_dates(detected_at: datetime, learned_at: datetime, reported_at: datetime) -> None:
    """発生・発見 → 市が把握 → 報告, none in the future; the filings are checked against 報告日時."""
    _check_past(detected_at, _("発生・発見日時"))
    _check_past(learned_at, _("市が把握した日時"))
    if is_before(learned_at, detected_at):
        message = LEARNED_BEFORE_DETECTED.format(learned=shown(learned_at), detected=shown(detected_at))
        raise IncidentError(message, code="learned_before_detected")
    _check_past(reported_at, _("報告日時"))
    check_after(
        reported_at, learned_at, field=_("報告日時"), previous=_("市が把握した日時"), error=IncidentError
    )


def _check_open(incident: Incident) -> None:
    """A closed incident is a finished record: reopen it (with a reason) before changing it."""
    if incident.status == IncidentStatus.CLOSED:
        raise IncidentError(ALREADY_CLOSED, code="closed")


def _entry(incident: Incident, actor: Actor, text: str, at: datetime | None = None) -> None:
    """What a person wrote on the timeline, kept as written."""
    TimelineEntry.objects.create(incident=incident, at=at or timezone.now(), author=_user(actor), text=text)


def _note(incident: Incident, actor: Actor, message: Any, at: datetime | None = None) -> None:
    """The program's own entry (a lazy text or a Message; a reason inside it stays as typed)."""
    TimelineEntry.objects.create(
        incident=incident, at=at or timezone.now(), author=_user(actor), message=message_json(message)
    )


def _joined(parts: list[Message]) -> Message:
    """「a、b」 in Japanese, "a, b" in English: the separator is translated when read."""
    joined = parts[0]
    for part in parts[1:]:
        joined = Message("{a}{separator}{b}", a=joined, separator=pgettext_lazy("separator", "、"), b=part)
    return joined


def incident_report(
    *,
    actor: Actor,
    scope: set[int] | None,
    title: str,
    kind: str,
    department: Department,
    detected_at: datetime,
    learned_at: datetime,
    description: str,
    reported_at: datetime | None = None,
    **personal: Any,
) -> Incident:
    """A new incident from the short form; the personal-data fields decide whether reports are due.
    `reported_at` (default now): when the report came in, for an incident recorded afterwards."""
    if scope is not None and department.pk not in scope:
        raise IncidentError(
            OUT_OF_SCOPE.format(department=department.full_name), code="out_of_scope", http_status=403
        )
    reported_at = reported_at or timezone.now()
    _check_dates(detected_at, learned_at, reported_at)
    incident = Incident(
        title=title,
        kind=kind,
        department=department,
        detected_at=detected_at,
        learned_at=learned_at,
        description=description,
        reported_by=_user(actor),
        reported_at=reported_at,
        **{k: v for k, v in personal.items() if k in PERSONAL_FIELDS},
    )
    validated(incident)
    with transaction.atomic():
        incident.save()
        _note(incident, actor, RECEIVED, reported_at)
        audit_record(
            actor=actor, action="incidents.incident.report", obj=incident, after=snapshot_of(incident)
        )
    return incident


def incident_triage(
    *,
    actor: Actor,
    incident: Incident,
    systems: Iterable[ProtectedSystem] = (),
    media: Iterable[Medium] = (),
    **changes: Any,
) -> Incident:
    """The officer's assessment: severity, kind, personal-data facts, cause, measures, linked records."""
    _check_open(incident)
    if changes.get("status") == IncidentStatus.CLOSED:
        raise IncidentError(CLOSE_SEPARATELY, code="close_separately")
    before = snapshot_of(incident, TRIAGE_FIELDS)
    for name in TRIAGE_FIELDS:
        if name in changes:
            setattr(incident, name, changes[name])
    validated(incident)
    with transaction.atomic():
        incident.save(update_fields=[n for n in TRIAGE_FIELDS if n in changes])
        incident.systems.set(list(systems))
        incident.media.set(list(media))
        audit_record(
            actor=actor,
            action="incidents.incident.triage",
            obj=incident,
            before=before,
            after=snapshot_of(incident, TRIAGE_FIELDS)
            | {"systems": [s.code for s in systems], "media": [m.label for m in media]},
        )
    return incident


def _as_before(value: datetime, stored: datetime) -> datetime:
    """The form gives minutes: a value in the stored value's minute is that value, unchanged."""
    return stored if not (is_before(value, stored) or is_before(stored, value)) else value


def incident_correct_dates(
    *, actor: Actor, incident: Incident, detected_at: datetime, learned_at: datetime, reason: str
) -> Incident:
    """「日時の訂正」: the officer corrects when the incident happened and when the city learned of it,
    with a reason, while it is open (a closed one is reopened first). The report deadlines count from
    `learned_at`, so they move with it; reports already filed stay filed and are judged anew."""
    _check_open(incident)
    reason = reason.strip()
    if not reason:
        raise IncidentError(CORRECT_REASON_REQUIRED, code="reason_required")
    detected_at = _as_before(detected_at, incident.detected_at)
    learned_at = _as_before(learned_at, incident.learned_at)
    labels = {"detected_at": _("発生・発見日時"), "learned_at": _("市が把握した日時")}
    before = {"detected_at": incident.detected_at, "learned_at": incident.learned_at}
    after = {"detected_at": detected_at, "learned_at": learned_at}
    changed = [name for name in labels if after[name] != before[name]]
    if not changed:
        raise IncidentError(NOTHING_TO_CORRECT, code="unchanged")
    _check_dates(detected_at, learned_at, incident.reported_at)
    changes = _joined(
        [
            Message(DATE_CHANGE, label=labels[name], before=shown(before[name]), after=shown(after[name]))
            for name in changed
        ]
    )
    with transaction.atomic():
        incident.detected_at, incident.learned_at = detected_at, learned_at
        incident.save(update_fields=changed)
        _note(incident, actor, Message(CORRECTED, changes=changes, reason=reason))
        audit_record(
            actor=actor,
            action="incidents.incident.correct",
            obj=incident,
            before=before,
            after=after | {"reason": reason},
        )
    return incident


def incident_entry_add(
    *, actor: Actor, incident: Incident, text: str, at: datetime | None = None
) -> Incident:
    _check_open(incident)
    if at is not None:
        _check_past(at, _("日時"))
        _check_after_report(at, incident, _("日時"))
    with transaction.atomic():
        _entry(incident, actor, text, at)
        audit_record(actor=actor, action="incidents.timeline.add", obj=incident, after={"text": text})
    return incident


def incident_file_report(*, actor: Actor, incident: Incident, report: str, filed_at: datetime) -> Incident:
    """Record that the 速報 ("preliminary") or 確報 ("final") went to the Commission at `filed_at`."""
    field = {"preliminary": "preliminary_filed_at", "final": "final_filed_at"}[report]
    _check_open(incident)
    if not reasons_of(incident):
        raise IncidentError(NOT_REPORTABLE, code="not_reportable")
    if getattr(incident, field) is not None:
        raise IncidentError(ALREADY_FILED.format(report=REPORTS[report]), code="already_filed")
    if report == "final" and incident.preliminary_filed_at is None:
        raise IncidentError(FINAL_BEFORE_PRELIMINARY, code="final_before_preliminary")
    _check_past(filed_at, _("提出日時"))
    if is_before(filed_at, incident.learned_at):
        message = FILED_BEFORE_LEARNED.format(filed=shown(filed_at), learned=shown(incident.learned_at))
        raise IncidentError(message, code="filed_before_learned")
    _check_after_report(filed_at, incident, _("提出日時"))
    if report == "final":
        check_after(
            filed_at,
            incident.preliminary_filed_at,
            field=_("確報の提出日時"),
            previous=_("速報の提出日時"),
            error=IncidentError,
        )
    with transaction.atomic():
        setattr(incident, field, filed_at)
        incident.save(update_fields=[field])
        _note(incident, actor, Message(FILED, report=REPORTS[report]), filed_at)
        audit_record(actor=actor, action=f"incidents.report.{report}", obj=incident, after={field: filed_at})
    return incident


def incident_close(*, actor: Actor, incident: Incident, closed_at: datetime | None = None) -> Incident:
    """「完了」. `closed_at` (default now): for an incident recorded afterwards; not in the future and
    not before the last entry of its timeline, which it ends."""
    _check_open(incident)
    if reasons_of(incident) and incident.final_filed_at is None:
        raise IncidentError(FINAL_MISSING, code="final_missing")
    closed_at = closed_at or timezone.now()
    _check_past(closed_at, _("完了日時"))
    last = incident.timeline.order_by("-at").values_list("at", flat=True).first()
    check_after(closed_at, last, field=_("完了日時"), previous=_("最後の経過"), error=IncidentError)
    with transaction.atomic():
        incident.status = IncidentStatus.CLOSED
        incident.closed_at = closed_at
        incident.save(update_fields=["status", "closed_at"])
        _note(incident, actor, CLOSED, closed_at)
        audit_record(
            actor=actor, action="incidents.incident.close", obj=incident, after={"status": incident.status}
        )
    return incident


def incident_reopen(*, actor: Actor, incident: Incident, reason: str) -> Incident:
    """「再開」: a closed incident is handled again (new facts, a report to correct), with the reason
    in its timeline. The report deadlines still count from the day the city learned of the case and
    reports already filed stay filed: both are derived from those facts, not from the closing."""
    if incident.status != IncidentStatus.CLOSED:
        raise IncidentError(NOT_CLOSED, code="not_closed")
    reason = reason.strip()
    if not reason:
        raise IncidentError(REOPEN_REASON_REQUIRED, code="reason_required")
    before = {"status": incident.status, "closed_at": incident.closed_at}
    with transaction.atomic():
        incident.status = IncidentStatus.HANDLING
        incident.closed_at = None
        incident.save(update_fields=["status", "closed_at"])
        _note(incident, actor, Message(REOPENED, reason=reason))
        audit_record(
            actor=actor,
            action="incidents.incident.reopen",
            obj=incident,
            before=before,
            after={"status": incident.status, "reason": reason},
        )
    return incident
