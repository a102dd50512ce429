"""Config (version, irreducible polynomial) and key files (add, list, remove, change password)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.vault.api import open_repository
from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.config import Config, is_irreducible, random_polynomial
from mamori.vault.errors import (
    InvalidArgumentError,
    InvalidDataError,
    LegacyLayoutError,
    UnsupportedVersionError,
    WrongPasswordError,
)
from mamori.vault.keys import add_key, list_keys, load_key_file, open_master_key, remove_key
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import (
    FAST_KDF,
    PASSWORD,
    assert_check_clean,
    new_repository,
    to_s3legacy,
    write_snapshot,
)

# restic/chunker's test polynomial and a few known reducible ones.
RESTIC_TEST_POL = 0x3DA3358B4DC173


def _clmul(a: int, b: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        a <<= 1
        b >>= 1
    return result


def test_polynomials_are_irreducible_degree_53() -> None:
    assert is_irreducible(RESTIC_TEST_POL)
    assert not is_irreducible(_clmul(0b111, (1 << 51) | 0b1011))  # (x^2+x+1) * (x^51+x^3+x+1)
    assert not is_irreducible((1 << 53) | 1 << 1)  # divisible by x
    for _ in range(5):
        pol = random_polynomial()
        assert pol.bit_length() == 54 and is_irreducible(pol)


def test_config_json_round_trips_and_is_validated() -> None:
    config = Config.new(2)
    doc = json.loads(config.to_json())
    assert list(doc) == ["version", "id", "chunker_polynomial"]
    assert Config.from_json(config.to_json()) == config
    with pytest.raises(UnsupportedVersionError):
        Config.from_json(json.dumps({**doc, "version": 3}).encode())
    with pytest.raises(InvalidDataError, match="polynomial"):
        Config.from_json(json.dumps({**doc, "chunker_polynomial": "20000000000002"}).encode())


def test_key_add_list_remove_and_password_change() -> None:
    repo = new_repository()
    second = add_key(repo.backend, repo.key, "second", FAST_KDF)
    assert [k.id for k in list_keys(repo.backend)[0]] == sorted(
        [repo.key_id, second], key=[repo.key_id, second].index
    )
    assert open_master_key(repo.backend, "second") == (repo.key, second, [])
    with pytest.raises(InvalidArgumentError):
        remove_key(repo.backend, repo.key_id, current=repo.key_id)
    remove_key(repo.backend, second, current=repo.key_id)
    with pytest.raises(WrongPasswordError):
        Repository.open(repo.backend, "second")
    key_file = load_key_file(repo.backend, repo.key_id)
    assert len(key_file.salt) == 64 and key_file.params == FAST_KDF
    assert_check_clean(repo.backend)


def test_a_key_file_with_another_kdf_is_refused() -> None:
    repo = new_repository()
    raw = json.loads(repo.backend.load(Handle(FileType.KEY, repo.key_id)))
    raw["kdf"] = "argon2"
    name = "ef" * 32
    repo.backend.save(Handle(FileType.KEY, name), json.dumps(raw).encode())
    with pytest.raises(InvalidDataError, match="scrypt"):
        load_key_file(repo.backend, name)
    assert Repository.open(repo.backend, PASSWORD).id == repo.id, "the good key still opens"


def test_a_repository_without_key_files_says_so() -> None:
    repo = new_repository()
    repo.backend.remove(Handle(FileType.KEY, repo.key_id))
    with pytest.raises(InvalidDataError, match="no key files"):
        Repository.open(repo.backend, PASSWORD)


def test_an_s3legacy_repository_is_named_with_the_migration(tmp_path: Path) -> None:
    repo = new_repository(LocalBackend(tmp_path / "repo"))
    write_snapshot(repo, {"a": b"a" * 1000})
    to_s3legacy(tmp_path / "repo")
    assert [p.name for p in (tmp_path / "repo" / "key").iterdir()] == [repo.key_id]
    with pytest.raises(LegacyLayoutError) as caught:
        open_repository(str(tmp_path / "repo"), PASSWORD)
    message = str(caught.value)
    assert "\n" not in message and "s3legacy" in message and "restic migrate s3_layout" in message


def test_an_s3legacy_key_folder_on_the_memory_backend_is_recognised() -> None:
    repo = new_repository()
    raw = repo.backend.load(Handle(FileType.KEY, repo.key_id))
    repo.backend.remove(Handle(FileType.KEY, repo.key_id))
    repo.backend.save(Handle(FileType.LEGACY_KEY, repo.key_id), raw)
    with pytest.raises(LegacyLayoutError, match="restic migrate s3_layout"):
        Repository.open(repo.backend, PASSWORD)
