"""After the demo setup, `mamori status --json` shows the four systems backed up, copied offsite to the
demo's S3 server under Object Lock, checked and drilled — green, all of 3-2-1-1-0 — and the real
`restic check --read-data` is clean on every repository it lists."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from django.core.management import call_command, get_commands

from mamori.apps.backups.demo import setup_demo
from mamori.apps.backups.demo_s3 import demo_s3_stop
from mamori.apps.backups.models import ProtectedSystem, Run
from mamori.apps.core.models import Organisation
from tests.conftest import require_tool

pytestmark = pytest.mark.django_db(transaction=True)
DEMO_PASSWORD = "demo password for restic checks"


def run_demo_setup() -> None:
    if "demo" in get_commands():  # the platform's `mamori demo` calls setup_demo after creating the city
        call_command("demo", "--no-serve", stdout=io.StringIO())
    else:
        organisation = Organisation.objects.create(name="みなと台市", prefecture="神奈川県")
        setup_demo(organisation=organisation, stdout=io.StringIO())


@pytest.fixture
def demo_home(settings, tmp_path, monkeypatch):
    settings.MAMORI_HOME = tmp_path / "home"
    settings.MAMORI_HOME.mkdir()
    monkeypatch.setenv("MAMORI_DEMO_PASSWORD", DEMO_PASSWORD)
    yield settings.MAMORI_HOME
    demo_s3_stop(settings.MAMORI_HOME / "demo-s3")


def test_demo_backs_up_copies_and_drills_all_four_and_restic_agrees(demo_home, capsys):
    """Also: a repository left by an earlier demo is neither reused nor deleted; a second setup
    creates and runs nothing twice."""
    stale = demo_home / "repositories" / "primary" / "jumin"
    stale.mkdir(parents=True)
    (stale / "config").write_bytes(b"an earlier demo's repository")
    run_demo_setup()
    capsys.readouterr()
    call_command("status", "--json")
    systems = json.loads(capsys.readouterr().out)["systems"]
    assert {s["name"] for s in systems} == {
        "住民情報システム",
        "財務会計システム",
        "文書管理システム",
        "ファイルサーバ",
    }
    for s in systems:
        # the offsite copies are on the demo's S3 server under Object Lock, read back: all five flags
        assert s["status"] == "green" and all(s["rule_3_2_1_1_0"].values()), s
        assert s["last_backup"]["snapshot"] and s["last_offsite_copy"]["time"], s
        assert s["last_drill"]["passed"] is True and s["last_drill"]["seconds"] > 0, s
        assert s["rpo_met"] and s["rto_met"]
        (offsite,) = [r for r in s["repositories"] if r["role"] == "offsite"]
        assert (
            offsite["url"].startswith("s3:http://127.0.0.1:")
            and offsite["object_lock"]["mode"] == "GOVERNANCE"
        )
    urls = [r["url"] for s in systems for r in s["repositories"]]
    assert len(urls) == 8 and str(stale) not in urls and str(stale) + "-2" in urls
    assert (stale / "config").read_bytes() == b"an earlier demo's repository"
    restic = require_tool("restic")
    keys = json.loads((demo_home / "demo-s3" / "keys.json").read_text())
    s3_env = {
        "AWS_ACCESS_KEY_ID": keys["access"],
        "AWS_SECRET_ACCESS_KEY": keys["secret"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for url in urls:
        out = subprocess.run(
            [restic, "-r", url, "--no-cache", "check", "--read-data"],
            capture_output=True,
            text=True,
            env={"RESTIC_PASSWORD": DEMO_PASSWORD, "PATH": "/usr/bin:/bin", **s3_env},
        )
        assert out.returncode == 0, f"{url}: {out.stdout}{out.stderr}"
        assert "no errors were found" in out.stdout

    runs = Run.objects.count()
    run_demo_setup()  # idempotent: nothing is created or run twice
    assert ProtectedSystem.objects.count() == 4 and Run.objects.count() == runs
