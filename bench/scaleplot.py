"""The scale series as a picture: how each cost grows with the number of files (a hand-written SVG).

Four log-log panels — first backup, no-change backup and full restore (wall seconds), and the peak
memory of all three — one line per tool, with a grey line of slope one through mamori's first
point: a cost that grows linearly runs parallel to it, a steeper one grows faster than linearly.
No plotting library: the bench needs nothing beyond the standard library.

    python bench/scaleplot.py bench/results/bench-scale-<stamp>.json docs/benchmarks-scale.svg
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

STEPS = ("first backup", "no-change backup", "full restore")
STYLE = {
    "mamori": ("#c0392b", ""),
    "restic": ("#2471a3", "6 4"),
    "borg": ("#7f8c8d", "2 3"),
}
PANEL_W, PANEL_H = 330, 240
LEFT, RIGHT, TOP, BOTTOM = 62, 34, 34, 44


def medians(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str, int], tuple[float, float]]:
    """(tool, step, files) → median (wall s, peak memory MiB) over the rounds."""
    grouped: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["tool"], row["step"], int(row["files"])), []).append(row)
    return {
        key: (
            statistics.median(r["wall_s"] for r in rs),
            statistics.median(max(r["peak_rss_mib"], r.get("tree_pss_mib", 0.0)) for r in rs),
        )
        for key, rs in grouped.items()
    }


def svg(rows: Sequence[dict[str, Any]], title: str) -> str:
    """The four panels for rows of the bench's JSON (each with a "files" count)."""
    data = medians(rows)
    tools = [t for t in STYLE if any(k[0] == t for k in data)]
    files = sorted({k[2] for k in data})
    panels: list[tuple[str, str, dict[str, list[tuple[int, float]]]]] = []
    for step in STEPS:
        panels.append(
            (
                f"{step}: wall time",
                "s",
                {t: [(n, data[t, step, n][0]) for n in files if (t, step, n) in data] for t in tools},
            )
        )
    memory = {
        t: [(n, max(data[t, s, n][1] for s in STEPS if (t, s, n) in data)) for n in files] for t in tools
    }
    panels.append(("peak memory (largest of the three steps)", "MiB", memory))
    width, height = 2 * PANEL_W, 2 * PANEL_H + 56
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13">{_esc(title)}</text>',
    ]
    for i, (name, unit, lines) in enumerate(panels):
        out += _panel(24 + (i // 2) * PANEL_H, (i % 2) * PANEL_W, name, unit, lines)
    legend_y = height - 14
    x = 20.0
    for tool in tools:
        colour, dash = STYLE[tool]
        out.append(_line([(x, legend_y - 4), (x + 26, legend_y - 4)], colour, dash))
        out.append(f'<text x="{x + 31}" y="{legend_y}">{tool}</text>')
        x += 90
    out.append(_line([(x, legend_y - 4), (x + 26, legend_y - 4)], "#bbbbbb", "3 3"))
    out.append(
        f'<text x="{x + 31}" y="{legend_y}">slope 1 (linear growth) through mamori\'s first point</text>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _panel(
    top: float, left: float, name: str, unit: str, lines: dict[str, list[tuple[int, float]]]
) -> list[str]:
    points = [p for pts in lines.values() for p in pts]
    if not points:
        return []
    x_lo, x_hi = _decades(p[0] for p in points)
    y_lo, y_hi = _decades(p[1] for p in points)
    plot_w, plot_h = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM

    def at(n: float, v: float) -> tuple[float, float]:
        fx = (math.log10(n) - x_lo) / (x_hi - x_lo)
        fy = (math.log10(v) - y_lo) / (y_hi - y_lo)
        return left + LEFT + fx * plot_w, top + TOP + (1 - fy) * plot_h

    out = [
        f'<text x="{left + LEFT}" y="{top + TOP - 10}" font-size="12">{_esc(name)}</text>',
        f'<rect x="{left + LEFT}" y="{top + TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>',
    ]
    for d in range(x_lo, x_hi + 1):
        x, _ = at(10**d, 10**y_lo)
        out.append(_line([(x, top + TOP), (x, top + TOP + plot_h)], "#e5e5e5", ""))
        out.append(f'<text x="{x}" y="{top + TOP + plot_h + 14}" text-anchor="middle">{_count(10**d)}</text>')
    for d in range(y_lo, y_hi + 1):
        _, y = at(10**x_lo, 10**d)
        out.append(_line([(left + LEFT, y), (left + LEFT + plot_w, y)], "#e5e5e5", ""))
        out.append(f'<text x="{left + LEFT - 5}" y="{y + 4}" text-anchor="end">{_value(10**d)} {unit}</text>')
    out.append(
        f'<text x="{left + LEFT + plot_w / 2}" y="{top + TOP + plot_h + 30}" text-anchor="middle">files</text>'
    )
    first = lines.get("mamori", [])
    if first:
        n0, v0 = first[0]
        ends = [(n, v0 * n / n0) for n in (10**x_lo, 10**x_hi)]
        ends = _clip(ends, 10**y_lo, 10**y_hi)
        if ends:
            out.append(_line([at(*p) for p in ends], "#bbbbbb", "3 3"))
    for tool, pts in lines.items():
        if not pts:
            continue
        colour, dash = STYLE[tool]
        xy = [at(n, v) for n, v in pts]
        out.append(_line(xy, colour, dash))
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in xy]
    return out


def _decades(values: Iterable[float]) -> tuple[int, int]:
    vs = [v for v in values if v > 0]
    lo, hi = math.floor(math.log10(min(vs))), math.ceil(math.log10(max(vs)))
    return lo, max(hi, lo + 1)


def _clip(ends: list[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    """The slope-one guide cut to the panel's value range (log space: v = k·n)."""
    (n0, v0), (n1, _v1) = ends
    k = v0 / n0
    start = max(n0, lo / k)
    stop = min(n1, hi / k)
    return [(start, k * start), (stop, k * stop)] if start < stop else []


def _line(points: Sequence[tuple[float, float]], colour: str, dash: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.6"{extra}/>'


def _count(n: float) -> str:
    return f"{int(n):,}"


def _value(v: float) -> str:
    return f"{v:g}"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rows = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(
        svg(rows, "tiny-files scale series (bench/run.py --scale)"), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
