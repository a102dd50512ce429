"""zstd for blobs and for repository v2 "unpacked" files (index, snapshot, lock: ``0x02 || zstd(JSON)``).

Compressor objects are not thread-safe, so each thread keeps its own; the work itself runs in C
without the GIL, which lets backup threads compress in parallel.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import zstandard

from mamori.vault.errors import InvalidDataError

__all__ = [
    "UNPACKED_ZSTD",
    "compress",
    "compress_if_worth_it",
    "compress_many_if_worth_it",
    "compress_unpacked",
    "compress_unpacked_parts",
    "decompress",
    "decompress_bounded",
    "decompress_unpacked",
]

UNPACKED_ZSTD = 0x02
# restic "auto" = klauspost zstd SpeedDefault, close to level 3 of the reference library in ratio
# but much faster than it. Level 1 of the C library keeps the repository within 1 % of level 3's
# size (242 vs 240 MiB on the 512 MiB benchmark set; restic 241) at ~1.6x the speed, and zstd is
# most of a first backup's CPU time, so level 1 it is.
LEVEL = 1
# Incompressible data (already compressed media, archives) is detected on a sample before
# paying for the whole blob: a sample that does not shrink by 3 % means "store as is". Blobs up to
# _SMALL are compressed whole (and batched); the 16 KiB sample costs a compressible 1 MiB chunk
# 1.5 % more zstd time (64 KiB cost 6 %, for the same decisions on the bench set).
_SMALL = 128 * 1024
_SAMPLE = 16 * 1024
_SAMPLE_MIN_GAIN = 0.97
# A frame without a declared size is decoded this much at a time, so a bomb stops at its limit.
_READ = 1 << 20

_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    c: zstandard.ZstdCompressor | None = getattr(_local, "c", None)
    if c is None:
        # No checksum and a 512 KiB window, as restic's encoder (smaller decode memory).
        params = zstandard.ZstdCompressionParameters.from_level(LEVEL, window_log=19, write_checksum=0)
        c = zstandard.ZstdCompressor(compression_params=params)
        _local.c = c
    return c


def _decompressor() -> zstandard.ZstdDecompressor:
    d: zstandard.ZstdDecompressor | None = getattr(_local, "d", None)
    if d is None:
        d = zstandard.ZstdDecompressor()
        _local.d = d
    return d


def compress(data: bytes | bytearray | memoryview) -> bytes:
    """One zstd frame with the content size recorded (so decompression allocates once)."""
    return _compressor().compress(data)


def compress_if_worth_it(data: bytes | bytearray | memoryview) -> bytes | None:
    """The zstd frame if it is smaller than `data`, else None (store uncompressed)."""
    size = len(data)
    if size == 0:
        return None  # uncompressed_length 0 means "not compressed" in the index
    if size > _SMALL:
        sample = memoryview(data)[:_SAMPLE]
        if len(_compressor().compress(sample)) > _SAMPLE * _SAMPLE_MIN_GAIN:
            return None
    out = compress(data)
    return out if len(out) < size else None


def compress_many_if_worth_it(
    items: Sequence[bytes | bytearray | memoryview],
) -> list[bytes | memoryview | None]:
    """`compress_if_worth_it` for each item; the small ones (office files, trees) are compressed in one
    call into C, so a batch of them costs the backup threads one GIL hand-over instead of one each.
    Their frames are views of the one buffer zstd wrote them to (not a copy each: a backup's worker
    holds a job's 2 MiB of files, their frames and the sealed run at once)."""
    small = [item for item in items if _batched(item)]
    if len(small) < 2:
        return [compress_if_worth_it(item) for item in items]
    frames = iter(_compressor().multi_compress_to_buffer(small, threads=0))
    out: list[bytes | memoryview | None] = []
    for item in items:
        if _batched(item):
            frame = memoryview(next(frames))  # type: ignore[arg-type]  # (a buffer; its stub omits it)
            out.append(frame if frame.nbytes < len(item) else None)
        else:
            out.append(compress_if_worth_it(item))
    return out


def _batched(item: bytes | bytearray | memoryview) -> bool:
    # small enough that compress_if_worth_it would not sample it first
    return 0 < len(item) <= _SMALL


def decompress(data: bytes | bytearray | memoryview, expected_size: int) -> bytes:
    """Decode one zstd frame of a blob; damaged input is an `InvalidDataError`.

    A frame that declares another size than the index's is refused before it is decoded (zstd
    would otherwise allocate what the frame declares, whatever `max_output_size` says).
    """
    try:
        declared = zstandard.frame_content_size(data)
        if declared not in (-1, expected_size):
            raise InvalidDataError(f"zstd data declares {declared} bytes, expected {expected_size}")
        out = _decompressor().decompress(data, max_output_size=expected_size)
    except zstandard.ZstdError as exc:
        raise InvalidDataError(f"zstd data is damaged ({exc})") from exc
    if len(out) != expected_size:
        raise InvalidDataError(f"zstd data decodes to {len(out)} bytes, expected {expected_size}")
    return out


def decompress_bounded(data: bytes | bytearray | memoryview, limit: int) -> bytes:
    """Decode one zstd frame of at most `limit` bytes: a crafted or damaged frame that would decode
    to more (a "zstd bomb") is an `InvalidDataError` before more than `limit` bytes are held."""
    too_big = f"zstd data decodes to more than {limit:,} bytes, the most this file may hold"
    try:
        declared = zstandard.frame_content_size(data)
        if declared > limit:
            raise InvalidDataError(too_big)
        if declared >= 0:
            return _decompressor().decompress(data)  # allocates the declared size once
        reader = _decompressor().stream_reader(data)
        parts: list[bytes] = []
        total = 0
        while part := reader.read(_READ):
            total += len(part)
            if total > limit:
                raise InvalidDataError(too_big)
            parts.append(part)
    except zstandard.ZstdError as exc:
        raise InvalidDataError(f"zstd data is damaged ({exc})") from exc
    return b"".join(parts)


def compress_unpacked(plaintext: bytes, version: int) -> bytes:
    """v2: ``0x02 || zstd(plaintext)``; v1: the JSON as is."""
    if version < 2:
        return plaintext
    return bytes((UNPACKED_ZSTD,)) + compress(plaintext)


def compress_unpacked_parts(pieces: Iterable[bytes], version: int) -> bytes:
    """`compress_unpacked` of the pieces joined, compressed as they come (never joined whole)."""
    if version < 2:
        return b"".join(pieces)
    stream = _compressor().compressobj()
    out = [bytes((UNPACKED_ZSTD,))]
    out += [stream.compress(piece) for piece in pieces]
    out.append(stream.flush())
    return b"".join(out)


def decompress_unpacked(data: bytes, version: int, limit: int) -> bytes:
    """Undo `compress_unpacked`, refusing more than `limit` bytes; raw JSON (first byte ``{`` or
    ``[``) is accepted in both versions."""
    if not data:
        raise InvalidDataError("empty file content")
    first = data[0]
    if version < 2 or first in (0x5B, 0x7B):
        return data
    if first != UNPACKED_ZSTD:
        raise InvalidDataError(f"unsupported encoding format 0x{first:02x}")
    return decompress_bounded(memoryview(data)[1:], limit)
