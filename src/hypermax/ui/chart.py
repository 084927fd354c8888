"""The loss chart drawn in text: every trial's loss as a dot and the best so far as a line,
in braille cells (2 × 4 dots a character), with the axis figures around them.

``loss_chart_info`` computes what to draw (backend-neutral), ``render_chart`` draws it into a
given width and height; the console UI shows the result in a widget that redraws on resize.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

from hypermax.trial import Trial, TrialStatus

# braille dot bits by (column, row) inside one character cell
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
_BRAILLE = 0x2800


@dataclass(frozen=True)
class ChartInfo:
    """What the chart shows: (trial number, loss) of each trial with a loss, the best-so-far
    steps, and whether the y axis is logarithmic (losses at or below 0 are then left out)."""

    points: list[tuple[int, float]]
    best: list[tuple[int, float]]
    log: bool
    hidden: int = 0  # trials with a loss left out (at or below 0 on a log axis)


def loss_chart_info(trials: list[Trial], last: int | None = None, log: bool = False) -> ChartInfo:
    """The trials with a finite loss, in trial order (the last ``last`` of them when given),
    and the best loss so far among the successful ones."""
    scored = sorted(
        (t for t in trials if t.has_loss and t.status is not TrialStatus.RUNNING),
        key=lambda t: t.number,
    )
    best: list[tuple[int, float]] = []
    lowest = math.inf
    for trial in scored:
        if trial.status is TrialStatus.OK and trial.loss is not None and trial.loss < lowest:
            lowest = trial.loss
        if math.isfinite(lowest):
            best.append((trial.number, lowest))
    points = [(t.number, float(t.loss)) for t in scored if t.loss is not None]
    if last is not None:
        points, best = points[-last:], best[-last:]
    hidden = 0
    if log:
        kept = [p for p in points if p[1] > 0]
        hidden = len(points) - len(kept)
        points, best = kept, [b for b in best if b[1] > 0]
    return ChartInfo(points, best, log, hidden)


def _figure(value: float) -> str:
    return f"{value:.4g}"


def render_chart(info: ChartInfo, width: int, height: int) -> Text:
    """The chart in ``width`` × ``height`` characters: y figures on the left, trial numbers
    below, dots for the trials and a line for the best so far."""
    if not info.points:
        return Text("no trial has a loss yet" if not info.hidden else "no loss above 0 to draw")
    ys = [y for _, y in info.points] + [y for _, y in info.best]
    scale = math.log10 if info.log else float
    low, high = scale(min(ys)), scale(max(ys))
    if high - low < 1e-12:
        low, high = low - 1, high + 1
    first = min(x for x, _ in info.points)
    last = max(x for x, _ in info.points)
    top_label = _figure(max(ys))
    bottom_label = _figure(min(ys))
    margin = max(len(top_label), len(bottom_label)) + 1
    plot_w, plot_h = max(width - margin, 4), max(height - 2, 2)
    dots_w, dots_h = plot_w * 2, plot_h * 4
    cells = [[0] * plot_w for _ in range(plot_h)]
    kind = [[""] * plot_w for _ in range(plot_h)]

    def place(x: float, y: float, style: str) -> None:
        column = 0 if last == first else round((x - first) / (last - first) * (dots_w - 1))
        row = round((high - scale(y)) / (high - low) * (dots_h - 1))
        cell_row, cell_col = row // 4, column // 2
        cells[cell_row][cell_col] |= _DOTS[column % 2][row % 4]
        if kind[cell_row][cell_col] != "best":
            kind[cell_row][cell_col] = style

    for x, y in info.points:
        place(x, y, "trial")
    # the best-so-far line: a dot at every horizontal dot position, stepping down
    if info.best:
        steps = dict(info.best)
        numbers = sorted(steps)
        index, current = 0, float(steps[numbers[0]])
        for column in range(dots_w):
            at = first + (last - first) * column / max(dots_w - 1, 1)
            while index < len(numbers) and numbers[index] <= at:
                current = steps[numbers[index]]
                index += 1
            if numbers[0] <= at:
                place(at, current, "best")
    styles = {"trial": "cyan", "best": "bold green", "": ""}
    text = Text(no_wrap=True, overflow="crop")
    for row in range(plot_h):
        label = top_label if row == 0 else bottom_label if row == plot_h - 1 else ""
        text.append(label.rjust(margin - 1) + "│", style="dim")
        for col in range(plot_w):
            bits = cells[row][col]
            text.append(chr(_BRAILLE + bits) if bits else " ", style=styles[kind[row][col]])
        text.append("\n")
    text.append(" " * (margin - 1) + "└" + "─" * plot_w + "\n", style="dim")
    left, right = f"trial {first}", str(last)
    text.append(" " * margin + left + right.rjust(max(plot_w - len(left), 0)), style="dim")
    return text
