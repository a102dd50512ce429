"""Repository check like `restic check`: index ↔ packs, snapshots → trees → blobs, and optionally data.

Structure: every index file decodes; every indexed pack exists with exactly the size its entries
imply; packs no index lists are reported (a warning, prune cleans them); every snapshot loads and
every tree reachable from it loads, is well formed and references only indexed blobs.
With `read_data`, packs are read whole: pack hash, header against index, each blob's MAC and
SHA-256. A damaged blob is reported with its pack and the files (``snapshot:/path``) that use it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mamori.vault.backend import FileType
from mamori.vault.errors import (
    BackendError,
    BadPackHeaderError,
    IntegrityError,
    InvalidArgumentError,
    VaultError,
)
from mamori.vault.ids import short_id
from mamori.vault.index import MasterIndex
from mamori.vault.jobs import ProcessJobs
from mamori.vault.keys import list_keys
from mamori.vault.model import Node, Snapshot, TreeFormatError, parse_tree, safe_nodes
from mamori.vault.pack import BlobType, PackedBlob, pack_size, read_header_from_bytes
from mamori.vault.repository import Repository

__all__ = ["CheckProblem", "CheckResult", "check_repository", "select_packs"]

log = logging.getLogger("mamori.vault.checker")
_NODE_TYPES = frozenset(("file", "dir", "symlink", "dev", "chardev", "fifo", "socket", "irregular"))


@dataclass(frozen=True)
class CheckProblem:
    """One finding; ids are full hex ids, `files` lists ``<snapshot>:/path`` users of a damaged blob."""

    message: str
    pack_id: str | None = None
    blob_id: str | None = None
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check; `ok` is False when there is any error (warnings do not count)."""

    ok: bool
    errors: list[CheckProblem]
    packs_checked: int
    blobs_checked: int
    bytes_read: int
    warnings: list[CheckProblem] = field(default_factory=list)


_FRACTION = re.compile(r"^(\d+)/(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")
# Per process, so that repeated percentage checks sample different packs.
_SUBSET_SALT = os.urandom(16)
_READ_WORKERS = 2
_RUN_BYTES = 4 * 1024 * 1024


def select_packs(pack_ids: list[str], subset: str | None) -> list[str]:
    """Packs to read for ``--read-data-subset``: ``n/t`` (restic's buckets by first id byte) or ``x%``."""
    if subset is None:
        return sorted(pack_ids)
    match = _FRACTION.match(subset)
    if match:
        n, t = int(match.group(1)), int(match.group(2))
        if t < 1 or not 1 <= n <= t:
            raise InvalidArgumentError(f"read-data-subset {subset!r}: use n/t with 1 <= n <= t")
        return sorted(p for p in pack_ids if int(p[:2], 16) % t == n - 1)
    match = _PERCENT.match(subset)
    if match:
        percent = float(match.group(1))
        if not 0 < percent <= 100:
            raise InvalidArgumentError(f"read-data-subset {subset!r}: the percentage must be in (0, 100]")
        count = math.ceil(len(pack_ids) * percent / 100)
        # A random sample, so that repeated partial checks cover the whole repository over time.
        ranked = sorted(pack_ids, key=lambda p: hashlib.sha256(_SUBSET_SALT + p.encode()).digest())
        return sorted(ranked[:count])
    raise InvalidArgumentError(
        f"read-data-subset {subset!r}: use a fraction like 1/5 or a percentage like 10%"
    )


@dataclass
class _PackReport:
    errors: list[CheckProblem] = field(default_factory=list)
    bad_blobs: list[tuple[bytes, CheckProblem]] = field(default_factory=list)
    packs: int = 0
    blobs: int = 0
    bytes_read: int = 0


class _Checker:
    def __init__(self, repo: Repository, progress: Callable[[str], None] | None) -> None:
        self.repo = repo
        self.errors: list[CheckProblem] = []
        self.warnings: list[CheckProblem] = []
        self.progress = progress or (lambda _msg: None)
        self.index = MasterIndex()
        self.packs: dict[str, list[PackedBlob]] = {}
        self.pack_index_file: dict[str, str] = {}
        self.pack_files: dict[str, int] = {}
        self.bad_blobs: dict[bytes, CheckProblem] = {}
        self.blob_users: dict[bytes, list[str]] = {}
        self.packs_checked = 0
        self.blobs_checked = 0
        self.bytes_read = 0

    def error(self, message: str, *, pack_id: str | None = None, blob_id: str | None = None) -> None:
        self.errors.append(CheckProblem(message, pack_id, blob_id))

    def check_index(self) -> None:
        self.progress("load indexes")
        for name in sorted(self.repo.list_files(FileType.INDEX)):
            try:
                index_file = self.repo.load_index_file(name)
            except (IntegrityError, BackendError) as exc:
                self.error(f"index {short_id(name)}: {exc}")
                continue
            for pack_id, blobs in index_file.packs.items():
                earlier = self.packs.get(pack_id)
                if earlier is not None:
                    if sorted(b.offset for b in earlier) != sorted(b.offset for b in blobs):
                        self.error(
                            f"pack {short_id(pack_id)} is listed with different contents in indexes "
                            f"{short_id(self.pack_index_file[pack_id])} and {short_id(name)}",
                            pack_id=pack_id,
                        )
                    else:
                        self.warnings.append(
                            CheckProblem(
                                f"pack {short_id(pack_id)} is listed in several indexes: `mamori vault prune` tidies",
                                pack_id,
                            )
                        )
                    continue
                self.packs[pack_id] = sorted(blobs, key=lambda b: b.offset)
                self.pack_index_file[pack_id] = name
                self.index.add_pack(pack_id, blobs, bulk=True)
        self.index.compact()
        # The repository reads blobs through the same view of the index.
        self.repo.index = self.index

    def check_packs(self) -> None:
        self.progress("check all packs")
        on_disk = self.pack_files = self.repo.list_packs()
        for pack_id, blobs in self.packs.items():
            size = on_disk.get(pack_id)
            if size is None:
                self.error(
                    f"pack {short_id(pack_id)} is missing (listed in index {short_id(self.pack_index_file[pack_id])})",
                    pack_id=pack_id,
                )
                for b in blobs:
                    self.bad_blobs.setdefault(
                        b.id,
                        CheckProblem(
                            f"{b.type.value} blob {short_id(b.id)} is lost with missing pack {short_id(pack_id)}",
                            pack_id,
                            b.id.hex(),
                        ),
                    )
                continue
            expected = pack_size(blobs)
            if size != expected:
                self.error(
                    f"pack {short_id(pack_id)}: unexpected file size {size}, the index implies {expected}",
                    pack_id=pack_id,
                )
            offset = 0
            for b in blobs:
                if b.offset != offset:
                    self.error(f"pack {short_id(pack_id)}: index for pack contains gaps or overlapping blobs")
                    break
                offset += b.length
        for pack_id in sorted(set(on_disk) - set(self.packs)):
            self.warnings.append(
                CheckProblem(
                    f"pack {short_id(pack_id)} is not referenced in any index: run `mamori vault prune`",
                    pack_id,
                )
            )

    def read_data(self, subset: str | None, processes: int) -> None:
        selected = select_packs(list(self.packs), subset)
        self.progress(f"read {len(selected)} of {len(self.packs)} packs")
        done = 0

        def count(report: _PackReport) -> None:
            nonlocal done
            done += 1
            self.progress(f"read {done} of {len(selected)} packs")
            self.errors.extend(report.errors)
            for blob_id, problem in report.bad_blobs:
                self.bad_blobs.setdefault(blob_id, problem)
            self.packs_checked += report.packs
            self.blobs_checked += report.blobs
            self.bytes_read += report.bytes_read

        if processes and len(selected) > 1:
            # a pack of small files is thousands of blobs, each some Python work under the GIL:
            # worker processes (forked: they share the index) keep every core busy; the report
            # lists problems in the order the packs come back
            workers = ProcessJobs(self.read_pack, min(processes, len(selected)), 2, role="check")
            try:
                for pack_id in selected:
                    workers.submit(pack_id, count)
                workers.drain()
            finally:
                workers.close()
            return
        # hashlib and zstd release the GIL: two reader threads keep both cores busy with large blobs.
        with ThreadPoolExecutor(max(1, min(_READ_WORKERS, len(selected)))) as pool:
            for report in pool.map(self.read_pack, selected):
                count(report)

    def read_pack(self, pack_id: str) -> _PackReport:
        """Verify one pack: its id, its header against the index, every blob. Thread-safe; in a
        worker process it only reads (the report travels back).

        A pack whose header reads cleanly is read in runs of whole blobs of at most 4 MiB, so two
        readers hold about 8 MiB instead of two 16 MiB packs; anything odd is re-read whole.
        """
        size = self.pack_files.get(pack_id)
        if size is None:
            return self.read_pack_whole(pack_id)
        try:
            # offsets come from summing the header's lengths: the runs below cover the file exactly
            header = self.repo.read_pack_header(pack_id, size)
            report = _PackReport(packs=1)
            digest = hashlib.sha256()
            end = 0
            for run in _runs(header, _RUN_BYTES):
                start, end = run[0].offset, run[-1].offset + run[-1].length
                view = memoryview(self._load_exactly(pack_id, start, end - start))
                digest.update(view)
                for b in run:
                    self._verify(report, pack_id, b, view[b.offset - start : b.offset - start + b.length])
            digest.update(self._load_exactly(pack_id, end, size - end))
        except (IntegrityError, BackendError):
            return self.read_pack_whole(pack_id)
        report.bytes_read = size
        if digest.hexdigest() != pack_id:
            report.errors.append(_mismatch(pack_id))
        self._compare_header(report, pack_id, header)
        return report

    def _load_exactly(self, pack_id: str, offset: int, length: int) -> bytes:
        data = self.repo.load_pack_range(pack_id, offset, length)
        if len(data) != length:
            raise BadPackHeaderError(f"pack {short_id(pack_id)} is shorter than its size", pack_id=pack_id)
        return data

    def _verify(self, report: _PackReport, pack_id: str, b: PackedBlob, sealed: memoryview) -> None:
        report.blobs += 1
        try:
            self.repo.decode_blob(pack_id, b, sealed)
        except IntegrityError as exc:
            message = f"pack {short_id(pack_id)}: {b.type.value} blob {short_id(b.id)} is damaged ({exc})"
            report.bad_blobs.append((b.id, CheckProblem(message, pack_id, b.id.hex())))

    def _compare_header(self, report: _PackReport, pack_id: str, header: list[PackedBlob]) -> None:
        indexed = self.packs[pack_id]
        if {(b.type, b.id, b.offset, b.length) for b in header} != {
            (b.type, b.id, b.offset, b.length) for b in indexed
        }:
            report.errors.append(
                CheckProblem(f"pack {short_id(pack_id)}: the pack header does not match the index", pack_id)
            )

    def read_pack_whole(self, pack_id: str) -> _PackReport:
        """Verify one pack loaded whole (a damaged or unreadable header, a short file)."""
        report = _PackReport()
        try:
            data = self.repo.load_pack(pack_id)
        except BackendError as exc:
            report.errors.append(CheckProblem(f"pack {short_id(pack_id)}: cannot be read ({exc})", pack_id))
            return report
        report.packs = 1
        report.bytes_read = len(data)
        if hashlib.sha256(data).hexdigest() != pack_id:
            report.errors.append(_mismatch(pack_id))
        try:
            header = read_header_from_bytes(self.repo.key, data, pack_id)
        except IntegrityError as exc:
            report.errors.append(CheckProblem(str(exc), pack_id))
            header = self.packs[pack_id]  # still try each blob where the index says it is
        else:
            self._compare_header(report, pack_id, header)
        view = memoryview(data)
        for b in header:
            self._verify(report, pack_id, b, view[b.offset : b.offset + b.length])
        return report

    def check_snapshots(self) -> None:
        self.progress("check snapshots, trees and blobs")
        seen: set[bytes] = set()
        for name in sorted(self.repo.list_files(FileType.SNAPSHOT)):
            try:
                snapshot = Snapshot.from_json(self.repo.load_unpacked(FileType.SNAPSHOT, name))
            except (VaultError, TreeFormatError) as exc:
                self.error(f"snapshot {short_id(name)}: {exc}")
                continue
            self.walk(short_id(name), snapshot.tree, "", seen)

    def walk(self, snap: str, tree_id: bytes, path: str, seen: set[bytes]) -> None:
        stack = [(tree_id, path)]
        while stack:
            tid, here = stack.pop()
            if tid in seen:
                continue
            seen.add(tid)
            where = f"{snap}:{here or '/'}"
            if not self.index.has(BlobType.TREE, tid):
                self.error(f"tree {short_id(tid)} for {where} is not in the index", blob_id=tid.hex())
                continue
            if tid in self.bad_blobs:
                self.blob_users.setdefault(tid, []).append(where)
                continue  # reported by read-data
            try:
                nodes = parse_tree(self.repo.load_blob(BlobType.TREE, tid))
            except IntegrityError as exc:
                self.error(f"tree {short_id(tid)} for {where}: {exc}", pack_id=exc.pack_id, blob_id=tid.hex())
                continue
            except (VaultError, TreeFormatError) as exc:
                self.error(f"tree {short_id(tid)} for {where} cannot be loaded: {exc}", blob_id=tid.hex())
                continue
            for reason in safe_nodes(nodes)[1]:  # restore and ls leave these out
                self.error(f"tree {short_id(tid)} for {where}: {reason}", blob_id=tid.hex())
            for node in nodes:
                child = f"{here}/{os.fsdecode(node.name)}"
                self.check_node(snap, node, child, tid)
                if node.type == "dir" and node.subtree is not None:
                    stack.append((node.subtree, child))

    def check_node(self, snap: str, node: Node, path: str, tree_id: bytes) -> None:
        where = f"{snap}:{path}"
        if node.type not in _NODE_TYPES:
            self.error(f"{where}: invalid node type {node.type!r}", blob_id=tree_id.hex())
        if node.type == "file":
            if node.content is None:
                self.error(f"{where}: file has no content list", blob_id=tree_id.hex())
                return
            for blob_id in node.content:
                if blob_id in self.bad_blobs:
                    self.blob_users.setdefault(blob_id, []).append(where)
                elif not self.index.has(BlobType.DATA, blob_id):
                    self.error(
                        f"{where}: data blob {short_id(blob_id)} is not in the index", blob_id=blob_id.hex()
                    )
        elif node.type == "dir" and node.subtree is None:
            self.error(f"{where}: directory has no subtree", blob_id=tree_id.hex())

    def result(self) -> CheckResult:
        for blob_id, problem in self.bad_blobs.items():
            self.errors.append(
                CheckProblem(
                    problem.message,
                    problem.pack_id,
                    problem.blob_id,
                    sorted(self.blob_users.get(blob_id, [])),
                )
            )
        return CheckResult(
            ok=not self.errors,
            errors=self.errors,
            packs_checked=self.packs_checked,
            blobs_checked=self.blobs_checked,
            bytes_read=self.bytes_read,
            warnings=self.warnings,
        )


def check_repository(
    repo: Repository,
    *,
    read_data: bool = False,
    read_data_subset: str | None = None,
    progress: Callable[[str], None] | None = None,
    processes: int = 0,
) -> CheckResult:
    """Check the repository under the caller's lock. It reads the index files itself (reporting
    each bad one) and leaves `repo.index` built from the good ones; `load_index` is not needed.
    `processes`: read the packs in that many forked worker processes (the backend must be safe to
    use after a fork: a local directory); 0 reads them in threads of this process."""
    if read_data_subset is not None:
        select_packs([], read_data_subset)  # validate before any work
    checker = _Checker(repo, progress)
    for malformed in list_keys(repo.backend)[1]:  # skipped when opening; another password may need them
        checker.warnings.append(CheckProblem(str(malformed)))
    checker.check_index()
    checker.check_packs()
    if read_data or read_data_subset is not None:
        checker.read_data(read_data_subset, processes)
    checker.check_snapshots()
    return checker.result()


def _mismatch(pack_id: str) -> CheckProblem:
    return CheckProblem(f"pack {short_id(pack_id)}: its content does not match its id (damaged)", pack_id)


def _runs(header: list[PackedBlob], limit: int) -> Iterator[list[PackedBlob]]:
    """Consecutive blobs in runs of at most `limit` bytes (a larger blob is a run of its own)."""
    run: list[PackedBlob] = []
    size = 0
    for b in sorted(header, key=lambda b: b.offset):
        if run and size + b.length > limit:
            yield run
            run, size = [], 0
        run.append(b)
        size += b.length
    if run:
        yield run
