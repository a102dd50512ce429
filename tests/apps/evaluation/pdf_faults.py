"""Faults for the year PDF's workers: each wraps the real `render_page_set` and breaks on the sheet of
防災行政無線デジタル化事業 (not its 目次 row); and a gate that holds every layout until the test opens
it. No Django here: the workers import this module bare."""

from __future__ import annotations

import fcntl
import os
import re

from weasyprint import CSS, Document
from weasyprint.text.fonts import FontConfiguration

from mamori.apps.evaluation.pdf_book import render_page_set

BROKEN_SHEET = "事業：防災行政無線デジタル化事業"


def raise_on_one_sheet(html: str, stylesheet: CSS, fonts: FontConfiguration) -> Document:
    if BROKEN_SHEET in html:
        raise ValueError("no glyph for U+20B9F\nin font Noto Sans CJK JP")
    return render_page_set(html, stylesheet, fonts)


def die_on_one_sheet(html: str, stylesheet: CSS, fonts: FontConfiguration) -> Document:
    if BROKEN_SHEET in html:
        os._exit(70)  # as the kernel's OOM killer would end it: no exception, no result
    return render_page_set(html, stylesheet, fonts)


GATE = re.compile(r"<!-- gate: (.+?) -->")


def render_after_the_gate(html: str, stylesheet: CSS, fonts: FontConfiguration) -> Document:
    """Lay out a page set once the file its HTML names as its gate is unlocked (the test holds an
    exclusive lock on it while it gives the page sets): nothing is laid out before all were given."""
    if found := GATE.search(html):
        with open(found[1], "rb") as gate:
            fcntl.flock(gate, fcntl.LOCK_SH)  # waits for the test's LOCK_EX to go
    return render_page_set(html, stylesheet, fonts)
