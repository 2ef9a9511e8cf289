"""Small inline SVG charts drawn by our own code: no library, no script, nothing fetched.

Each chart is a viewBox 360 units wide (it scales to the phone's width), titled for screen readers
(<title> and role="img"), labelled with text rather than colour alone, and every piece of text is
escaped. The caller formats the numbers (locale) and translates the words; the tables next to each
chart carry the same figures in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from markupsafe import Markup, escape

WIDTH = 360
FONT = 'font-family="system-ui,sans-serif"'
BLUE, RED, GREY, INK = "#0b5cad", "#c62828", "#9aa3ad", "#1b1f24"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the reader sees it, e.g. "45,5%"


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(title: str, height: float, body: list[str]) -> Markup:
    title = escape(title)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_n(height)}" role="img" '
                  f'aria-label="{title}" class="chart" {FONT} font-size="12" fill="{INK}">'
                  f'<title>{title}</title>{"".join(body)}</svg>')


def _clip(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"


def bar_chart(bars: Sequence[Bar], *, title: str, threshold: float | None = None, threshold_text: str = "",
              scale_max: float | None = None, max_rows: int = 24, more_text: str = "… {n} …") -> Markup:
    """Horizontal bars, one row per item (label above its bar), with an optional threshold line;
    bars under the threshold are red. With `scale_max` the axis ends there and longer bars are
    drawn full (their text tells the value: a rate over 100% is a stale headcount). Beyond
    `max_rows` the first and last halves are drawn, so both leaders and laggards stay visible;
    `more_text` ({n}: rows left out) marks the gap."""
    rows: list[Bar | None] = list(bars)
    skipped = 0
    if len(rows) > max_rows:
        half = max_rows // 2
        skipped = len(rows) - 2 * half
        rows = [*rows[:half], None, *rows[-half:]]
    top, row_h, plot_w = 22 if threshold is not None else 6, 32, WIDTH - 4
    biggest = scale_max or max([b.value for b in rows if b] + [threshold or 0, 1e-9])
    height = top + len(rows) * row_h + 4
    body = []
    if threshold is not None:  # drawn first, so bars and labels lie over it
        x = threshold / biggest * plot_w
        anchor = "end" if x > WIDTH / 2 else "start"
        body.append(f'<line x1="{_n(x)}" y1="14" x2="{_n(x)}" y2="{_n(height)}" stroke="{GREY}" '
                    f'stroke-dasharray="4 3"/><text x="{_n(x + (-3 if anchor == "end" else 3))}" y="11" '
                    f'font-size="11" text-anchor="{anchor}">{escape(threshold_text)}</text>')
    for i, bar in enumerate(rows):
        y = top + i * row_h
        if bar is None:
            body.append(f'<text x="0" y="{y + 18}" fill="{GREY}">{escape(more_text.format(n=skipped))}</text>')
            continue
        label = _clip(bar.label, 54)
        tip = f"<title>{escape(bar.label)}: {escape(bar.text)}</title>" if label != bar.label else ""
        width = min(plot_w, max(0.0, bar.value) / biggest * plot_w)
        colour = RED if threshold is not None and bar.value < threshold else BLUE
        inside = width > plot_w - 100  # no room after the bar: write the value inside its end
        value = (f'<text x="{_n(width - 4)}" y="{y + 25}" font-size="11" fill="#fff" text-anchor="end">'
                 if inside else f'<text x="{_n(width + 4)}" y="{y + 25}" font-size="11">')
        body.append(f'<g>{tip}<text x="0" y="{y + 11}">{escape(label)}</text>'
                    f'<rect x="0" y="{y + 15}" width="{_n(width)}" height="12" fill="{colour}"/>'
                    f'{value}{escape(bar.text)}</text></g>')
    return _svg(title, height, body)


def column_chart(bars: Sequence[Bar], *, title: str, label_every: int = 1, show_values: bool = False,
                 height: int = 150) -> Markup:
    """Vertical columns over a row of labels (every `label_every`-th shown); the largest value is
    written on the axis, and each column carries its own label and value as a tooltip."""
    left, right, top, bottom = 34, 4, 16, 20
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    biggest = max([b.value for b in bars] + [1e-9])
    slot = plot_w / max(1, len(bars))
    peak = max(bars, key=lambda b: b.value).text if bars else "0"
    body = [f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{escape(peak)}</text>',
            f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
            f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" y2="{top + plot_h}" stroke="{GREY}"/>',
            f'<line x1="{left}" y1="{top}" x2="{WIDTH - right}" y2="{top}" stroke="{GREY}" stroke-dasharray="2 3"/>']
    for i, bar in enumerate(bars):
        h = max(0.0, bar.value) / biggest * plot_h
        x = left + i * slot + slot * 0.1
        body.append(f'<rect x="{_n(x)}" y="{_n(top + plot_h - h)}" width="{_n(slot * 0.8)}" height="{_n(h)}" '
                    f'fill="{BLUE}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>')
        centre = _n(left + (i + 0.5) * slot)
        if show_values:
            body.append(f'<text x="{centre}" y="{_n(top + plot_h - h - 3)}" font-size="11" '
                        f'text-anchor="middle">{escape(bar.text)}</text>')
        if i % max(1, label_every) == 0:
            body.append(f'<text x="{centre}" y="{height - 6}" font-size="10" '
                        f'text-anchor="middle">{escape(bar.label)}</text>')
    return _svg(title, height, body)


def histogram(bars: Sequence[Bar], *, title: str) -> Markup:
    """A score histogram: a few wide columns, each with its count written above it."""
    return column_chart(bars, title=title, show_values=True, height=170)
