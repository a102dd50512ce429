"""`mamori import devices-... FILE`: the same import as the web's background job, at once, with a
progress line on a terminal, one line per error and the documented exit status (0 imported,
1 nothing imported, 2 usage)."""

from __future__ import annotations

import getpass
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from mamori.apps.core.models import AuditEvent
from mamori.apps.devices.models import Device, DeviceImport, HygieneReport
from mamori.cli.main import main

from .test_imports import FIXTURES, INVENTORY

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_inventory_imports_once_and_again_changes_nothing(world, tmp_path, capsys):
    path = tmp_path / "台帳.csv"
    path.write_bytes(INVENTORY.encode("cp932"))
    terminal = Terminal()
    call_command("import", "devices-inventory", str(path), stderr=terminal)
    assert capsys.readouterr().out == f"{path}: 機器台帳（CSV）: 3件中 新規 3・更新 0・変更なし 0\n"
    assert "\r\033[K6/6 書き込み中" in terminal.getvalue()  # the progress line, redrawn in place
    assert Device.objects.count() == 3
    record = DeviceImport.objects.get()
    assert record.actor == f"cli:{getpass.getuser()}" and record.filename == "台帳.csv"
    call_command("import", "devices-inventory", str(path))
    assert "3件中 新規 0・更新 0・変更なし 3" in capsys.readouterr().out
    actions = AuditEvent.objects.filter(action__startswith="devices.import").values_list("action", flat=True)
    assert list(actions) == ["devices.import.submit", "devices.import.apply"] * 2


def test_a_file_with_bad_lines_prints_each_error_and_imports_nothing(world, tmp_path, capsys):
    path = tmp_path / "inventory.csv"
    path.write_text(
        INVENTORY.replace("1002,LGWAN接続系", "9999,LGWAN接続系").replace(",インターネット接続系,", ",,")
    )
    with pytest.raises(CommandError) as raised:
        call_command("import", "devices-inventory", str(path))
    assert raised.value.returncode == 1
    assert str(raised.value) == f"{path}: 2 error(s); nothing was imported"
    assert capsys.readouterr().err.splitlines() == [
        "2行目: 所属「9999」が見つからないか、同名の所属が複数あります（所属コードで書いてください）",
        "4行目: ネットワーク区分がありません",
    ]
    assert not Device.objects.exists()


def test_many_errors_print_the_first_fifty_and_the_count(world, tmp_path, capsys):
    header, first = INVENTORY.splitlines()[:2]
    lines = [
        first.replace("GK-0001,GK-PC001", f"GK-{n:04},GK-PC{n:04}")
        .replace("FJ001,", f"FJ{n:04},")
        .replace(",1002,", ",9999,")
        for n in range(60)
    ]
    path = tmp_path / "inventory.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    with pytest.raises(CommandError, match="60 error"):
        call_command("import", "devices-inventory", str(path))
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 51 and err[0].startswith("2行目: ") and err[-1] == "... and 10 more"


def test_devices_tells_the_format_and_notes_hosts_not_in_the_inventory(world, tmp_path, capsys):
    call_command("import", "devices", str(FIXTURES / "osquery_snapshot.log"))
    out, err = capsys.readouterr()
    assert "衛生状況（osquery 結果ログ）" in out and "台帳にないホスト" in out
    assert err.startswith("note: hosts not in the inventory: ") and not HygieneReport.objects.exists()


def test_exit_status_and_one_line_reasons(world, tmp_path, capsys, monkeypatch):
    # each `main` ends as a command run from the shell does, closing the database connections; on
    # PostgreSQL that would close the test's own transaction before the next call
    monkeypatch.setattr(connections, "close_all", lambda: None)
    good = tmp_path / "inventory.csv"
    good.write_text(INVENTORY)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    truncated = FIXTURES / "wazuh_truncated.json"
    assert main(["import", "devices-inventory", str(good)]) == 0
    assert main(["import", "devices-wazuh", str(truncated)]) == 1
    assert main(["import", "devices", str(notes)]) == 1
    assert main(["import", "devices-inventory", str(tmp_path / "missing.csv")]) == 1
    assert main(["import", "devices-inventory", str(tmp_path)]) == 1  # a directory
    assert main(["import", "devices-nonsense", str(good)]) == 2
    err = capsys.readouterr().err
    assert f"{notes}: ファイル 'notes.txt' の形式が分かりません" in err
    assert f"cannot read {tmp_path / 'missing.csv'}: not a file" in err
    assert "Traceback" not in err and DeviceImport.objects.count() == 2


def test_the_help_lists_the_registered_kinds(capsys):
    assert main(["import", "--help"]) == 0
    assert (
        "staff|devices|devices-hygiene|devices-inventory|devices-osquery|devices-wazuh"
        in capsys.readouterr().out
    )


def test_a_file_is_never_kept_after_a_cli_import(world, tmp_path, settings):
    path = tmp_path / "inventory.csv"
    path.write_text(INVENTORY)
    call_command("import", "devices-inventory", str(path))
    kept = Path(settings.MAMORI_HOME) / "device-imports" / DeviceImport.objects.get().stored_file
    assert not kept.exists()
