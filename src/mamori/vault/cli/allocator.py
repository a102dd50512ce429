"""Keep glibc from handing freed buffers back to the kernel between chunks (`vault backup` only).

A backup allocates and frees buffers of about a chunk's size (1 MiB) many times a second: copies of
chunks, zstd output, ciphertext. With glibc's defaults these are mmap'd or trimmed away on free, and
every reuse faults the pages in again — about 60,000 page faults per 512 MiB backed up, a tenth of
the CPU time on a virtual machine. One arena and fixed thresholds keep the memory for reuse; peak
memory stays about the same because the freed buffers are what the next chunk needs. Not for
check and restore: they read whole 16 MiB packs, which would then stay allocated.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_MIB = 1024 * 1024


def tune_allocator() -> bool:
    """Set glibc's malloc options for this process (call before threads start); False elsewhere."""
    if not sys.platform.startswith("linux") or not _is_glibc():
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = mallopt(_M_ARENA_MAX, 1)
    ok &= mallopt(_M_MMAP_THRESHOLD, 32 * _MIB)  # above the 8 MiB maximum chunk
    ok &= mallopt(_M_TRIM_THRESHOLD, 64 * _MIB)
    return bool(ok)


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):
        return False
