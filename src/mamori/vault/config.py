"""The repository `config` file: format version, repository id and the chunker polynomial.

`config` is encrypted with the master key but never compressed, even in v2 (restic `saveUnpacked`).
The polynomial is a random irreducible polynomial of degree 53 over GF(2), generated and tested
exactly as restic/chunker `RandomPolynomial` / `Irreducible` do; restic refuses any other.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from mamori.vault.errors import InvalidDataError, UnsupportedVersionError

__all__ = ["MAX_VERSION", "MIN_VERSION", "Config", "is_irreducible", "random_polynomial"]

MIN_VERSION = 1
MAX_VERSION = 2
_POL_DEGREE = 53


def _deg(x: int) -> int:
    return x.bit_length() - 1


def _mod(x: int, m: int) -> int:
    dm = _deg(m)
    while x and _deg(x) >= dm:
        x ^= m << (_deg(x) - dm)
    return x


def _mulmod(a: int, b: int, m: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        a <<= 1
        b >>= 1
    return _mod(result, m)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, _mod(a, b)
    return a


def _qp(p: int, g: int) -> int:
    """(x^(2^p) - x) mod g, by repeated squaring of x."""
    res = 2
    for _ in range(p):
        res = _mulmod(res, res, g)
    return _mod(res ^ 2, g)


def is_irreducible(pol: int) -> bool:
    """Ben-Or's test as restic/chunker: gcd(f, x^(2^i) - x mod f) == 1 for i = 1..deg/2."""
    return all(_gcd(pol, _qp(i, pol)) == 1 for i in range(1, _deg(pol) // 2 + 1))


def random_polynomial() -> int:
    """A random irreducible degree-53 polynomial (restic `chunker.RandomPolynomial`)."""
    for _ in range(1_000_000):
        f = int.from_bytes(os.urandom(8), "little") & ((1 << 54) - 1)
        f |= (1 << _POL_DEGREE) | 1
        if is_irreducible(f):
            return f
    raise RuntimeError("no irreducible polynomial found")  # pragma: no cover - probability ~0


@dataclass(frozen=True, slots=True)
class Config:
    """Decoded `config`: version 1 or 2, the 64-hex repository id, the chunker polynomial."""

    version: int
    id: str
    chunker_polynomial: int

    @classmethod
    def new(cls, version: int = 2) -> Config:
        """A fresh config with a random id and polynomial."""
        if not MIN_VERSION <= version <= MAX_VERSION:
            raise UnsupportedVersionError(version)
        return cls(version=version, id=os.urandom(32).hex(), chunker_polynomial=random_polynomial())

    def to_json(self) -> bytes:
        """restic's field order; the polynomial as lowercase hex without ``0x``."""
        doc = {"version": self.version, "id": self.id, "chunker_polynomial": f"{self.chunker_polynomial:x}"}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Config:
        """Parse and validate like restic `LoadConfig` (version range, irreducible polynomial)."""
        try:
            doc = json.loads(data)
            version = doc["version"]
            repo_id = str(doc["id"])
            pol = int(str(doc["chunker_polynomial"]), 16)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidDataError(f"the repository config is malformed ({exc})", path="config") from exc
        if not isinstance(version, int) or not MIN_VERSION <= version <= MAX_VERSION:
            raise UnsupportedVersionError(version)
        if not is_irreducible(pol):
            raise InvalidDataError("the repository config has an invalid chunker polynomial", path="config")
        return cls(version=version, id=repo_id, chunker_polynomial=pol)
