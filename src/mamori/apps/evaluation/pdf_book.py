"""A book of page sets in one PDF, laid out by one worker process per CPU.

WeasyPrint holds the GIL and spends about a quarter of a CPU second on an evaluation sheet, so a
city's year of 300 事業 takes over a minute in one process. Here each page set (the 目次, one 事業's
sheet) is a WeasyPrint document of its own — `counter(page)` / `counter(pages)` count within it —
laid out by whichever worker takes it from the queue; each worker writes what it laid out as one
PDF (its fonts subset once: a PDF per page set would carry the CJK font 300 times), and pypdf puts
the pages together in the book's order with an outline entry and page labels per page set. Workers
come from multiprocessing's fork server — never a fork of the threaded Django process — and this
module imports no Django (an import-linter contract), so the server can import it without settings.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import heapq
import io
import multiprocessing
import os
import queue
import re
import signal
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle
from weasyprint import CSS, HTML, Document
from weasyprint import html as weasyprint_html
from weasyprint.text.fonts import FontConfiguration

_PR_SET_PDEATHSIG = 1
POLL_S = 0.2
AHEAD = 3  # page sets queued per worker: none runs dry, and one given late (the 目次) still goes soon

Render = Callable[[str, CSS, FontConfiguration], Document]
Part = tuple[bytes, list[tuple[int, int]]]  # a worker's PDF and its page sets: (order, pages) in it


@dataclass(frozen=True)
class PageSet:
    order: int  # its place in the book
    title: str  # its outline entry
    label: str  # page label prefix: a viewer shows page 2 of 1379 as "1379-2"
    html: str  # a whole document; the book's stylesheet comes separately


class BookError(Exception):
    """The book could not be made; nothing of it is returned."""


class PageSetError(BookError):
    """One page set could not be laid out or drawn: `order` names it, `reason` is one line."""

    def __init__(self, order: int, reason: str) -> None:
        super().__init__(order, reason)
        self.order, self.reason = order, reason


class WorkerLostError(BookError):
    """A worker process ended without its result (killed, out of memory)."""


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def render_page_set(html: str, stylesheet: CSS, fonts: FontConfiguration) -> Document:
    """Lay out one page set (runs in a worker)."""
    return _BookHTML(string=html).render(stylesheets=[stylesheet], font_config=fonts)


# WeasyPrint's user-agent stylesheet gives every element five pseudo-elements for footnotes and notes
# (`::footnote-call`, `::note-marker`...); computing their styles took a sixth of a sheet's CPU time.
# A page set uses neither (they need `float: footnote` / `float: note`), so its documents get the
# stylesheet without those five rules: the same pages, laid out faster.
_NOTE_RULES = re.compile(r"^::(?:footnote|note)-(?:call|marker|callback) \{[^}]*\}\n", re.MULTILINE)


@functools.cache
def user_agent_stylesheet() -> CSS:
    """WeasyPrint's HTML user-agent stylesheet less its footnote and note rules (built once per worker)."""
    text, found = _NOTE_RULES.subn("", weasyprint_html.UA)
    if found != 5:  # another WeasyPrint: its stylesheet must be looked at again, not silently kept
        raise BookError(f"WeasyPrint's user-agent stylesheet has {found} footnote/note rules, not 5")
    return CSS(string=text, counter_style=weasyprint_html.UA_COUNTER_STYLE)


class _BookHTML(HTML):
    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [user_agent_stylesheet(), *([weasyprint_html.UA_FORM_STYLESHEET] if forms else [])]


def book_pdf(
    page_sets: Iterable[PageSet],
    *,
    count: int,
    stylesheet: str,
    title: Callable[[], str],
    on_laid_out: Callable[[int], None],
) -> bytes:
    """The `count` page sets of `page_sets` in one PDF, ordered by `PageSet.order`. The iterable is
    read while the workers lay out what it has given so far, the page sets given and not yet taken
    earliest in the book first: a 目次 made after its sheets is not left to the end, when one worker
    would lay it out while the other had nothing to do. `on_laid_out(order)` runs here, in the
    caller's thread, after each page set is laid out; `title()` (the PDF's) is asked for once the
    iterable is spent. Raises `BookError`. The workers call `render_page_set` as this module has it
    when the book starts (a test puts a fault there)."""
    context = multiprocessing.get_context("forkserver")
    # The server imports WeasyPrint once; each book's workers are then forked from it: a clean,
    # single-threaded process. Each worker also runs the caller's main script again, as spawn does
    # (Python 3.11's server never preloads it, "__main__" or not): `mamori`'s is two imports.
    context.set_forkserver_preload([__name__])
    tasks: Any = context.Queue()
    laid_out: Any = context.Queue()
    stop = context.Event()
    workers = max(1, min(cpu_count(), count))
    entries: dict[int, tuple[str, str]] = {}
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(tasks, laid_out, stop)
    ) as pool:
        futures = [pool.submit(_work, stylesheet, render_page_set) for _ in range(workers)]
        backlog = _Backlog(tasks, AHEAD * workers)

        def report(order: int) -> None:
            backlog.taken()
            on_laid_out(order)

        try:
            for page_set in page_sets:
                entries[page_set.order] = (page_set.title, page_set.label)
                backlog.add(page_set)
                _drain(laid_out, futures, report, wait=0)
            while backlog.waiting:
                _drain(laid_out, futures, report, wait=POLL_S)
            for _ in futures:
                tasks.put(None)
            while not all(f.done() for f in futures):
                _drain(laid_out, futures, report, wait=POLL_S)
            _drain(laid_out, futures, report, wait=0)
            parts = [f.result() for f in futures]
        except BrokenProcessPool as exc:
            _abandon(tasks, stop, len(futures))
            raise WorkerLostError(str(exc)) from exc
        except BaseException:
            _abandon(tasks, stop, len(futures))
            raise
    return _join(parts, entries, title())


class _Backlog:
    """The page sets given and not yet laid out: at most `limit` in the workers' queue, the others
    here, to be queued earliest in the book first."""

    def __init__(self, tasks: Any, limit: int) -> None:
        self.tasks, self.limit, self.queued = tasks, limit, 0
        self.heap: list[tuple[int, str]] = []

    @property
    def waiting(self) -> bool:
        return bool(self.heap)

    def add(self, page_set: PageSet) -> None:
        heapq.heappush(self.heap, (page_set.order, page_set.html))
        self._feed()

    def taken(self) -> None:
        """A worker has laid out one of the queued page sets."""
        self.queued -= 1
        self._feed()

    def _feed(self) -> None:
        while self.heap and self.queued < self.limit:
            self.tasks.put(heapq.heappop(self.heap))
            self.queued += 1


def _drain(
    laid_out: Any, futures: list[Future[Part]], on_laid_out: Callable[[int], None], *, wait: float
) -> None:
    """Report what the workers have laid out; raise at once what one of them raised."""
    try:
        while True:
            on_laid_out(laid_out.get(timeout=wait) if wait else laid_out.get_nowait())
            wait = 0
    except queue.Empty:
        pass
    for future in futures:
        if future.done() and (exc := future.exception()) is not None:
            raise exc


def _abandon(tasks: Any, stop: Any, workers: int) -> None:
    """Stop the other workers after a failure: they skip what is queued and end without writing."""
    stop.set()
    for _ in range(workers):
        tasks.put(None)
    tasks.cancel_join_thread()  # page sets nobody will read must not keep this process from exiting


def _join(parts: list[Part], entries: dict[int, tuple[str, str]], title: str) -> bytes:
    placed: dict[int, tuple[PdfReader, int, int]] = {}
    for data, sets in parts:
        if not sets:
            continue
        reader, start = PdfReader(io.BytesIO(data)), 0
        for order, pages in sets:
            placed[order] = (reader, start, pages)
            start += pages
    if placed.keys() != entries.keys():  # every page set exactly once, or no book
        raise WorkerLostError(f"laid out {len(placed)} of {len(entries)} page sets")
    writer = PdfWriter()
    for order in sorted(placed):
        reader, start, pages = placed[order]
        first = len(writer.pages)
        for page in reader.pages[start : start + pages]:
            writer.add_page(page)
        entry_title, label = entries[order]
        writer.add_outline_item(title=entry_title, page_number=first)
        writer.set_page_label(first, first + pages - 1, style=PageLabelStyle.DECIMAL, prefix=label)
    writer.add_metadata({"/Title": title})
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# In a worker process only: the queues it was started with.
_tasks: Any = None
_laid_out: Any = None
_stop: Any = None


def _worker_start(tasks: Any, laid_out: Any, stop: Any) -> None:
    """Each worker: its queues; Ctrl-C is the caller's to handle; it dies with the caller (Linux)."""
    global _tasks, _laid_out, _stop
    _tasks, _laid_out, _stop = tasks, laid_out, stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _work(stylesheet: str, render: Render) -> Part:
    """A worker's part: lay out page sets from the queue until its end mark, then write them as one
    PDF. The stylesheet is parsed and the fonts are loaded once for all of them."""
    fonts = FontConfiguration()
    css = CSS(string=stylesheet, font_config=fonts)
    documents: list[Document] = []
    sets: list[tuple[int, int]] = []
    while (task := _tasks.get()) is not None:
        if _stop.is_set():
            continue  # another worker failed: skip to the end mark
        order, html = task
        try:
            document = render(html, css, fonts)
        except Exception as exc:  # passed on with its page set named, as one line
            raise PageSetError(order, _one_line(exc)) from exc
        documents.append(document)
        # What a worker has laid out stays until it writes: frozen, the collector's full passes
        # stop walking it again and again as it grows (they took a sixth of the CPU time). A little
        # of each page set's cyclic garbage stays with it: about a tenth more memory.
        gc.freeze()
        sets.append((order, len(document.pages)))
        _laid_out.put(order)
    if not documents or _stop.is_set():
        return b"", []
    pages = [page for document in documents for page in document.pages]
    try:
        return documents[0].copy(pages).write_pdf(), sets
    except Exception as exc:  # drawing failed: one of this worker's page sets, WeasyPrint does not say which
        raise BookError(_one_line(exc)) from exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
