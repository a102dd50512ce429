"""The tamper-evident audit log: every service write calls `audit_record` inside its transaction.

Each event's hash is an HMAC-SHA256, under a key kept outside the database (`MAMORI_AUDIT_KEY` or
`MAMORI_HOME/audit_key`), of the previous event's hash and the event's own canonical JSON: any edit,
insertion or deletion of a row breaks the chain from that point on, and someone who can write the
database but not read the key cannot re-hash the rest. `audit_checkpoint_write` keeps the chain head
in a file outside the database as well (see `audit_checkpoints`); `audit_verify` checks both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from .audit_checkpoints import (
    Checkpoint,
    CheckpointError,
    checkpoint_files,
    checkpoint_load,
    checkpoint_path,
    checkpoint_save,
)
from .models import AuditChainHead, AuditEvent
from .redaction import redact_value

logger = logging.getLogger(__name__)

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
    """Secrets never reach the audit log: any field whose name looks secret is replaced, and credentials
    inside values (a repository URL's password) are masked."""
    if data is None:
        return None
    return {
        k: ("***" if any(m in k.lower() for m in SECRET_FIELD_MARKERS) else redact_value(v))
        for k, v in data.items()
    }


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
        "object_name": event.object_name,
        "before": event.before,
        "after": event.after,
    }
    return json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def audit_key() -> bytes:
    return str(settings.MAMORI_AUDIT_KEY).encode()


def compute_hash(previous_hash: str, event: AuditEvent) -> str:
    """HMAC-SHA256 under the audit key of the previous hash and the event's canonical JSON."""
    message = previous_hash.encode() + b"\n" + _canonical(event)
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


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
    sequence: int  # 0 when the problem is a checkpoint file itself
    reason: str


@dataclass(frozen=True)
class AuditVerification:
    events: int
    first_problem: AuditProblem | None
    last_at: datetime | None
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return self.first_problem is None

    def summary(self) -> str:
        """One line for the CLI and the audit page."""
        if self.first_problem is None:
            return (
                f"OK: {self.events} events, keyed hash chain intact, {self.checkpoints} checkpoint(s) agree"
            )
        p = self.first_problem
        where = f" at event #{p.sequence}" if p.sequence else ""
        return f"BROKEN{where}: {p.reason} ({self.events} events verified before it)"


def _checkpoints(extra: Iterable[Path]) -> tuple[list[tuple[Path, Checkpoint]], str | None]:
    """Every checkpoint kept under MAMORI_HOME plus the given files; the first unreadable one."""
    found = []
    for path in [*checkpoint_files(Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR)), *extra]:
        try:
            found.append((path, checkpoint_load(path, audit_key())))
        except CheckpointError as exc:
            return found, str(exc)
    return found, None


def audit_verify(*, extra_checkpoints: Iterable[Path] = ()) -> AuditVerification:
    """Walk the chain in sequence order; report the first edited, inserted or missing event.

    Missing events at the end (the newest rows deleted) show up against the chain head and against
    any checkpoint newer than the log; an event that differs from a checkpoint naming it was
    rewritten, even by someone holding the key.
    """
    previous_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_at = None
    checkpoints, unreadable = _checkpoints(extra_checkpoints)
    by_sequence: dict[int, list[tuple[Path, Checkpoint]]] = {}
    for path, checkpoint in checkpoints:
        by_sequence.setdefault(checkpoint.sequence, []).append((path, checkpoint))

    def problem(seq: int, reason: str) -> AuditVerification:
        return AuditVerification(count, AuditProblem(seq, reason), last_at, len(checkpoints))

    if unreadable:
        return problem(0, unreadable)
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_seq:
            return problem(expected_seq, f"event #{expected_seq} is missing (next is #{event.sequence})")
        if event.previous_hash != previous_hash:
            return problem(event.sequence, f"event #{event.sequence} does not follow the previous event")
        if compute_hash(previous_hash, event) != event.hash:
            return problem(event.sequence, f"event #{event.sequence} was altered after it was recorded")
        for path, checkpoint in by_sequence.get(event.sequence, []):
            if not hmac.compare_digest(checkpoint.hash, event.hash):
                return problem(
                    event.sequence,
                    f"event #{event.sequence} differs from checkpoint {path} "
                    f"(written {checkpoint.written_at}): the log was rewritten",
                )
        previous_hash = event.hash
        expected_seq += 1
        count += 1
        last_at = event.occurred_at
    newest = max(checkpoints, key=lambda c: c[1].sequence, default=None)
    if newest is not None and newest[1].sequence > count:
        path, checkpoint = newest
        return problem(
            count + 1,
            f"event #{count + 1} is missing: checkpoint {path} (written {checkpoint.written_at}) "
            f"names event #{checkpoint.sequence}, the log ends at #{count}",
        )
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.sequence, head.hash) if head else (0, GENESIS_HASH)
    if head_seq > count:
        return problem(
            count + 1,
            f"event #{count + 1} is missing (the log ends at #{count}, the chain head at #{head_seq})",
        )
    if head_seq < count or (count and head_hash != previous_hash):
        return problem(count, f"the chain head does not match event #{count} (head at #{head_seq})")
    return AuditVerification(count, None, last_at, len(checkpoints))


def audit_checkpoint_write(*, now: datetime | None = None) -> Path | None:
    """Write the chain head (sequence, hash, time; MACed) to today's file in
    `MAMORI_AUDIT_CHECKPOINT_DIR` (`MAMORI_HOME/audit-checkpoints/head-YYYY-MM-DD.json`).

    Called by each worker tick and by `mamori audit verify`; mamori's self-backup copies the
    directory into the repositories. Returns the file written, or None when there was nothing new to
    record or the head is not authentic (logged: a checkpoint must never bless a rewritten log).
    """
    now = now or timezone.now()
    last = AuditEvent.objects.order_by("-sequence").first()
    if last is None:
        return None
    if compute_hash(last.previous_hash, last) != last.hash:
        logger.error(
            "audit checkpoint not written: event #%s fails its MAC; run mamori audit verify", last.sequence
        )
        return None
    directory = Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR)
    day = timezone.localdate(now)
    path = checkpoint_path(directory, day)
    if path.exists():
        try:
            previous = checkpoint_load(path, audit_key())
        except CheckpointError as exc:
            logger.error("audit checkpoint not written: %s; run mamori audit verify", exc)
            return None
        if previous.sequence > last.sequence:
            logger.error(
                "audit checkpoint not written: %s names event #%s, the log ends at #%s; run mamori audit verify",
                path,
                previous.sequence,
                last.sequence,
            )
            return None
        if previous.sequence == last.sequence:
            return None
    checkpoint = Checkpoint(
        sequence=last.sequence,
        hash=last.hash,
        occurred_at=last.occurred_at.isoformat(),
        written_at=now.isoformat(),
    )
    return checkpoint_save(directory, checkpoint, audit_key(), day=day)
