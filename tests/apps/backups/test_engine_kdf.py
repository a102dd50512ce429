"""The scrypt cost of a repository's key: restic's default wherever mamori runs for real; the cheap
test-only cost only under the test settings, which are the only settings that ask for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mamori
from mamori.apps.backups import engine


def _key_cost(repo: Path) -> tuple[int, int, int]:
    [key] = (repo / "keys").iterdir()
    doc = json.loads(key.read_text())
    return doc["N"], doc["r"], doc["p"]


@pytest.mark.parametrize(("fast", "cost"), [(False, (32768, 8, 1)), (True, (1024, 8, 1))])
def test_a_new_repository_gets_restics_scrypt_cost_unless_the_test_settings_ask(
    settings, tmp_path, fast, cost
):
    settings.MAMORI_TEST_FAST_KDF = fast
    engine.repository_init(engine.RepoAccess(url=str(tmp_path / "repo"), password="pw"))
    assert _key_cost(tmp_path / "repo") == cost


def test_only_the_test_settings_set_the_cheap_cost():
    folder = Path(mamori.__file__).parent / "config" / "settings"
    setting = [p.name for p in sorted(folder.glob("*.py")) if "MAMORI_TEST_FAST_KDF" in p.read_text()]
    assert setting == ["test.py"]
