"""Known-answer tests with restic's published vectors (internal/crypto/crypto_int_test.go)."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.poly1305 import Poly1305
from hypothesis import given
from hypothesis import strategies as st

from mamori.vault import crypto
from mamori.vault.crypto import EXTENSION, KDFParams, Key, derive_key
from mamori.vault.errors import AuthenticationError, InvalidArgumentError, InvalidDataError

RESTIC_KEY = Key(
    encrypt=bytes.fromhex("303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef"),
    mac_k=bytes.fromhex("ef4d8824cb80b2bcc5fbff8a9b12a42c"),
    mac_r=bytes.fromhex("cc8d4b948ee0ebfe1d415de921d10353"),
)
RESTIC_BLOB = bytes.fromhex(
    "69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750"
)

# Bernstein's Poly1305-AES vectors as listed in restic's crypto_int_test.go: (msg, r, k, nonce, mac).
POLY1305_AES = [
    (
        "f3f6",
        "851fc40c3467ac0be05cc20404f3f700",
        "ec074c835580741701425b623235add6",
        "fb447350c4e868c52ac3275cf9d4327e",
        "f4c633c3044fc145f84f335cb81953de",
    ),
    (
        "",
        "a0f3080000f46400d0c7e9076c834403",
        "75deaa25c09f208e1dc4ce6b5cad3fbf",
        "61ee09218d29b0aaed7e154a2c5509cc",
        "dd3fab2251f11ac759f0887129cc2ee7",
    ),
    (
        "663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136",
        "48443d0bb0d21109c89a100b5ce2c208",
        "6acb5f61a7176dd320c5c1eb2edcdc74",
        "ae212a55399729595dea458bc621ff0e",
        "0ee1c16bb73f0f4fd19881753c01cdbe",
    ),
    (
        "ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0"
        "990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9",
        "12976a08c4426d0ce8a82407c4f48207",
        "e1a5668a4d5b66a5f68cc5424ed5982d",
        "9ae831e743978d3a23527c7128149e3a",
        "5154ad0d2cb26e01274fc51148491f1b",
    ),
]


def test_restic_vector_decrypts_to_the_known_plaintext() -> None:
    assert RESTIC_KEY.open(RESTIC_BLOB) == b"Dies ist ein Test!"


@pytest.mark.parametrize(("msg", "r", "k", "nonce", "mac"), POLY1305_AES)
def test_poly1305_aes_matches_bernstein_vectors(msg: str, r: str, k: str, nonce: str, mac: str) -> None:
    encryptor = Cipher(algorithms.AES(bytes.fromhex(k)), modes.ECB()).encryptor()
    s = encryptor.update(bytes.fromhex(nonce)) + encryptor.finalize()
    assert Poly1305.generate_tag(bytes.fromhex(r) + s, bytes.fromhex(msg)).hex() == mac


def test_a_flipped_bit_anywhere_fails_authentication() -> None:
    for pos in (0, 16, len(RESTIC_BLOB) - 1):
        damaged = bytearray(RESTIC_BLOB)
        damaged[pos] ^= 0x01
        with pytest.raises(AuthenticationError):
            RESTIC_KEY.open(bytes(damaged))


def test_truncated_and_zero_nonce_ciphertexts_are_refused() -> None:
    with pytest.raises(AuthenticationError):
        RESTIC_KEY.open(RESTIC_BLOB[:20])
    with pytest.raises(AuthenticationError):
        RESTIC_KEY.open(bytes(16) + RESTIC_BLOB[16:])


@given(st.binary(max_size=4096))
def test_seal_then_open_round_trips(plaintext: bytes) -> None:
    key = Key.generate()
    sealed = key.seal(plaintext)
    assert len(sealed) == len(plaintext) + EXTENSION
    assert key.open(sealed) == plaintext


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 400, 1023, 1024, 1025, 3000])
@pytest.mark.parametrize("first", [1, 2**64 - 1, 2**128 - 70, 2**128 - 64, 2**128 - 1])
def test_open_decrypts_aes_ctr_of_any_size_and_counter(size: int, first: int) -> None:
    # small messages are decrypted with a keystream made by mamori (one AES-ECB call over their
    # counters), others and those whose counter wraps past 2**128 by OpenSSL's CTR: both must be
    # the AES-CTR restic writes (Go counts the whole block, wrapping), whatever the nonce
    key = Key.generate()
    iv = first.to_bytes(16, "big")
    plain = os.urandom(size)
    ciphertext = Cipher(algorithms.AES(key.encrypt), modes.CTR(iv)).encryptor().update(plain)
    s = Cipher(algorithms.AES(key.mac_k), modes.ECB()).encryptor().update(iv)
    r = bytes(a & b for a, b in zip(key.mac_r, _R_MASK, strict=True))
    assert key.open(iv + ciphertext + Poly1305.generate_tag(r + s, ciphertext)) == plain


def test_unmasked_r_gives_the_same_mac_as_masked_r() -> None:
    unmasked = Key(RESTIC_KEY.encrypt, RESTIC_KEY.mac_k, b"\xff" * 16)
    masked = Key(RESTIC_KEY.encrypt, RESTIC_KEY.mac_k, bytes.fromhex("ffffff0ffcffff0ffcffff0ffcffff0f"))
    assert masked.open(unmasked.seal(b"x")) == b"x"


def test_master_key_json_round_trips_and_rejects_garbage() -> None:
    assert Key.from_json(RESTIC_KEY.to_json()) == RESTIC_KEY
    with pytest.raises(InvalidDataError):
        Key.from_json(b'{"encrypt": "short"}')


def test_kdf_is_deterministic_and_salt_must_be_64_bytes() -> None:
    params = KDFParams(n=1024, r=8, p=1)
    assert derive_key("pw", b"s" * 64, params) == derive_key("pw", b"s" * 64, params)
    assert derive_key("pw", b"s" * 64, params) != derive_key("pw2", b"s" * 64, params)
    with pytest.raises(InvalidDataError):
        derive_key("pw", b"s" * 32, params)
    with pytest.raises(InvalidArgumentError):
        KDFParams(n=1000)


def test_nonces_never_repeat_within_a_process_or_across_a_fork() -> None:
    """Nonces come from a per-thread pool of random bytes: a forked child must not reuse the
    parent's pool (CTR with a repeated nonce and key leaks the XOR of the plaintexts)."""
    key = Key.generate()
    parent = [bytes(key.seal(b"x")[:16]) for _ in range(300)]  # spans more than one pool refill
    assert len(set(parent)) == len(parent)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write_end, b"".join(bytes(key.seal(b"x")[:16]) for _ in range(10)))
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    child_bytes = os.read(read_end, 4096)
    os.close(read_end)
    child = {child_bytes[i : i + 16] for i in range(0, len(child_bytes), 16)}
    later = {bytes(key.seal(b"x")[:16]) for _ in range(10)}
    assert len(child) == 10
    assert not child & later


@given(st.lists(st.binary(max_size=100), min_size=2, max_size=12))
def test_seal_many_opens_like_seal_with_disjoint_counter_ranges(messages: list[bytes]) -> None:
    key = Key.generate()
    _assert_sealed_apart(key, key.seal_many(messages), messages)


@given(st.lists(st.binary(max_size=100), max_size=12))
def test_seal_joined_is_seal_many_back_to_back(messages: list[bytes]) -> None:
    # a backup's worker seals a job's files into one buffer
    key = Key.generate()
    joined = key.seal_joined(messages)
    assert len(joined) == sum(len(m) + EXTENSION for m in messages)
    sealed, start = [], 0
    for m in messages:
        sealed.append(joined[start : start + len(m) + EXTENSION])
        start += len(m) + EXTENSION
    _assert_sealed_apart(key, sealed, messages)


@pytest.mark.parametrize("first", [2**128 - 1, 2**128 - 4, 2**128 - 40])
def test_seal_joined_keeps_each_message_its_own_counter_across_the_wrap(
    first: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one CTR stream runs over every message of a run: past 2**128 it must wrap as each message's
    # own nonce (IV0 + its first block, modulo 2**128) says, as Go's CTR does when restic reads it
    monkeypatch.setattr(crypto, "_new_iv", lambda: first.to_bytes(16, "big"))
    key = Key.generate()
    messages = [b"a" * 17, b"", b"b" * 40, os.urandom(700), b"c"]
    joined = key.seal_joined(messages)
    sealed, start = [], 0
    for m in messages:
        sealed.append(joined[start : start + len(m) + EXTENSION])
        start += len(m) + EXTENSION
    _assert_sealed_apart(key, sealed, messages)


def _assert_sealed_apart(key: Key, sealed: list[bytearray], messages: list[bytes]) -> None:
    assert [key.open(s) for s in sealed] == messages
    # each message's counter blocks: from its nonce, one per 16 bytes; no block is used twice
    blocks: set[int] = set()
    for s, m in zip(sealed, messages, strict=True):
        start = int.from_bytes(s[:16], "big")
        mine = {(start + i) % 2**128 for i in range(max(1, -(-len(m) // 16)))}
        assert not blocks & mine
        blocks |= mine
    # and the bytes are what one AES-CTR + Poly1305-AES per message gives (what restic checks)
    for s, m in zip(sealed, messages, strict=True):
        iv, ct, tag = bytes(s[:16]), bytes(s[16:-16]), bytes(s[-16:])
        assert Cipher(algorithms.AES(key.encrypt), modes.CTR(iv)).decryptor().update(ct) == m
        aes_k = Cipher(algorithms.AES(key.mac_k), modes.ECB()).encryptor().update(iv)
        assert (
            Poly1305.generate_tag(bytes(a & b for a, b in zip(key.mac_r, _R_MASK, strict=True)) + aes_k, ct)
            == tag
        )


_R_MASK = bytes.fromhex("ffffff0ffcffff0ffcffff0ffcffff0f")
