import importlib
import io
import json
import stat

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from mamori.apps.core.audit import (
    GENESIS_HASH,
    audit_checkpoint_write,
    audit_record,
    audit_verify,
    compute_hash,
)
from mamori.apps.core.audit_checkpoints import checkpoint_files
from mamori.apps.core.models import AuditChainHead, AuditEvent
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


def _verify_command(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code, err = exc.returncode, io.StringIO(str(exc))
    return code, out.getvalue() + err.getvalue()


def test_audit_verify_command_reports_an_intact_chain():
    _three_events()
    code, output = _verify_command()
    assert code == 0
    assert output.strip() == "OK: 3 events, keyed hash chain intact, 0 checkpoint(s) agree"


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


# --- the keyed chain: an attacker who can write the database but not read the key --------------


KEYING_MIGRATION = importlib.import_module("mamori.apps.core.migrations.0004_audit_chain_keyed")


def _unkeyed_hash(previous_hash, event):
    """The chain function before the key (plain SHA-256), as the migration froze it: what an
    attacker who can write the database can compute."""
    return KEYING_MIGRATION._unkeyed(previous_hash, event)


def _rehash_everything(hash_function):
    """Re-chain every event and the head with `hash_function`, as a forger would after an edit."""
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence"):
        event.previous_hash = previous
        event.hash = hash_function(previous, event)
        event.save()
        previous = event.hash
    AuditChainHead.objects.filter(pk=1).update(hash=previous, sequence=AuditEvent.objects.count())


def test_an_edit_rehashed_with_the_old_unkeyed_function_is_caught():
    _three_events()
    AuditEvent.objects.filter(sequence=2).update(after={"n": 99})
    _rehash_everything(_unkeyed_hash)
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 1
    assert "altered" in result.first_problem.reason


def test_a_chain_under_another_key_does_not_verify(settings):
    _three_events()
    assert audit_verify().ok
    settings.MAMORI_AUDIT_KEY = "not-the-key"
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 1


# --- checkpoints: the head kept outside the database ---------------------------------------------


def test_a_checkpoint_is_a_private_authenticated_file_naming_the_head(settings):
    _three_events()
    path = audit_checkpoint_write()
    document = json.loads(path.read_text())
    head = AuditEvent.objects.get(sequence=3)
    assert (document["sequence"], document["hash"]) == (3, head.hash)
    assert document["occurred_at"] == head.occurred_at.isoformat() and len(document["mac"]) == 64
    assert path.parent == settings.MAMORI_AUDIT_CHECKPOINT_DIR
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert audit_verify().summary() == "OK: 3 events, keyed hash chain intact, 1 checkpoint(s) agree"


def test_deleting_the_newest_events_and_fixing_the_head_is_caught_by_the_checkpoint():
    _three_events()
    audit_checkpoint_write()
    AuditEvent.objects.filter(sequence=3).delete()
    AuditChainHead.objects.filter(pk=1).update(sequence=2, hash=AuditEvent.objects.get(sequence=2).hash)
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 3
    assert "checkpoint" in result.first_problem.reason and "names event #3" in result.first_problem.reason


def test_a_rewrite_made_with_the_key_is_caught_by_an_earlier_checkpoint():
    """Even someone who read the key (root on the host) cannot rewrite what a checkpoint names."""
    _three_events()
    audit_checkpoint_write()
    AuditEvent.objects.filter(sequence=2).update(after={"n": 99})
    _rehash_everything(compute_hash)
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 3
    assert "differs from checkpoint" in result.first_problem.reason


def test_a_checkpoint_never_moves_back_to_a_shorter_chain():
    _three_events()
    path = audit_checkpoint_write()
    AuditEvent.objects.filter(sequence=3).delete()
    AuditChainHead.objects.filter(pk=1).update(sequence=2, hash=AuditEvent.objects.get(sequence=2).hash)
    assert audit_checkpoint_write() is None
    assert json.loads(path.read_text())["sequence"] == 3


def test_an_altered_checkpoint_is_refused(settings):
    _three_events()
    path = audit_checkpoint_write()
    document = json.loads(path.read_text())
    document["sequence"] = 2
    path.write_text(json.dumps(document))
    result = audit_verify()
    assert not result.ok and "MAC does not match" in result.first_problem.reason
    assert result.summary().startswith("BROKEN: checkpoint ")


def test_verify_checks_a_checkpoint_restored_from_elsewhere(tmp_path):
    """The local checkpoints are gone too (the attacker owns the host); a copy from a backup is not."""
    _three_events()
    kept = tmp_path / "restored-head.json"
    audit_checkpoint_write().rename(kept)
    AuditEvent.objects.filter(sequence__gte=2).delete()
    AuditChainHead.objects.filter(pk=1).update(sequence=1, hash=AuditEvent.objects.get(sequence=1).hash)
    assert _verify_command()[0] == 0  # without the copy the shorter log looks whole
    for extra in checkpoint_files(tmp_path.parent):
        extra.unlink()
    code, output = _verify_command("--checkpoint", str(kept))
    assert code == 1 and "event #2 is missing: checkpoint" in output and "names event #3" in output


def test_verify_writes_a_checkpoint_of_an_intact_chain_only(settings):
    _three_events()
    assert _verify_command()[0] == 0
    assert audit_verify().checkpoints == 1
    audit_record(actor="x", action="later")
    AuditEvent.objects.filter(sequence=4).update(actor="mallory")
    assert _verify_command()[0] == 1
    assert json.loads(checkpoint_files(settings.MAMORI_AUDIT_CHECKPOINT_DIR)[0].read_text())["sequence"] == 3


# --- the migration that keyed the chain ----------------------------------------------------------


def _unkeyed_events(n):
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        event = AuditEvent(
            sequence=i,
            occurred_at=timezone.now().replace(microsecond=0),
            actor="officer",
            action="old.write",
            after={"n": i},
            previous_hash=previous,
        )
        event.hash = _unkeyed_hash(previous, event)
        event.save()
        previous = event.hash
    AuditChainHead.objects.update_or_create(pk=1, defaults={"sequence": n, "hash": previous})


def _migrate_rechain():
    KEYING_MIGRATION.rechain(django_apps, None)


def test_the_migration_rechains_unkeyed_events_under_the_key_and_says_so():
    _unkeyed_events(3)
    assert not audit_verify().ok  # the old hashes are not keyed
    _migrate_rechain()
    result = audit_verify()
    assert result.ok and result.events == 4
    marker = AuditEvent.objects.get(sequence=4)
    assert marker.action == "audit.chain_keyed"
    assert marker.after["events"] == 3 and marker.after["unkeyed_chain"] == "intact"


def test_the_migration_records_an_unkeyed_chain_that_was_already_broken():
    _unkeyed_events(3)
    AuditEvent.objects.filter(sequence=2).update(actor="mallory")
    _migrate_rechain()
    assert AuditEvent.objects.get(action="audit.chain_keyed").after["unkeyed_chain"] == "broken at event #2"


def test_emptying_the_log_and_its_head_is_caught_by_a_checkpoint():
    """Without a checkpoint an emptied log looks like a new installation; with one it does not."""
    _three_events()
    audit_checkpoint_write()
    AuditEvent.objects.all().delete()
    AuditChainHead.objects.all().delete()
    result = audit_verify()
    assert not result.ok and result.first_problem.sequence == 1
    assert "names event #3, the log ends at #0" in result.first_problem.reason
