import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mamori.apps.core.audit import audit_record, audit_verify, compute_hash
from mamori.apps.core.models import AuditEvent
from mamori.cli.main import main

from .factories import DepartmentFactory

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


def test_deleted_last_row_is_detected():
    _three_events()
    AuditEvent.objects.filter(sequence=3).delete()
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 3
    assert "missing" in result.first_problem.reason


def test_deleted_last_rows_are_detected():
    _three_events()
    AuditEvent.objects.filter(sequence__gte=2).delete()
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 2


def test_deleting_every_row_is_detected():
    _three_events()
    AuditEvent.objects.all().delete()
    assert audit_verify().first_problem.sequence == 1


def test_rewritten_last_row_with_a_recomputed_hash_is_detected():
    """An attacker who edits the newest event and recomputes its hash still fails against the head."""
    _three_events()
    event = AuditEvent.objects.get(sequence=3)
    event.after = {"n": 99}
    event.hash = compute_hash(event.previous_hash, event)
    event.save()
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 3


def test_the_chain_continues_after_verification():
    _three_events()
    audit_record(actor="x", action="later")
    assert audit_verify().events == 4


def _verify_command():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code, err = exc.returncode, io.StringIO(str(exc))
    return code, out.getvalue() + err.getvalue()


def test_audit_verify_command_reports_an_intact_chain():
    _three_events()
    code, output = _verify_command()
    assert code == 0
    assert output.strip() == "OK: 3 events, hash chain intact"


def test_audit_verify_command_exits_non_zero_on_an_edited_row():
    _three_events()
    AuditEvent.objects.filter(sequence=2).update(actor="someone else")
    code, output = _verify_command()
    assert code == 1
    assert "event #2 was altered" in output and len(output.strip().splitlines()) == 1


def test_audit_verify_command_exits_non_zero_on_a_deleted_last_row():
    _three_events()
    AuditEvent.objects.filter(sequence=3).delete()
    code, output = _verify_command()
    assert code == 1 and "event #3 is missing" in output


def test_mamori_cli_returns_the_exit_code(capsys):
    _three_events()
    AuditEvent.objects.filter(sequence=1).update(actor="x")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at event #1" in capsys.readouterr().err


def test_an_event_keeps_the_objects_name_as_written():
    """The name at write time stays on the event, so a renamed or deleted object is still named."""
    department = DepartmentFactory(name="介護保険課")
    event = audit_record(actor="officer", action="department.update", obj=department)
    department.delete()
    event.refresh_from_db()
    assert event.object_name == str(department)
    assert audit_verify().ok
