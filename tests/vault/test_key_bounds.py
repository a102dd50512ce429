"""Key files written by someone with storage access (issue 10, item 6): scrypt costs are bounded before
any derivation, a malformed key file is skipped with a warning while the others are tried, and
"every key file is malformed" is told apart from "wrong password". Key files are written by hand."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import pytest

from mamori.vault import kdf
from mamori.vault.api import open_repository
from mamori.vault.backend import FileType, Handle
from mamori.vault.backend.local import LocalBackend
from mamori.vault.cli import main
from mamori.vault.errors import NoUsableKeyError, WrongPasswordError
from mamori.vault.repository import Repository
from tests.vault.repo_helpers import FAST_KDF, PASSWORD

FIRST = "0" * 64  # key files are tried in name order: this one comes first


def hostile_key(n: int = 1024, r: int = 8, p: int = 1, **extra: object) -> bytes:
    doc = {
        "created": "2026-12-01T00:00:00Z",
        "username": "x",
        "hostname": "nas",
        "kdf": "scrypt",
        "N": n,
        "r": r,
        "p": p,
        "salt": base64.b64encode(os.urandom(64)).decode(),
        "data": base64.b64encode(os.urandom(112)).decode(),
        **extra,
    }
    return json.dumps(doc).encode()


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    Repository.init(LocalBackend(path), PASSWORD, kdf_params=FAST_KDF).close()
    return path


def plant(repo_path: Path, raw: bytes, name: str = FIRST) -> None:
    LocalBackend(repo_path).save(Handle(FileType.KEY, name), raw)


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int]]:
    """Every (N, r, p) scrypt is asked to derive."""
    seen: list[tuple[int, int, int]] = []
    real = kdf._derive

    def spy(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
        seen.append((n, r, p))
        return real(password, salt, n, r, p)

    monkeypatch.setattr(kdf, "_derive", spy)
    # Warm-ups started by earlier tests in this process must not count as this test's derivations.
    monkeypatch.setattr(kdf, "_started", {})
    return seen


@pytest.mark.parametrize(
    "raw",
    [
        hostile_key(n=2**40),  # 128 TiB of memory
        hostile_key(p=2**29),  # CPU for days
        hostile_key(n=2**20, r=16),  # 2 GiB: restic's own limit, over ours
        hostile_key(n=3000),  # not a power of two
        hostile_key(n="1024"),  # not an integer
        hostile_key(n=1.5e3),
        b"not json at all",
        hostile_key(kdf="argon2"),
    ],
    ids=["N=2^40", "p=2^29", "2GiB", "N=3000", "N-string", "N-float", "garbage", "argon2"],
)
def test_a_malformed_key_file_is_skipped_and_the_good_one_opens(
    repo_path: Path, raw: bytes, derivations: list[tuple[int, int, int]]
) -> None:
    plant(repo_path, raw)
    with open_repository(str(repo_path), PASSWORD) as repo:
        assert [k for k, _ in repo.low.key_errors] == [FIRST]
        assert "is malformed" in repo.low.key_errors[0][1]
        result = repo.check()
    assert result.ok and any(FIRST[:8] in w.message for w in result.warnings)
    assert derivations == [(FAST_KDF.n, FAST_KDF.r, FAST_KDF.p)]  # only the good key was derived


def test_restic_costs_are_inside_the_bounds() -> None:
    kdf.check_params(2**15, 8, 16)  # restic calibrates to N=2^15, r=8 and p up to ~16
    kdf.check_params(2**20, 8, 2)
    with pytest.raises(ValueError, match="exceed the bounds"):
        kdf.check_params(2**15, 8, 2**10)


def test_only_malformed_key_files_is_not_a_wrong_password(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    for key in (repo_path / "keys").iterdir():
        key.chmod(0o600)
        key.unlink()
    plant(repo_path, hostile_key(n=2**40))
    plant(repo_path, b"{}", name="1" * 64)
    with pytest.raises(NoUsableKeyError, match="not a wrong password") as caught:
        open_repository(str(repo_path), PASSWORD)
    assert len(caught.value.problems) == 2
    out, err = io.StringIO(), io.StringIO()
    assert main(["-r", str(repo_path), "snapshots"], stdout=out, stderr=err) == 1
    assert err.getvalue().startswith(
        f"mamori vault: no usable key file in {repo_path}: every key file is malformed"
    )


def test_wrong_password_still_says_so_and_counts_the_skipped(repo_path: Path) -> None:
    plant(repo_path, hostile_key(n=2**40))
    with pytest.raises(WrongPasswordError, match=r"1 malformed key files skipped"):
        open_repository(str(repo_path), "not the password")


def test_cli_warns_about_the_skipped_key_file_and_carries_on(
    repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plant(repo_path, hostile_key(p=2**29))
    monkeypatch.setenv("MAMORI_PASSWORD", PASSWORD)
    out, err = io.StringIO(), io.StringIO()
    assert main(["-r", str(repo_path), "snapshots"], stdout=out, stderr=err) == 0
    assert err.getvalue().startswith(f"warning: key file {FIRST[:8]} is malformed (scrypt parameters")
    assert "0 snapshots" in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    assert main(["-r", str(repo_path), "key", "list"], stdout=out, stderr=err) == 0
    assert len(out.getvalue().splitlines()) == 1 and FIRST[:8] in err.getvalue()


def test_the_warm_up_does_not_derive_a_hostile_first_key(
    repo_path: Path, derivations: list[tuple[int, int, int]]
) -> None:
    plant(repo_path, hostile_key(n=2**40))
    kdf.warm_up(str(repo_path), PASSWORD)
    assert kdf._started == {} and derivations == []
