"""Charts as text: Mermaid xycharts for GitHub and inline SVG for the dashboard."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

_PAD_L, _PAD_R, _PAD_T, _PAD_B = 44, 12, 26, 24  # room for tick labels and the title
# Colour-blind-safe palette (Okabe-Ito); the first colour is the one tests look for.
PLOT_BACKGROUND = "#f7f8fa"  # the plot area's fill, so a screenshot shows where a chart is
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


def mermaid_pass_rate(days: Sequence[tuple[date, float | None]]) -> str:
    """Render the daily pass rate as a Mermaid xychart; days without runs are left out."""
    points = [(d, r) for d, r in days if r is not None]
    if not points:
        return "_No runs this week, so no pass-rate chart._"
    labels = ", ".join(f'"{d:%a %d}"' for d, _ in points)
    values = ", ".join(f"{r * 100:.1f}" for _, r in points)
    low = min(r for _, r in points) * 100
    floor = max(0, int(low // 10 * 10) - 10) if low < 90 else 80
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "Daily pass rate (%)"',
            f"    x-axis [{labels}]",
            f'    y-axis "Pass rate (%)" {floor} --> 100',
            f"    line [{values}]",
            "```",
        ]
    )


def ticks(top: float, *, count: int = 4, whole: bool = False) -> list[float]:
    """Return round tick values from 0 to at least `top` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1) if whole else step
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def day_ticks(n: int, *, most: int = 6) -> list[int]:
    """Return indexes of about `most` evenly spaced days, the first and the last included."""
    if n <= most:
        return list(range(n))
    step = math.ceil((n - 1) / (most - 1))
    picked = list(range(0, n - 1, step))
    if n - 1 - picked[-1] <= step / 2:  # too close to the last label
        picked.pop()
    return [*picked, n - 1]


def _open(width: int, height: int, title: str) -> str:
    # width 100% with a viewBox: the chart scales to its column, from 400 px phones to wide screens.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title>"
        f'<text x="{_PAD_L}" y="16" font-size="14">{escape(title)}</text>'
    )


def _y_axis(width: int, plot_h: float, values: list[float], label: str) -> str:
    top = values[-1] or 1
    parts = [
        f'<rect x="{_PAD_L}" y="{_PAD_T}" width="{width - _PAD_L - _PAD_R}" height="{plot_h}" '
        f'fill="{PLOT_BACKGROUND}"/>'
    ]
    for v in values:
        y = _PAD_T + plot_h - v / top * plot_h
        parts.append(
            f'<line x1="{_PAD_L}" y1="{y:.1f}" x2="{width - _PAD_R}" y2="{y:.1f}" '
            f'stroke="{"#888" if v == 0 else "#e1e4e8"}"/>'
            f'<text x="{_PAD_L - 4}" y="{y + 4:.1f}" font-size="12" text-anchor="end">'
            f"{label.format(v)}</text>"
        )
    return "".join(parts)


def _x_axis(days: Sequence[date], xs: Sequence[float], height: int) -> str:
    parts = []
    for i in day_ticks(len(days)):
        anchor = "start" if i == 0 and len(days) > 1 else "end" if i == len(days) - 1 else "middle"
        parts.append(
            f'<line x1="{xs[i]:.1f}" y1="{height - _PAD_B}" x2="{xs[i]:.1f}" '
            f'y2="{height - _PAD_B + 4}" stroke="#888"/>'
            f'<text x="{xs[i]:.1f}" y="{height - 5}" font-size="12" text-anchor="{anchor}">'
            f"{days[i]:%m-%d}</text>"
        )
    return "".join(parts)


def svg_series(
    days: Sequence[date],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    width: int = 520,
    height: int = 200,
) -> str:
    """Render counts per day as a fluid inline SVG of stacked bars, one colour per series."""
    plot_w, plot_h = width - _PAD_L - _PAD_R, height - _PAD_B - _PAD_T
    totals = [sum(s[i] for s in series.values()) for i in range(len(days))]
    scale = ticks(max([*totals, 1]), whole=True)
    top = scale[-1]
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.8, 1.0)
    parts = [_open(width, height, title), _y_axis(width, plot_h, scale, "{:g}")]
    base = [0.0] * len(days)
    for n, (name, counts) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        for i, count in enumerate(counts):
            if not count:
                continue
            h = count / top * plot_h
            y = _PAD_T + plot_h - base[i] - h
            x = _PAD_L + i * step + (step - bar) / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(name)} {days[i]}: {count}</title></rect>'
            )
            base[i] += h
    parts.append(_x_axis(days, [_PAD_L + (i + 0.5) * step for i in range(len(days))], height))
    parts.append("</svg>")
    return "".join(parts)


def legend(names: Sequence[str]) -> list[tuple[str, str]]:
    """Pair each series name with its colour, in drawing order."""
    return [(name, PALETTE[n % len(PALETTE)]) for n, name in enumerate(names)]


def svg_rate(
    days: Sequence[tuple[date, float | None]], *, title: str, width: int = 520, height: int = 160
) -> str:
    """Render a daily rate (0..1) as a fluid inline SVG line; days without data break the line."""
    plot_w, plot_h = width - _PAD_L - _PAD_R, height - _PAD_B - _PAD_T
    step = plot_w / max(len(days) - 1, 1)
    xs = [_PAD_L + i * step for i in range(len(days))]
    segments: list[list[str]] = [[]]
    for i, (_, rate) in enumerate(days):
        if rate is None:
            segments.append([])
            continue
        segments[-1].append(f"{xs[i]:.1f},{_PAD_T + (1 - rate) * plot_h:.1f}")
    lines = "".join(
        f'<polyline points="{" ".join(s)}" fill="none" stroke="{PALETTE[2]}" stroke-width="2"/>'
        for s in segments
        if len(s) > 1
    )
    dots = "".join(
        f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="{PALETTE[2]}"/>'
        for s in segments
        for p in s
    )
    return "".join(
        [
            _open(width, height, title),
            _y_axis(width, plot_h, [0, 0.25, 0.5, 0.75, 1.0], "{:.0%}"),
            lines,
            dots,
            _x_axis([d for d, _ in days], xs, height),
            "</svg>",
        ]
    )


STRIP_COLOURS = {"P": "#1a7f37", "F": "#cf222e", "K": PALETTE[1], "S": "#8c959f"}
STRIP_NAMES = {"P": "passed", "F": "failed", "K": "flaky", "S": "other"}


def svg_strip(history: str, *, title: str, width: int = 520, height: int = 64) -> str:
    """Render one letter per run (P, F, K, S; oldest first) as a fluid strip of coloured cells."""
    plot_w = width - _PAD_L - _PAD_R
    cell = plot_w / max(len(history), 1)
    parts = [_open(width, height, title)]
    for i, letter in enumerate(history):
        colour = STRIP_COLOURS.get(letter, STRIP_COLOURS["S"])
        name = STRIP_NAMES.get(letter, "other")
        parts.append(
            f'<rect x="{_PAD_L + i * cell + 1:.1f}" y="{_PAD_T}" width="{max(cell - 2, 1):.1f}" '
            f'height="{height - _PAD_T - 18}" fill="{colour}"><title>run {i + 1}: {name}</title>'
            "</rect>"
        )
    if history:
        parts.append(
            f'<text x="{_PAD_L}" y="{height - 4}" font-size="12">oldest</text>'
            f'<text x="{width - _PAD_R}" y="{height - 4}" font-size="12" text-anchor="end">'
            f"latest ({len(history)} runs)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
