"""glibc malloc settings for `mamori vault`: one arena for every command, fixed thresholds for backup.

One arena: glibc gives each new thread an arena of its own, and memory freed in one stays there.
The CLI starts a thread (the key warm-up) before it knows the command, so the setting is made first.

Fixed thresholds (`vault backup` only): a backup allocates and frees buffers of about a chunk's
size (1 MiB) many times a second: copies of chunks, zstd output, ciphertext. With glibc's defaults
these are mmap'd or trimmed away on free, and every reuse faults the pages in again — about 60,000
page faults per 512 MiB backed up, a tenth of the CPU time on a virtual machine. Fixed thresholds
keep the memory for reuse; peak memory stays about the same because the freed buffers are what the
next chunk needs. Not for check and restore: they read whole 16 MiB packs, which would then stay
allocated.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_MIB = 1024 * 1024


def use_one_arena() -> bool:
    """One malloc arena for all threads (call before any thread starts); False if not glibc."""
    mallopt = _mallopt()
    return mallopt is not None and bool(mallopt(_M_ARENA_MAX, 1))


def tune_allocator() -> bool:
    """Keep chunk-sized buffers for reuse, in the one arena `use_one_arena` left; False if not glibc."""
    mallopt = _mallopt()
    if mallopt is None:
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * _MIB)  # above the 8 MiB maximum chunk
    ok &= mallopt(_M_TRIM_THRESHOLD, 64 * _MIB)
    return bool(ok)


def _mallopt() -> Any:
    if not sys.platform.startswith("linux") or not _is_glibc():
        return None
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return mallopt


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):
        return False
