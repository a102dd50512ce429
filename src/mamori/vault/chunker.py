"""Content-defined chunking of file data with FastCDC (pyfastcdc), sized like restic's chunks.

restic cuts 512 KiB–8 MiB chunks averaging about 1 MiB with a Rabin fingerprint; restic reads blobs
cut by any chunker, so we use FastCDC (gear hash, several GB/s in C without the GIL) with the same
bounds: dedup granularity and index size match restic's, and the chunker is never the bottleneck.
pyfastcdc's effective average is `avg_size + min_size`, hence avg_size = 512 KiB for ~1 MiB chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

MIN_SIZE = 512 * 1024
AVG_SIZE = 1024 * 1024
MAX_SIZE = 8 * 1024 * 1024


_BUFFER_SIZE = MAX_SIZE + 1024 * 1024


class Chunker:
    """Cuts a stream into chunks; one instance per thread (FastCDC objects are not thread-safe).

    Reads go into one reused 9 MiB buffer with `readinto` (pyfastcdc's own stream reader zero-fills
    a fresh 16 MiB buffer per file, which costs more than chunking small files itself).
    """

    def __init__(self) -> None:
        # the C extension loads with the first file to cut: a backup of unchanged files never does
        from pyfastcdc import FastCDC

        self._cdc = FastCDC(avg_size=AVG_SIZE - MIN_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE)
        self._buf = bytearray(_BUFFER_SIZE)
        self._view = memoryview(self._buf)

    def chunks(self, stream: BinaryIO, size_hint: int | None = None) -> Iterator[memoryview]:
        """Yield chunks of `stream`; each view is valid only until the next one is requested.

        Files below the minimum chunk size are read in one call and never enter the chunker.
        """
        if size_hint is not None and size_hint < MIN_SIZE:
            data = stream.read(size_hint + 1)  # one byte more tells whether the file grew
            if len(data) <= size_hint:
                if data:
                    yield memoryview(data)
                return
            # the file grew since it was stat'ed: chunk what was read and the rest
            self._view[: len(data)] = data
            yield from self._cut(stream, len(data))
            return
        yield from self._cut(stream, 0)

    def _cut(self, stream: BinaryIO, filled: int) -> Iterator[memoryview]:
        view = self._view
        readinto = stream.readinto  # type: ignore[attr-defined]
        eof = False
        while True:
            while not eof and filled < _BUFFER_SIZE:
                n = readinto(view[filled:])
                if not n:
                    eof = True
                else:
                    filled += n
            if filled == 0:
                return
            start = 0
            for chunk in self._cdc.cut_buf(view[:filled]):
                # FastCDC decides a cut from the chunk's own bytes, so only a chunk that runs into
                # the end of the buffer (short of MAX_SIZE, before EOF) may move: refill first.
                end = chunk.offset + chunk.length
                if end == filled and not eof and chunk.length < MAX_SIZE:
                    break
                yield chunk.data
                start = end
            if eof and start == filled:
                return
            rest = filled - start
            view[:rest] = self._buf[start:filled]
            filled = rest
