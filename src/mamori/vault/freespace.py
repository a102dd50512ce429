"""What a restore leaves free on its target's file system.

A repository's trees may name one subtree twice per level (2^30 folders from a few dozen trees), or
one content blob a million times in a file: a restore of such a snapshot would fill its target's
file system — for a restore drill, the one that holds mamori's database. The restorer checks the
file system as it goes (every few dozen nodes, every few MiB written) and stops before it takes
what must stay free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["KeepFree"]


@dataclass(frozen=True)
class KeepFree:
    """Bytes and inodes a restore leaves free on its target's file system (0: no limit)."""

    bytes: int = 0
    inodes: int = 0

    @classmethod
    def percent(cls, path: str | os.PathLike[str], space: float, inodes: float) -> KeepFree:
        """Percentages of the size and of the inodes of the file system that holds `path` (or
        would: the nearest folder that exists)."""
        where = os.path.abspath(path)
        while not os.path.exists(where):
            where = os.path.dirname(where)
        st = os.statvfs(where)
        return cls(int(st.f_blocks * st.f_frsize * space / 100), int(st.f_files * inodes / 100))

    def shortfall(self, fd: int) -> str | None:
        """Why the file system holding `fd` has too little left to go on, or None."""
        st = os.fstatvfs(fd)
        free = st.f_bavail * st.f_frsize
        if free < self.bytes:
            return f"its file system has {_size(free)} free, less than the {_size(self.bytes)} a restore leaves free"
        if st.f_files and st.f_favail < self.inodes:  # f_files 0: no inode limit (btrfs)
            return (
                f"its file system has {st.f_favail:,} inodes free, less than the {self.inodes:,} "
                "a restore leaves free"
            )
        return None


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
