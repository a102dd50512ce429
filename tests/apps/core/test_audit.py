import pytest

from mamori.apps.core.audit import audit_record, audit_verify
from mamori.apps.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _three_events():
    for i in range(3):
        audit_record(
            actor="officer", action="test.write", object_type="thing", object_id=str(i), after={"n": i}
        )


def test_intact_chain_verifies():
    _three_events()
    result = audit_verify()
    assert result.ok and result.events == 3


def test_edited_row_is_detected():
    _three_events()
    AuditEvent.objects.filter(sequence=2).update(after={"n": 99})
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 2


def test_deleted_row_is_detected():
    _three_events()
    AuditEvent.objects.filter(sequence=2).delete()
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 2


def test_secrets_are_redacted():
    event = audit_record(actor="admin", action="repo.create", after={"url": "/x", "password": "hunter2"})
    assert event.after == {"url": "/x", "password": "***"}
