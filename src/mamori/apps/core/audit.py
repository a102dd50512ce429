"""The tamper-evident audit log: every service write calls `audit_record` inside its transaction.

Each event's hash covers the previous event's hash and the event's own canonical JSON, so any edit,
insertion or deletion of a row breaks the chain from that point on; `audit_verify` finds the first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
SECRET_FIELD_MARKERS = ("password", "secret", "token", "key")

Actor = AbstractBaseUser | AnonymousUser | str | None


def actor_name(actor: Actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return actor.get_username() if actor.is_authenticated else "anonymous"


def redact(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """Secrets never reach the audit log: any field whose name looks secret is replaced."""
    if data is None:
        return None
    return {k: ("***" if any(m in k.lower() for m in SECRET_FIELD_MARKERS) else v) for k, v in data.items()}


def snapshot_of(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The field values of a model instance, JSON-ready, for `before` / `after`."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return json.loads(json.dumps({n: getattr(obj, n) for n in names}, cls=DjangoJSONEncoder))


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
    }
    return json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def compute_hash(previous_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous_hash.encode() + b"\n" + _canonical(event)).hexdigest()


def _head_for_update() -> AuditChainHead:
    """The chain head, locked for this transaction (created on first use)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(pk=1)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_name: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the service's `transaction.atomic()`.

    The head row is locked first, so concurrent writers queue up and the sequence has no gaps.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_name = object_name or str(obj)
    with transaction.atomic():
        head = _head_for_update()
        event = AuditEvent(
            sequence=head.sequence + 1,
            occurred_at=timezone.now().replace(microsecond=0),
            actor=actor_name(actor),
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_name=object_name[:200],
            before=json.loads(json.dumps(redact(before), cls=DjangoJSONEncoder)),
            after=json.loads(json.dumps(redact(after), cls=DjangoJSONEncoder)),
            previous_hash=head.hash if head.sequence else GENESIS_HASH,
        )
        event.hash = compute_hash(event.previous_hash, event)
        event.save()
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    return event


@dataclass(frozen=True)
class AuditProblem:
    sequence: int
    reason: str


@dataclass(frozen=True)
class AuditVerification:
    events: int
    first_problem: AuditProblem | None
    last_at: datetime | None

    @property
    def ok(self) -> bool:
        return self.first_problem is None

    def summary(self) -> str:
        """One line for the CLI and the audit page."""
        if self.first_problem is None:
            return f"OK: {self.events} events, hash chain intact"
        p = self.first_problem
        return f"BROKEN at event #{p.sequence}: {p.reason} ({self.events} events verified before it)"


def audit_verify() -> AuditVerification:
    """Walk the chain in sequence order; report the first edited, inserted or missing event.

    Missing events at the end (the newest rows deleted) show up against the chain head.
    """
    previous_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_at = None

    def problem(seq: int, reason: str) -> AuditVerification:
        return AuditVerification(count, AuditProblem(seq, reason), last_at)

    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_seq:
            return problem(expected_seq, f"event #{expected_seq} is missing (next is #{event.sequence})")
        if event.previous_hash != previous_hash:
            return problem(event.sequence, f"event #{event.sequence} does not follow the previous event")
        if compute_hash(previous_hash, event) != event.hash:
            return problem(event.sequence, f"event #{event.sequence} was altered after it was recorded")
        previous_hash = event.hash
        expected_seq += 1
        count += 1
        last_at = event.occurred_at
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.sequence, head.hash) if head else (0, GENESIS_HASH)
    if head_seq > count:
        return problem(
            count + 1,
            f"event #{count + 1} is missing (the log ends at #{count}, the chain head at #{head_seq})",
        )
    if head_seq < count or (count and head_hash != previous_hash):
        return problem(count, f"the chain head does not match event #{count} (head at #{head_seq})")
    return AuditVerification(count, None, last_at)
