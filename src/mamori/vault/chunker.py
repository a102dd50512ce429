"""Content-defined chunking of file data with FastCDC (pyfastcdc), sized like restic's chunks.

restic cuts 512 KiB–8 MiB chunks averaging about 1 MiB with a Rabin fingerprint; restic reads blobs
cut by any chunker, so we use FastCDC (gear hash, several GB/s in C without the GIL) with the same
bounds: dedup granularity and index size match restic's, and the chunker is never the bottleneck.
pyfastcdc's effective average is `avg_size + min_size`, hence avg_size = 512 KiB for ~1 MiB chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from pyfastcdc import FastCDC

MIN_SIZE = 512 * 1024
AVG_SIZE = 1024 * 1024
MAX_SIZE = 8 * 1024 * 1024


class Chunker:
    """Cuts a stream into chunks; one instance per thread (FastCDC objects are not thread-safe)."""

    def __init__(self) -> None:
        self._cdc = FastCDC(avg_size=AVG_SIZE - MIN_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE)

    def chunks(self, stream: BinaryIO, size_hint: int | None = None) -> Iterator[memoryview]:
        """Yield chunks of `stream`; each view is valid only until the next one is requested.

        Files below the minimum chunk size are read in one call and never enter the chunker.
        """
        if size_hint is not None and size_hint < MIN_SIZE:
            data = stream.read(MIN_SIZE)
            rest = stream.read(MIN_SIZE) if len(data) == MIN_SIZE else b""
            if rest:  # the file grew since it was stat'ed: chunk it properly
                yield from self._cut_joined(data + rest, stream)
            elif data:
                yield memoryview(data)
            return
        for chunk in self._cdc.cut_stream(stream):
            yield chunk.data

    def _cut_joined(self, head: bytes, stream: BinaryIO) -> Iterator[memoryview]:
        buf = bytearray(head)
        buf += stream.read()
        for chunk in self._cdc.cut_buf(buf):
            yield chunk.data
