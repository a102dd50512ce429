"""The coverage chart: one horizontal bar per zone or department, server-rendered SVG (no JavaScript).

Each bar is 100 % of the devices in that row: green the share with current antivirus signatures,
red the share that reports but fails, grey the share that has stopped reporting; the figure at the
end is the green share. The rows come sorted worst first, so the eye lands on who is behind.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from .selectors import CoverageRow

LABEL_W, BAR_W, VALUE_W, ROW_H, BAR_H = 190, 360, 70, 24, 16
GREEN, RED, GREY = "#1a7f37", "#cf222e", "#8c959f"


def coverage_bars(rows: Sequence[CoverageRow], *, title: str) -> SafeString:
    shown = [r for r in rows if r.total]
    if not shown:
        return format_html('<p class="muted">{}</p>', _("対象の機器がありません。"))
    height = ROW_H * len(shown) + 8
    width = LABEL_W + BAR_W + VALUE_W
    bars = []
    for i, row in enumerate(shown):
        y = 4 + i * ROW_H
        ok = row.av_ok / row.total
        silent = row.silent / row.total
        bad = max(0.0, 1 - ok - silent)
        segments = [(0.0, ok, GREEN), (ok, bad, RED), (ok + bad, silent, GREY)]
        rects = format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>',
            (
                (f"{LABEL_W + start * BAR_W:.1f}", y, f"{share * BAR_W:.1f}", BAR_H, colour)
                for start, share, colour in segments
                if share > 0
            ),
        )
        bars.append(
            format_html(
                '<g data-row="{}" data-av-pct="{}"><title>{}: {} / {}</title>'
                '<text x="{}" y="{}" text-anchor="end" font-size="13">{}</text>{}'
                '<text x="{}" y="{}" font-size="13" font-weight="bold">{}%</text></g>',
                row.key,
                row.av_pct,
                row.label,
                row.av_ok,
                row.total,
                LABEL_W - 6,
                y + 13,
                row.label,
                rects,
                LABEL_W + BAR_W + 6,
                y + 13,
                row.av_pct,
            )
        )
    swatch = '<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{}"></rect></svg> {}'
    legend = format_html(
        '<p class="legend">' + "　".join([swatch] * 3) + "</p>",
        GREEN, _("定義ファイルが最新"), RED, _("不適合"), GREY, _("報告なし"),
    )  # fmt: skip
    # Drawn at its own size (not stretched to the page), so the text keeps the page's size.
    svg = format_html(
        '<div class="table-scroll"><svg class="coverage-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'width="{}" height="{}">{}</svg></div>',
        title, width, height, width, height, SafeString("".join(bars)),
    )  # fmt: skip
    return format_html("{}{}", svg, legend)
