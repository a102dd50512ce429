"""Re-chain the existing audit events under the audit key (HMAC-SHA256).

Before this migration each event's hash was an unkeyed SHA-256 that did not cover `object_name`. The old chain is verified first with
the old function, then every event is re-hashed under the key, and one more event,
`audit.chain_keyed`, records how many events were re-chained, the old head hash, and whether the old
chain verified (or where it broke), so a rewrite made before the key existed stays on record.
The functions are frozen copies: later changes to `mamori.apps.core.audit` must not change history.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations
from django.utils import timezone

GENESIS_HASH = "0" * 64


def _canonical(event, *, keyed):
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
    if keyed:  # the keyed chain covers the object's display name too
        body["object_name"] = event.object_name
    return json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def _unkeyed(previous_hash, event):
    return hashlib.sha256(previous_hash.encode() + b"\n" + _canonical(event, keyed=False)).hexdigest()


def _keyed(previous_hash, event):
    key = str(settings.MAMORI_AUDIT_KEY).encode()
    return hmac.new(key, previous_hash.encode() + b"\n" + _canonical(event, keyed=True), hashlib.sha256).hexdigest()


def _old_chain_state(events, head):
    previous, expected = GENESIS_HASH, 1
    for event in events:
        if event.sequence != expected:
            return f"broken: event #{expected} missing"
        if event.previous_hash != previous or _unkeyed(previous, event) != event.hash:
            return f"broken at event #{event.sequence}"
        previous, expected = event.hash, expected + 1
    if head is not None and (head.sequence != expected - 1 or head.hash != previous):
        return f"broken: the chain head names #{head.sequence}, the log ends at #{expected - 1}"
    return "intact"


def rechain(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    events = list(AuditEvent.objects.order_by("sequence"))
    if not events:
        return
    head = AuditChainHead.objects.filter(pk=1).first()
    state = _old_chain_state(events, head)
    old_head = events[-1].hash
    previous = GENESIS_HASH
    for event in events:
        event.previous_hash = previous
        event.hash = _keyed(previous, event)
        event.save(update_fields=["previous_hash", "hash"])
        previous = event.hash
    marker = AuditEvent(
        sequence=events[-1].sequence + 1,
        occurred_at=timezone.now().replace(microsecond=0),
        actor="system",
        action="audit.chain_keyed",
        object_type="core.auditevent",
        after={"events": len(events), "unkeyed_head": old_head, "unkeyed_chain": state},
        previous_hash=previous,
    )
    marker.hash = _keyed(previous, marker)
    marker.save()
    AuditChainHead.objects.update_or_create(pk=1, defaults={"sequence": marker.sequence, "hash": marker.hash})


class Migration(migrations.Migration):
    dependencies = [("core", "0003_auditevent_object_name")]

    operations = [migrations.RunPython(rechain, migrations.RunPython.noop)]
