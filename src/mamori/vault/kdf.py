"""scrypt, and starting it early: the key derivation is the largest fixed cost of opening a repository.

`mamori vault` calls `warm_up` before it loads the engine: the key of a local repository is derived
in a thread (scrypt runs in C without the GIL) while the main thread imports the engine, and
`scrypt` hands the result to whoever asks for the same derivation. Opening a repository therefore
costs about the larger of the two instead of their sum. A warm-up that cannot start (no password
yet, a remote repository, no readable key file) does nothing: opening then derives as usual and
reports any problem itself.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any

__all__ = ["MAX_MEMORY", "MAX_WORK", "check_params", "key_file_params", "scrypt", "warm_up"]

# Bounds on a key file's scrypt cost, checked before deriving (a key file is written by whoever can
# write to the storage, no password needed). restic's own check (simple-scrypt `Params.Check`) allows
# up to 2 GiB and a CPU cost of hours; restic itself writes N=2^15, r=8 and p of about 1-16
# (calibrated to 0.5 s and 60 MiB). These leave 4x room above that and keep one try under ~a minute.
MAX_MEMORY = 1 << 30  # 128 * r * N bytes
MAX_WORK = 1 << 24  # N * r * p: 64 times one derivation at N=2^15, r=8, p=1

_Params = tuple[bytes, bytes, int, int, int]  # password, salt, N, r, p

_lock = threading.Lock()
_started: dict[_Params, _Derivation] = {}


class _Derivation(threading.Thread):
    def __init__(self, params: _Params) -> None:
        super().__init__(name="vault-kdf", daemon=True)
        self.params = params
        self.key: bytes | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.key = _derive(*self.params)
        except BaseException as exc:  # re-raised by `scrypt` in the caller's thread
            self.error = exc


def _derive(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    # libsodium's scrypt (SSE2) takes 0.7x the CPU of OpenSSL's (hashlib): 82 vs 117 ms at N=2^15,
    # r=8, p=1 — the larger half of a no-change backup's start-up. Same result (tested).
    from nacl.bindings import crypto_pwhash_scryptsalsa208sha256_ll as sodium_scrypt

    return sodium_scrypt(password, salt, n, r, p, dklen=64, maxmem=maxmem)


def scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    """64 bytes of scrypt(password, salt); taken from a warm-up of the same derivation if one ran."""
    with _lock:
        started = _started.pop((password, salt, n, r, p), None)
    if started is None:
        return _derive(password, salt, n, r, p)
    started.join()
    if started.error is not None:
        raise started.error
    assert started.key is not None
    return started.key


def check_params(n: int, r: int, p: int) -> None:
    """ValueError unless N is a power of two > 1, r and p are positive and the cost is within bounds."""
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError(
            f"invalid scrypt parameters N={n} r={r} p={p}: N must be a power of two > 1, r, p >= 1"
        )
    if 128 * r * n > MAX_MEMORY or n * r * p > MAX_WORK:
        raise ValueError(
            f"scrypt parameters N={n} r={r} p={p} exceed the bounds (memory 128*r*N <= {MAX_MEMORY}, "
            f"work N*r*p <= {MAX_WORK})"
        )


def key_file_params(doc: dict[str, Any]) -> tuple[bytes, int, int, int]:
    """(salt, N, r, p) of a decoded key file, within bounds; ValueError, KeyError or TypeError if not."""
    if doc.get("kdf") != "scrypt":
        raise ValueError(f"unsupported KDF {doc.get('kdf')!r}, only scrypt")
    n, r, p = (doc[k] for k in ("N", "r", "p"))
    if not all(type(v) is int for v in (n, r, p)):
        raise ValueError(f"scrypt parameters must be integers, not N={n!r} r={r!r} p={p!r}")
    check_params(n, r, p)
    return base64.b64decode(doc["salt"], validate=True), n, r, p


def warm_up(repo_path: str, password: str) -> None:
    """Start deriving the key of the local repository at `repo_path` from its first key file.

    Never raises and never blocks on more than reading one small file.
    """
    try:
        keys = os.path.join(repo_path, "keys")
        names = sorted(os.listdir(keys))
        if not names:
            return
        with open(os.path.join(keys, names[0]), "rb") as f:
            params = (password.encode(), *key_file_params(json.loads(f.read(64 * 1024))))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    derivation = _Derivation(params)
    with _lock:
        if params in _started:
            return
        _started[params] = derivation
    derivation.start()
