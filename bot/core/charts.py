"""Charts as text: Mermaid xycharts for GitHub and inline SVG for the dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

# Colour-blind-safe palette (Okabe-Ito); the first colour is the one tests look for.
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


def svg_series(
    days: Sequence[date],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    width: int = 640,
    height: int = 200,
) -> str:
    """Render counts per day as an inline SVG of stacked bars, one colour per series."""
    pad_l, pad_b, pad_t = 36, 22, 24
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    totals = [sum(s[i] for s in series.values()) for i in range(len(days))]
    top = max([*totals, 1])
    step = plot_w / max(len(days), 1)
    bar = max(step * 0.8, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{pad_l}" y="16" font-size="13">{escape(title)}</text>',
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 8}" y2="{pad_t + plot_h}" '
        'stroke="#888"/>',
        f'<text x="2" y="{pad_t + 10}" font-size="10">{top}</text>',
        f'<text x="2" y="{pad_t + plot_h}" font-size="10">0</text>',
    ]
    base = [0.0] * len(days)
    for n, (name, counts) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        for i, count in enumerate(counts):
            if not count:
                continue
            h = count / top * plot_h
            y = pad_t + plot_h - base[i] - h
            x = pad_l + i * step + (step - bar) / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(name)} {days[i]}: {count}</title></rect>'
            )
            base[i] += h
    for i in (0, len(days) - 1) if days else ():
        x = pad_l + i * step
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="10">{days[i]:%m-%d}</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(names: Sequence[str]) -> list[tuple[str, str]]:
    """Pair each series name with its colour, in drawing order."""
    return [(name, PALETTE[n % len(PALETTE)]) for n, name in enumerate(names)]


def svg_rate(
    days: Sequence[tuple[date, float | None]], *, title: str, width: int = 640, height: int = 160
) -> str:
    """Render a daily rate (0..1) as an inline SVG line; days without data break the line."""
    pad_l, pad_b, pad_t = 36, 22, 24
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    step = plot_w / max(len(days) - 1, 1)
    segments: list[list[str]] = [[]]
    for i, (_, rate) in enumerate(days):
        if rate is None:
            segments.append([])
            continue
        segments[-1].append(f"{pad_l + i * step:.1f},{pad_t + (1 - rate) * plot_h:.1f}")
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
    labels = "".join(
        f'<text x="{pad_l + i * step:.1f}" y="{height - 6}" font-size="10" '
        f'text-anchor="{"start" if i == 0 else "end"}">{d:%m-%d}</text>'
        for i, (d, _) in enumerate(days)
        if i in (0, len(days) - 1)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
        f'<text x="{pad_l}" y="16" font-size="13">{escape(title)}</text>'
        f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{width - 8}" y2="{pad_t + plot_h}" '
        f'stroke="#888"/><text x="2" y="{pad_t + 10}" font-size="10">100%</text>'
        f'<text x="2" y="{pad_t + plot_h}" font-size="10">0%</text>{lines}{dots}{labels}</svg>'
    )
