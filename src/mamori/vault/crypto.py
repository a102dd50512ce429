"""restic's authenticated encryption: AES-256-CTR then Poly1305-AES over the ciphertext, and scrypt.

A sealed message is ``IV(16) || AES-256-CTR(plaintext) || MAC(16)``; the MAC is Poly1305 with the
one-time key ``r || AES-128(k, IV)`` (Bernstein's Poly1305-AES, restic `internal/crypto/crypto.go`).
"""

from __future__ import annotations

import base64
import functools
import hmac
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.poly1305 import Poly1305

from mamori.vault import kdf
from mamori.vault.errors import AuthenticationError, InvalidArgumentError, InvalidDataError

__all__ = [
    "EXTENSION",
    "IV_SIZE",
    "MAC_SIZE",
    "SALT_SIZE",
    "KDFParams",
    "Key",
    "derive_key",
]

IV_SIZE = 16
MAC_SIZE = 16
EXTENSION = IV_SIZE + MAC_SIZE
SALT_SIZE = 64
# Poly1305 clamping of r (restic masked r itself before v0.17; the primitive clamps anyway).
_R_MASK = bytes.fromhex("ffffff0ffcffff0ffcffff0ffcffff0f")
_ZERO_BLOCK = bytes(16)
_ZERO_IV = bytes(IV_SIZE)
_IV_SPACE = 1 << 128


_IV_POOL_SIZE = 4096
_per_thread = threading.local()


def _new_iv() -> bytes:
    """A random nonce; drawn from the OS 4 KiB at a time, per thread (one system call per 256 blobs)."""
    pool: bytes = getattr(_per_thread, "pool", b"")
    pos: int = getattr(_per_thread, "pos", 0)
    if pos + IV_SIZE > len(pool):
        pool, pos = os.urandom(_IV_POOL_SIZE), 0
        _per_thread.pool = pool
    _per_thread.pos = pos + IV_SIZE
    return pool[pos : pos + IV_SIZE]


def _block_encryptor(key: bytes) -> Any:
    """A per-thread AES-ECB encryptor for `key`, kept open: encrypting single blocks needs no
    finalize, and building a cipher object per blob cost more than the block itself."""
    cache: dict[bytes, Any] | None = getattr(_per_thread, "ecb", None)
    if cache is None:
        cache = _per_thread.ecb = {}
    encryptor = cache.get(key)
    if encryptor is None:
        if len(cache) >= 8:  # a process uses one or two repositories' keys
            cache.clear()
        encryptor = cache[key] = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
    return encryptor


# Messages up to this size are decrypted by `_ctr_small`; beyond, its big-integer work costs more
# than a cipher object (about 1 KiB in a tight loop; the parent's tree of a folder is a few hundred bytes).
_SMALL = 1024
_COUNTS = b"".join(i.to_bytes(IV_SIZE, "big") for i in range(_SMALL // IV_SIZE))


def _ctr_small(key: bytes, iv: bytes, data: bytes | bytearray | memoryview) -> bytes | None:
    """AES-256-CTR of a message with the thread's kept AES-ECB encryptor for `key`; None when it
    is larger than `_SMALL` or its counter would wrap (the caller then uses a cipher object).

    CTR's keystream is AES of IV, IV+1, ... (the whole block one big-endian counter, as Go and
    OpenSSL count): all of a message's counters in one ECB call, XORed as integers. A cipher object
    per message (OpenSSL fetches and sets up a context each time) cost a backup's workers, which
    open the parent's tree of every folder, about a tenth of their CPU: 16 µs a tree among
    the other work, against 5 in a loop of nothing else."""
    size = len(data)
    blocks = -(-size // IV_SIZE)
    if size > _SMALL or int.from_bytes(iv, "big") + blocks > _IV_SPACE:
        return None
    span = IV_SIZE * blocks
    counters = int.from_bytes(iv * blocks, "big") + int.from_bytes(_COUNTS[:span], "big")
    stream = _block_encryptor(key).update(counters.to_bytes(span, "big"))
    tail = int.from_bytes(stream, "big") >> 8 * (span - size)  # the message's first `size` bytes
    return (int.from_bytes(data, "big") ^ tail).to_bytes(size, "big")


def _forget_ivs() -> None:
    # a forked child must never hand out the nonces its parent will also use
    global _per_thread
    _per_thread = threading.local()


os.register_at_fork(after_in_child=_forget_ivs)


@functools.lru_cache(maxsize=8)
def _mask_r(r: bytes) -> bytes:
    return bytes(a & b for a, b in zip(r, _R_MASK, strict=True))


@dataclass(frozen=True, slots=True)
class Key:
    """A master (or user) key: 32 bytes for AES-256-CTR, 16+16 bytes (k, r) for Poly1305-AES."""

    encrypt: bytes
    mac_k: bytes
    mac_r: bytes

    def __post_init__(self) -> None:
        if len(self.encrypt) != 32 or len(self.mac_k) != 16 or len(self.mac_r) != 16:
            raise InvalidArgumentError("a key needs 32 encryption bytes and 16+16 MAC bytes")

    @classmethod
    def generate(cls) -> Key:
        """A fresh random master key; r is stored masked, as restic up to 0.16 did (both read it)."""
        return cls(encrypt=os.urandom(32), mac_k=os.urandom(16), mac_r=_mask_r(os.urandom(16)))

    def _mac(self, iv: bytes, ciphertext: bytes | bytearray | memoryview) -> bytes:
        s = _block_encryptor(self.mac_k).update(iv)
        return Poly1305.generate_tag(_mask_r(self.mac_r) + s, ciphertext)

    def seal(self, plaintext: bytes | bytearray | memoryview) -> bytearray:
        """Encrypt and authenticate: ``IV || ciphertext || MAC`` with a fresh random IV.

        The ciphertext is written straight into the result: no intermediate copies of the blob.
        """
        iv = _new_iv()
        while iv == _ZERO_IV:  # restic refuses an all-zero nonce
            iv = _new_iv()
        size = memoryview(plaintext).nbytes
        out = bytearray(IV_SIZE + size + MAC_SIZE)
        with memoryview(out) as view:
            view[:IV_SIZE] = iv
            ciphertext = view[IV_SIZE : IV_SIZE + size]
            encryptor = Cipher(algorithms.AES(self.encrypt), modes.CTR(iv)).encryptor()
            encryptor.update_into(plaintext, ciphertext)
            encryptor.finalize()
            view[IV_SIZE + size :] = self._mac(iv, ciphertext)
            ciphertext.release()
        return out

    def seal_many(self, plaintexts: Sequence[bytes | bytearray | memoryview]) -> list[bytearray]:
        """`seal` for many small messages at the cost of about one: a single AES-CTR pass.

        Building a cipher per message cost more than encrypting a small file. Message k gets the
        nonce ``IV0 + (16-byte blocks of the messages before it)`` for one random IV0, so one CTR
        stream from IV0 over the messages, each padded to a whole block, encrypts them all, and no
        counter block (nor Poly1305-AES nonce) is used twice. Go's CTR, which restic decrypts with,
        counts the whole 16-byte block as a big-endian integer, like OpenSSL's.
        """
        if len(plaintexts) < 2:
            return [self.seal(p) for p in plaintexts]
        joined = self._seal_into(plaintexts)
        out, start = [], 0
        for plain in plaintexts:
            end = start + memoryview(plain).nbytes + EXTENSION
            out.append(joined[start:end])
            start = end
        return out

    def seal_joined(self, plaintexts: Sequence[bytes | bytearray | memoryview]) -> bytearray:
        """`seal_many`'s messages back to back in one buffer (each its length + `EXTENSION` bytes)."""
        if len(plaintexts) < 2:
            return bytearray().join([self.seal(p) for p in plaintexts])
        return self._seal_into(plaintexts)

    def _seal_into(self, plaintexts: Sequence[bytes | bytearray | memoryview]) -> bytearray:
        """IV, ciphertext and MAC of each message in turn, in one buffer (`seal_many`): the CTR
        stream runs over the messages where they lie in it, its pad to each message's last
        block encrypted aside and dropped (no copy of the whole run to encrypt it in one place)."""
        sizes = [memoryview(p).nbytes for p in plaintexts]
        starts, blocks = [], 0
        for size in sizes:
            starts.append(blocks)
            blocks += max(1, -(-size // 16))  # an empty message gets a nonce of its own too
        while True:
            iv0 = int.from_bytes(_new_iv(), "big")
            ivs = [((iv0 + start) % _IV_SPACE).to_bytes(IV_SIZE, "big") for start in starts]
            if _ZERO_IV not in ivs:  # restic refuses an all-zero nonce
                break
        masks = _block_encryptor(self.mac_k).update(b"".join(ivs))
        r = _mask_r(self.mac_r)
        encryptor = Cipher(algorithms.AES(self.encrypt), modes.CTR(ivs[0])).encryptor()
        out = bytearray(sum(sizes) + EXTENSION * len(sizes))
        pos = 0
        with memoryview(out) as view:
            for k, (plain, size, iv) in enumerate(zip(plaintexts, sizes, ivs, strict=True)):
                view[pos : pos + IV_SIZE] = iv
                pos += IV_SIZE
                ciphertext = view[pos : pos + size]
                encryptor.update_into(plain, ciphertext)
                pad = max(1, -(-size // 16)) * 16 - size
                if pad:  # the stream moves on to the next message's nonce
                    encryptor.update(_ZERO_BLOCK[:pad])
                pos += size
                view[pos : pos + MAC_SIZE] = Poly1305.generate_tag(
                    r + masks[k * 16 : k * 16 + 16], ciphertext
                )
                ciphertext.release()
                pos += MAC_SIZE
        encryptor.finalize()
        return out

    def open(self, sealed: bytes | bytearray | memoryview) -> bytes:
        """Verify the MAC, then decrypt; a too-short input or a wrong MAC is an `AuthenticationError`."""
        view = memoryview(sealed)
        if len(view) < EXTENSION:
            raise AuthenticationError("ciphertext too short: the data is truncated")
        iv = bytes(view[:IV_SIZE])
        if iv == _ZERO_IV:
            raise AuthenticationError("invalid all-zero nonce: the data is damaged")
        ciphertext = view[IV_SIZE:-MAC_SIZE]
        expected = self._mac(iv, ciphertext)
        if not hmac.compare_digest(expected, bytes(view[-MAC_SIZE:])):
            raise AuthenticationError(
                "ciphertext verification failed: the data is damaged or the key is wrong"
            )
        plain = _ctr_small(self.encrypt, iv, ciphertext)
        if plain is not None:
            return plain
        decryptor = Cipher(algorithms.AES(self.encrypt), modes.CTR(iv)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()

    def to_json(self) -> bytes:
        """restic's master key JSON: ``{"mac":{"k":..,"r":..},"encrypt":..}`` with base64 fields."""
        doc = {
            "mac": {"k": _b64(self.mac_k), "r": _b64(self.mac_r)},
            "encrypt": _b64(self.encrypt),
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Key:
        """Parse restic's master key JSON; malformed content is an `InvalidDataError`."""
        try:
            doc = json.loads(data)
            return cls(
                encrypt=base64.b64decode(doc["encrypt"], validate=True),
                mac_k=base64.b64decode(doc["mac"]["k"], validate=True),
                mac_r=base64.b64decode(doc["mac"]["r"], validate=True),
            )
        except (ValueError, KeyError, TypeError, InvalidArgumentError) as exc:
            raise InvalidDataError(f"the master key is malformed ({exc})") from exc


@dataclass(frozen=True, slots=True)
class KDFParams:
    """scrypt cost parameters as stored in a key file (N a power of two, r, p)."""

    n: int = 32768
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        try:
            kdf.check_params(self.n, self.r, self.p)
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from exc


def derive_key(password: str, salt: bytes, params: KDFParams) -> Key:
    """scrypt(password, salt) → 64 bytes split as AES key, k, r (restic `crypto.KDF`)."""
    if len(salt) != SALT_SIZE:
        raise InvalidDataError(f"scrypt salt must be {SALT_SIZE} bytes, got {len(salt)}")
    raw = kdf.scrypt(password.encode(), salt, params.n, params.r, params.p)
    return Key(encrypt=raw[:32], mac_k=raw[32:48], mac_r=raw[48:64])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
