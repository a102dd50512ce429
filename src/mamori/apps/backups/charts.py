"""Server-rendered inline SVG charts (no JavaScript: the CSP forbids inline scripts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .selectors import HistoryPoint

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 560, 180, 64, 12, 14, 28


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def human_seconds(s: float) -> str:
    if s < 120:
        return gettext("%(seconds).1f 秒") % {"seconds": s}
    return gettext("%(minutes).1f 分") % {"minutes": s / 60}


def _label(t: datetime) -> str:
    return timezone.localtime(t).strftime("%m/%d")


def _segments(coords: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive known points: the line breaks where a run failed."""
    segments: list[list[tuple[float, float]]] = [[]]
    for c in coords:
        if c is None:
            segments.append([])
        else:
            segments[-1].append(c)
    return [s for s in segments if s]


def line_chart(
    points: Sequence[HistoryPoint],
    value: Callable[[HistoryPoint], float | None],
    fmt: Callable[[float], str],
    title: str,
) -> SafeString:
    """A line with green dots, min/max axis labels and first/last dates. A failed run has no size
    or duration: the line breaks there and a red ✕ over a dashed line marks it, never a point at 0."""
    if not points:
        return format_html('<p class="muted">{}</p>', _("まだ記録がありません。"))
    values = [value(p) if p.ok else None for p in points]
    known = [v for v in values if v is not None]
    top = max(known, default=0.0) or 1.0
    inner_w, inner_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    bottom = HEIGHT - PAD_B
    step = inner_w / max(len(points) - 1, 1)
    start = PAD_L if len(points) > 1 else PAD_L + inner_w / 2  # a single run sits in the middle
    xs = [start + i * step for i in range(len(points))]
    coords = [
        None if v is None else (x, PAD_T + inner_h * (1 - v / top)) for x, v in zip(xs, values, strict=True)
    ]
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="#0969da" stroke-width="2"/>',
        ((" ".join(f"{x:.1f},{y:.1f}" for x, y in segment),) for segment in _segments(coords)),
    )
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5" fill="#1a7f37"><title>{} {}</title></circle>',
        (
            (f"{c[0]:.1f}", f"{c[1]:.1f}", _label(p.when), fmt(v))
            for c, p, v in zip(coords, points, values, strict=True)
            if c is not None and v is not None
        ),
    )
    failed = format_html_join(
        "",
        '<g class="failed" data-failed="{x}"><title>{when} {label}</title>'
        '<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#cf222e" stroke-dasharray="3 3"/>'
        '<path d="M{x0},{t0} L{x1},{t1} M{x0},{t1} L{x1},{t0}" stroke="#cf222e" stroke-width="2"/></g>',
        (
            {
                "x": f"{x:.1f}",
                "x0": f"{x - 4:.1f}",
                "x1": f"{x + 4:.1f}",
                "t": PAD_T,
                "t0": PAD_T - 4,
                "t1": PAD_T + 4,
                "b": bottom,
                "when": _label(p.when),
                "label": gettext("失敗（値なし）"),
            }
            for x, p in zip(xs, points, strict=True)
            if not p.ok
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{title}</title>"
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#8c959f"/>'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#8c959f"/>'
        '<text x="{lt}" y="{ty}" text-anchor="end" font-size="11" fill="#57606a">{maxv}</text>'
        '<text x="{lt}" y="{b}" text-anchor="end" font-size="11" fill="#57606a">0</text>'
        '<text x="{l}" y="{dy}" font-size="11" fill="#57606a">{first}</text>'
        '<text x="{r}" y="{dy}" text-anchor="end" font-size="11" fill="#57606a">{last}</text>'
        "{lines}{dots}{failed}</svg>",
        w=WIDTH,
        h=HEIGHT,
        title=title,
        l=PAD_L,
        r=WIDTH - PAD_R,
        t=PAD_T,
        b=bottom,
        lt=PAD_L - 6,
        ty=PAD_T + 4,
        dy=HEIGHT - 8,
        maxv=fmt(top) if known else "—",
        first=_label(points[0].when),
        last=_label(points[-1].when),
        lines=lines,
        dots=dots,
        failed=failed,
    )


def size_chart(points: Sequence[HistoryPoint]) -> SafeString:
    return line_chart(
        points,
        lambda p: None if p.bytes_total is None else float(p.bytes_total),
        human_bytes,
        _("バックアップ対象の容量"),
    )


def duration_chart(points: Sequence[HistoryPoint]) -> SafeString:
    return line_chart(points, lambda p: p.duration_s, human_seconds, _("所要時間"))
