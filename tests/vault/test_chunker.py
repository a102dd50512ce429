"""The streaming chunker cuts exactly where FastCDC cuts the whole buffer, within restic's bounds."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from mamori.vault.chunker import MAX_SIZE, MIN_SIZE, Chunker


@pytest.mark.parametrize("size", [0, 1, MIN_SIZE - 1, MIN_SIZE + 1, 3 * MAX_SIZE + 12345])
def test_stream_cuts_match_whole_buffer_cuts(size: int) -> None:
    data = os.urandom(size // 2) + bytes(size - size // 2)
    chunker = Chunker()
    streamed = [bytes(c) for c in chunker.chunks(io.BytesIO(data), size)]
    assert b"".join(streamed) == data
    assert streamed == [bytes(c.data) for c in chunker._cdc.cut_buf(data)]
    assert all(len(c) <= MAX_SIZE for c in streamed)
    assert all(len(c) >= MIN_SIZE for c in streamed[:-1])


def test_a_file_that_grew_after_stat_is_read_completely() -> None:
    data = os.urandom(2 * MIN_SIZE)
    assert b"".join(bytes(c) for c in Chunker().chunks(io.BytesIO(data), size_hint=10)) == data


def test_the_engine_loads_the_chunkers_extension_only_to_cut_a_file() -> None:
    # a backup of unchanged files cuts nothing: it starts without pyfastcdc (and typing_extensions)
    code = (
        "import sys, mamori.vault.api, mamori.vault.archiver\n"
        "print('pyfastcdc' in sys.modules)\n"
        "from mamori.vault.chunker import Chunker\n"
        "Chunker()\n"
        "print('pyfastcdc' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
