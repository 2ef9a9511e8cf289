"""The evidence pack's charts as PNG images for the .docx report: participation rate by unit (the
minimum rate drawn as a line, units under it in red), attempts by day, and the score histogram.

Drawn with matplotlib's object API (a Figure per chart, no pyplot state, so export threads do not
share a figure) on the Agg canvas, in the DejaVu Sans font matplotlib ships, which carries every
Vietnamese letter: the images look the same on any server, with no system font installed. The caller
passes the figures (contest.results.stats) and the words; numbers are written as Vietnamese readers
write them (contest.i18n).
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Sequence

from contest.i18n import format_number, format_percentage, nfc

BLUE, RED, GREY, INK = "#0b5cad", "#c62828", "#9aa3ad", "#1b1f24"  # as the pages' SVG charts
FONT = "DejaVu Sans"
DPI = 150
WIDTH_INCHES = 6.3  # about the 16 cm between an A4 page's margins
MAX_BARS = 40  # beyond this the highest and lowest halves are drawn, as the pages do


@dataclass(frozen=True)
class Bar:
    label: str
    value: float


def _figure(height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _style(axes, title: str) -> None:
    axes.set_title(nfc(title), fontfamily=FONT, fontsize=11, color=INK, loc="left")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8, colors=INK)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        label.set_fontfamily(FONT)


def _clip(label: str, limit: int = 48) -> str:
    """A long unit path keeps its end, where the unit's own name is."""
    return label if len(label) <= limit else "…" + label[-(limit - 1):].lstrip()


def rate_bars(bars: Sequence[Bar], *, title: str, threshold: float | None, threshold_text: str,
              more_text: str) -> bytes:
    """Horizontal bars of rates (0..1), highest first; bars under `threshold` red, the threshold a dashed
    line. Beyond MAX_BARS the highest and lowest halves are drawn, `more_text` ({n}) marking the gap."""
    rows: list[Bar | None] = list(bars)
    skipped = 0
    if len(rows) > MAX_BARS:
        half = MAX_BARS // 2
        skipped = len(rows) - 2 * half
        rows = [*rows[:half], None, *rows[-half:]]
    figure = _figure(max(1.6, 0.28 * len(rows) + 0.9))
    axes = figure.add_subplot()
    positions = list(range(len(rows)))[::-1]  # the first row at the top
    values = [min(1.0, b.value) if b else 0.0 for b in rows]
    colours = [RED if b and threshold is not None and b.value < threshold else BLUE for b in rows]
    axes.barh(positions, values, color=colours, height=0.6)
    axes.set_yticks(positions, [_clip(nfc(b.label)) if b else more_text.format(n=format_number(skipped))
                                for b in rows])
    for y, bar in zip(positions, rows):
        if bar is not None:
            axes.text(min(1.0, bar.value) + 0.01, y, format_percentage(bar.value), va="center", fontsize=7,
                      fontfamily=FONT, color=INK)
    if threshold is not None:
        axes.axvline(threshold, color=GREY, linestyle="--", linewidth=1)
        axes.text(threshold, len(rows) - 0.4, nfc(threshold_text), fontsize=7, fontfamily=FONT, color=INK,
                  ha="center", va="bottom")
    axes.set_xlim(0, 1.12)
    axes.set_ylim(-0.6, len(rows) + 0.2)
    axes.set_xticks([0, 0.25, 0.5, 0.75, 1.0], [format_percentage(x) for x in (0, 0.25, 0.5, 0.75, 1.0)])
    _style(axes, title)
    figure.tight_layout()
    return _png(figure)


def columns(bars: Sequence[Bar], *, title: str, y_title: str, label_every: int = 1, show_values: bool = False
            ) -> bytes:
    """Vertical columns of counts over their labels (every `label_every`-th written)."""
    figure = _figure(2.8)
    axes = figure.add_subplot()
    positions = list(range(len(bars)))
    axes.bar(positions, [b.value for b in bars], color=BLUE, width=0.8)
    step = max(1, label_every)
    # Long labels (the score buckets) break onto a second line rather than run into each other.
    axes.set_xticks(positions[::step], [textwrap.fill(nfc(b.label), 16) for b in bars][::step])
    if show_values:
        for x, bar in zip(positions, bars):
            axes.text(x, bar.value, format_number(int(bar.value)), ha="center", va="bottom", fontsize=8,
                      fontfamily=FONT, color=INK)
    axes.set_ylabel(nfc(y_title), fontfamily=FONT, fontsize=8, color=INK)
    axes.yaxis.set_major_formatter(lambda value, _: format_number(int(value)) if value == int(value) else "")
    axes.set_ylim(0, max([b.value for b in bars] + [1]) * 1.15)
    _style(axes, title)
    figure.tight_layout()
    return _png(figure)
