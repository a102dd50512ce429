"""The key warm-up: `mamori vault` derives a local repository's key while the engine loads.

It must be invisible except in time: the same key opens the repository, a wrong password is still
refused, a warm-up that guessed another derivation changes nothing, and an unreadable repository
neither fails nor starts anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mamori.vault import kdf
from mamori.vault.backend.local import LocalBackend
from mamori.vault.cli import main
from mamori.vault.errors import InvalidDataError, NoUsableKeyError, WrongPasswordError
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    Repository.init(LocalBackend(str(path)), PASSWORD, kdf_params=FAST_KDF).close()
    return path


def _no_more_derivations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the warm-up finish, then make any further scrypt call fail the test."""
    for thread in threading.enumerate():
        if thread.name == "vault-kdf":
            thread.join()

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the key was derived again instead of taken from the warm-up")

    monkeypatch.setattr(kdf, "_derive", refuse)


def test_the_warmed_up_key_opens_the_repository(repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kdf.warm_up(str(repo_path), PASSWORD)
    _no_more_derivations(monkeypatch)  # the warm-up thread already holds the real one
    with Repository.open(LocalBackend(str(repo_path)), PASSWORD) as repo:
        assert repo.config.version == 2


def test_a_warmed_up_wrong_password_is_still_refused(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kdf.warm_up(str(repo_path), "not the password")
    _no_more_derivations(monkeypatch)
    with pytest.raises(WrongPasswordError):
        Repository.open(LocalBackend(str(repo_path)), "not the password")


def test_a_warm_up_for_another_password_changes_nothing(repo_path: Path) -> None:
    kdf.warm_up(str(repo_path), "a typo")
    with Repository.open(LocalBackend(str(repo_path)), PASSWORD) as repo:
        assert repo.config.version == 2
    with pytest.raises(WrongPasswordError):
        Repository.open(LocalBackend(str(repo_path)), "a typo")  # takes the typo's warm-up: still wrong


@pytest.mark.parametrize(
    "damage",
    ["no repository", "no key files", "garbage key file", "another kdf"],
)
def test_a_warm_up_that_cannot_read_the_key_does_nothing(repo_path: Path, damage: str) -> None:
    key_file = next((repo_path / "keys").iterdir())
    if damage == "no repository":
        target = repo_path / "missing"
    else:
        target = repo_path
        if damage == "no key files":
            key_file.unlink()
        elif damage == "garbage key file":
            key_file.write_bytes(b"\x00not json")
        else:
            doc = json.loads(key_file.read_bytes())
            key_file.write_text(json.dumps({**doc, "kdf": "argon2"}))
    kdf.warm_up(str(target), PASSWORD)  # no exception
    assert not [t for t in threading.enumerate() if t.name == "vault-kdf"], (
        "nothing to derive, nothing started"
    )
    if damage == "no repository":
        return
    with pytest.raises((InvalidDataError, NoUsableKeyError, WrongPasswordError)):
        Repository.open(LocalBackend(str(repo_path)), PASSWORD)  # opening reports the damage itself


def test_the_cli_starts_the_key_before_it_loads_the_engine() -> None:
    """What makes the overlap possible: importing the CLI loads no engine module and no codec."""
    heavy = ["zstandard", "pyfastcdc", "cryptography", "mamori.vault.api", "mamori.vault.archiver"]
    heavy += ["mamori.vault.backend", "dataclasses", "tempfile"]  # the location parse comes later too
    code = f"import sys, mamori.vault.cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("scheme", ["", "local:"])
def test_mamori_vault_derives_the_key_once_in_the_warm_up(
    repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    derived_in: list[str] = []
    real = kdf._derive

    def recording(*args: bytes | int) -> bytes:
        derived_in.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(kdf, "_derive", recording)
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    out = io.StringIO()
    code = main(
        ["-r", f"{scheme}{repo_path}", "--password-file", str(password_file), "snapshots"], stdout=out
    )
    assert code == 0 and "0 snapshots" in out.getvalue()
    assert derived_in == ["vault-kdf"]


@pytest.mark.parametrize(
    ("password", "n", "r", "p"),
    [
        (b"", 2, 1, 1),
        (b"pw", 1024, 8, 1),
        ("パスワード🔑".encode(), 16, 1, 3),
        (b"\xff\x00" * 40, 4096, 2, 2),
    ],
)
def test_scrypt_gives_what_the_reference_gives(password: bytes, n: int, r: int, p: int) -> None:
    """libsodium's scrypt (`kdf.scrypt`) against OpenSSL's (hashlib), which restic's Go version
    matches: another result would lock every user out of every repository."""
    salt = bytes(range(64))
    expected = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=1 << 26, dklen=64)
    assert kdf.scrypt(password, salt, n, r, p) == expected
