"""Inline SVG charts of the KPI page: labelled bars with an axis, lines with a legend.

Colours are set with ``style`` so the page's CSS for chart text cannot override them; every chart
keeps its labels inside its own box (nothing clipped at the edges).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from sapbridge.money import ZERO

__all__ = ["BAR_COLOURS", "SERIES_COLOURS", "bar_chart", "compact", "line_chart"]

BAR_COLOURS = ["#4c9a2a", "#c9a227", "#e08a2c", "#d3542f", "#a4231b"]
"""Aging buckets from current (green) to oldest (dark red)."""

SERIES_COLOURS = ["#1f5fa8", "#c0392b", "#27ae60"]


def compact(value: Decimal) -> str:
    """A short label for an amount: 950, 12.3k, 4.5M, 1.2bn."""
    size = abs(value)
    for limit, suffix in ((Decimal(10) ** 9, "bn"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if size >= limit:
            shown = (value / limit).quantize(Decimal("0.1"))
            return f"{shown:f}".removesuffix(".0") + suffix
    return f"{value.quantize(Decimal(1)):f}"


def _text(x: float, y: float, content: str, *, anchor: str = "middle", colour: str = "#333",
          size: int = 11, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
            f'style="fill:{colour};font-size:{size}px;font-weight:{weight}">{escape(content)}</text>')


def bar_chart(title: str, unit: str, labels: Sequence[str], values: Sequence[Decimal]) -> str:
    """Vertical bars of (signed) amounts with their value on each bar and a labelled axis."""
    width, height, left, right, top, bottom = 440, 240, 52, 12, 40, 40
    highest, lowest = max([ZERO, *values]), min([ZERO, *values])
    span = (highest - lowest) or Decimal(1)
    plot_w, plot_h = width - left - right, height - top - bottom
    zero_y = top + plot_h * float(highest / span)
    slot = plot_w / max(len(labels), 1)
    parts = [_text(width / 2, 16, title, size=13, weight="bold"),
             _text(left - 6, top + 4, compact(highest), anchor="end"),
             _text(left - 6, zero_y + 4, "0", anchor="end"),
             _text(8, top - 10, unit, anchor="start", colour="#666"),
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>',
             f'<line x1="{left}" y1="{zero_y:.1f}" x2="{width - right}" y2="{zero_y:.1f}" stroke="#999"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        size = float(abs(value) / span) * plot_h
        y = zero_y - size if value >= 0 else zero_y
        x = left + i * slot + slot * 0.15
        colour = BAR_COLOURS[min(i, len(BAR_COLOURS) - 1)]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{size:.1f}" '
                     f'style="fill:{colour}"><title>{escape(label)}: {value:,f} {escape(unit)}</title>'
                     "</rect>")
        value_y = y - 4 if value >= 0 else y + size + 12
        parts.append(_text(x + slot * 0.35, value_y, compact(value), weight="bold"))
        parts.append(_text(x + slot * 0.35, height - bottom + 16, label))
    parts.append(_text(left + plot_w / 2, height - 6, "days past due", colour="#666"))
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(title)}">{"".join(parts)}</svg>')


def line_chart(title: str, unit: str, labels: Sequence[str],
               series: dict[str, Sequence[Decimal | None]]) -> str:
    """One line per series over the same x labels (gaps where a value is missing), with a legend."""
    width, height, left, right, top, bottom = 460, 250, 52, 28, 40, 56
    known = [v for values in series.values() for v in values if v is not None]
    high = max(known, default=Decimal(1)) or Decimal(1)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    parts = [_text(width / 2, 16, title, size=13, weight="bold"),
             _text(8, top - 10, unit, anchor="start", colour="#666"),
             _text(left - 6, top + 4, f"{high.quantize(Decimal(1)):f}", anchor="end"),
             _text(left - 6, top + plot_h + 4, "0", anchor="end"),
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
             'stroke="#999"/>']
    for i, label in enumerate(labels):
        parts.append(_text(left + i * step, top + plot_h + 16, label))
    for n, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        points = [(left + i * step, top + plot_h - float(max(v, ZERO) / high) * plot_h, v)
                  for i, v in enumerate(values) if v is not None]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(f'<polyline points="{path}" style="fill:none;stroke:{colour};stroke-width:2"/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" style="fill:{colour}">'
                      f"<title>{escape(name)}: {v:f}</title></circle>" for x, y, v in points]
            last_x, last_y, last_v = points[-1]
            label_y = last_y - 7 if n % 2 == 0 else last_y + 15  # two series ending close stay legible
            parts.append(_text(last_x, label_y, f"{last_v.quantize(Decimal(1)):f}", colour=colour,
                               weight="bold"))
        legend_x = left + n * 150
        parts.append(f'<rect x="{legend_x}" y="{height - 16}" width="10" height="10" style="fill:{colour}"/>')
        parts.append(_text(legend_x + 14, height - 7, name, anchor="start", colour=colour))
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(title)}">{"".join(parts)}</svg>')
