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


def line_chart(
    points: Sequence[HistoryPoint],
    value: Callable[[HistoryPoint], float],
    fmt: Callable[[float], str],
    title: str,
) -> SafeString:
    """A line with dots (red dots for failed runs), min/max axis labels and first/last dates."""
    if not points:
        return format_html('<p class="muted">{}</p>', _("まだ記録がありません。"))
    values = [value(p) for p in points]
    top = max(values) or 1.0
    inner_w, inner_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    step = inner_w / max(len(points) - 1, 1)
    start = PAD_L if len(points) > 1 else PAD_L + inner_w / 2  # a single run sits in the middle
    coords = [(start + i * step, PAD_T + inner_h * (1 - v / top)) for i, v in enumerate(values)]
    polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{} {}</title></circle>',
        (
            (f"{x:.1f}", f"{y:.1f}", "#1a7f37" if p.ok else "#cf222e", _label(p.when), fmt(v))
            for (x, y), p, v in zip(coords, points, values, strict=True)
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
        '<polyline points="{poly}" fill="none" stroke="#0969da" stroke-width="2"/>{dots}</svg>',
        w=WIDTH,
        h=HEIGHT,
        title=title,
        l=PAD_L,
        r=WIDTH - PAD_R,
        t=PAD_T,
        b=HEIGHT - PAD_B,
        lt=PAD_L - 6,
        ty=PAD_T + 4,
        dy=HEIGHT - 8,
        maxv=fmt(top),
        first=_label(points[0].when),
        last=_label(points[-1].when),
        poly=polyline,
        dots=dots,
    )


def size_chart(points: Sequence[HistoryPoint]) -> SafeString:
    return line_chart(points, lambda p: float(p.bytes_total), human_bytes, _("バックアップ対象の容量"))


def duration_chart(points: Sequence[HistoryPoint]) -> SafeString:
    return line_chart(points, lambda p: p.duration_s, human_seconds, _("所要時間"))
