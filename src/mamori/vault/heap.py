"""Giving the memory a finished step freed back to the system.

glibc's malloc keeps freed memory for reuse; after a one-off peak (the index files' JSON: about
26 MiB of Python objects per 50,000 blobs, gone once their columns are built) a long backup would
hold it to the end, and its forked workers would start from it. `malloc_trim(0)` returns the free
pages (the remedy Dask documents for "memory not released back to the OS"). Elsewhere than glibc
(musl, macOS) there is nothing to call.
"""

from __future__ import annotations

import ctypes

__all__ = ["release_free_memory"]

_malloc_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_free_memory() -> None:
    """Return free heap pages to the system (cheap: one call, a few milliseconds at most)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
