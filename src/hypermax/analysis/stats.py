"""Correlations, hotspot grids, parameter-vs-loss slices, loss history and coverage.

Each function returns plain data (dataclasses); renderers (HTML, PNG, CSV, console) draw it.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from hypermax.analysis.table import MISSING, AnalysisError, Column, TrialTable
from hypermax.space import BranchNode, ChoiceNode, NumberNode


@dataclass
class Correlation:
    """How one parameter (or one value of a categorical one) moves with a target."""

    parameter: str
    target: str
    spearman: float
    pearson: float
    trials: int


def _features(column: Column) -> list[tuple[str, np.ndarray]]:
    """Numeric columns as they are (log10 for log-scaled ones); categorical ones one-hot."""
    if column.numeric:
        values = column.numbers()
        return [(column.name, np.log10(values) if column.log else values)]
    return [
        (
            f"{column.name}={category}",
            np.array([math.nan if v is MISSING else float(v == category) for v in column.values]),
        )
        for category in column.categories()
    ]


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    keep = np.isfinite(x) & np.isfinite(y)
    count = int(keep.sum())
    if count < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return math.nan, math.nan, count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spearman = float(stats.spearmanr(x[keep], y[keep]).statistic)
        pearson = float(stats.pearsonr(x[keep], y[keep]).statistic)
    return spearman, pearson, count


def correlations(table: TrialTable) -> list[Correlation]:
    """Spearman and linear correlation of every parameter with the loss and each metric."""
    targets = {"loss": table.loss, **table.metrics}
    rows = []
    for column in table.columns.values():
        for name, values in _features(column):
            for target, y in targets.items():
                spearman, pearson, count = _pair(values, y)
                rows.append(Correlation(name, target, spearman, pearson, count))
    return rows


@dataclass
class Bins:
    """How one axis of a grid or slice is cut: labels and, for numbers, the edges."""

    labels: list[str]
    index: np.ndarray  # bin of each trial, -1 where the parameter is missing
    centers: list[float] | None = None


def bins_for(column: Column, count: int = 8) -> Bins:
    """Log-spaced bins for log-scaled numbers, even bins for others, one per category."""
    if not column.numeric:
        categories = column.categories()
        index = np.array([-1 if v is MISSING else categories.index(v) for v in column.values])
        return Bins([str(c) for c in categories], index)
    values = column.numbers()
    present = values[np.isfinite(values)]
    low = column.low if column.low is not None else float(present.min())
    high = column.high if column.high is not None else float(present.max())
    low, high = min(low, float(present.min())), max(high, float(present.max()))
    if column.integer and high - low + 1 <= count:  # one bin per whole number
        values_in = [int(v) for v in range(int(low), int(high) + 1)]
        index = np.array([-1 if not math.isfinite(v) else values_in.index(int(v)) for v in values])
        return Bins([str(v) for v in values_in], index, [float(v) for v in values_in])
    if column.log and low > 0:
        edges = np.geomspace(low, high, count + 1)
    else:
        edges = np.linspace(low, high, count + 1)
    index = np.where(
        np.isfinite(values), np.clip(np.searchsorted(edges, values, "right") - 1, 0, count - 1), -1
    )
    centers = [
        float(np.sqrt(a * b) if column.log and low > 0 else (a + b) / 2)
        for a, b in itertools.pairwise(edges)
    ]
    labels = [f"{a:.3g}–{b:.3g}" for a, b in itertools.pairwise(edges)]
    return Bins(labels, index, centers)


@dataclass
class HotspotGrid:
    """Loss statistics over a grid of two parameters; NaN where no trial fell in a cell."""

    x: str
    y: str
    x_labels: list[str]
    y_labels: list[str]
    mean: list[list[float]]
    median: list[list[float]]
    minimum: list[list[float]]
    count: list[list[int]]


def hotspot_grid(table: TrialTable, x: str, y: str, bins: int = 8) -> HotspotGrid:
    """Where in the plane of two parameters the loss is low (mean, median, min per cell)."""
    for name in (x, y):
        if name not in table.columns:
            known = ", ".join(table.columns)
            raise AnalysisError(f"no parameter {name!r} varies in this search; known: {known}")
    xb, yb = bins_for(table.columns[x], bins), bins_for(table.columns[y], bins)
    shape = (len(yb.labels), len(xb.labels))
    mean, median, minimum = (
        np.full(shape, math.nan),
        np.full(shape, math.nan),
        np.full(shape, math.nan),
    )
    count = np.zeros(shape, dtype=int)
    for row in range(shape[0]):
        for col in range(shape[1]):
            cell = table.loss[(yb.index == row) & (xb.index == col)]
            count[row, col] = len(cell)
            if len(cell):
                mean[row, col], median[row, col] = cell.mean(), np.median(cell)
                minimum[row, col] = cell.min()
    return HotspotGrid(
        x,
        y,
        xb.labels,
        yb.labels,
        mean.tolist(),
        median.tolist(),
        minimum.tolist(),
        count.tolist(),
    )


@dataclass
class Slice:
    """One parameter against the loss: every trial, and a binned trend."""

    parameter: str
    numeric: bool
    log: bool
    values: list[object]
    losses: list[float]
    bin_labels: list[str]
    bin_centers: list[float] | None
    bin_mean: list[float]
    bin_min: list[float]


def slices(table: TrialTable, bins: int = 10) -> list[Slice]:
    """Parameter-vs-loss for every parameter that varies."""
    result = []
    for column in table.columns.values():
        cut = bins_for(column, bins)
        present = cut.index >= 0
        means, minimums = [], []
        for position in range(len(cut.labels)):
            inside = table.loss[cut.index == position]
            means.append(float(inside.mean()) if len(inside) else math.nan)
            minimums.append(float(inside.min()) if len(inside) else math.nan)
        values = [v for v, keep in zip(column.values, present, strict=True) if keep]
        result.append(
            Slice(
                column.name,
                column.numeric,
                column.log,
                values,
                table.loss[present].tolist(),
                cut.labels,
                cut.centers,
                means,
                minimums,
            )
        )
    return result


@dataclass
class History:
    """The loss of each trial in order, and the best so far."""

    trials: list[int]
    loss: list[float]
    best_so_far: list[float]


def history(table: TrialTable) -> History:
    order = np.argsort(table.numbers)
    losses = table.loss[order]
    return History(
        table.numbers[order].tolist(), losses.tolist(), np.minimum.accumulate(losses).tolist()
    )


@dataclass
class Coverage:
    """How well the trials cover each parameter's range (share of its bins with a trial)."""

    parameter: str
    trials: int
    distinct: int
    covered: float


@dataclass
class SpaceSummary:
    cardinality: float
    parameters: int
    coverage: list[Coverage]


def space_summary(table: TrialTable, bins: int = 10) -> SpaceSummary:
    """Coverage of every parameter of the space, the ones tried once or never included."""
    space = table.space
    names = list(table.columns)
    if space is not None:
        names = list(
            dict.fromkeys(
                [n.path for n in space.parameters()]
                + [n.branch_key for n in space.nodes() if isinstance(n, BranchNode)]
            )
        )
    branch_sizes = {
        n.branch_key: len(n.branches)
        for n in (space.nodes() if space else [])
        if isinstance(n, BranchNode)
    }
    coverage = []
    for name in names:
        column = table.columns.get(name)
        values = column.values if column else table.raw.get(name, [])
        present = [v for v in values if v is not MISSING]
        distinct = len({repr(v) for v in present})
        coverage.append(
            Coverage(
                name,
                len(present),
                distinct,
                _covered(column, name, distinct, branch_sizes, space, bins),
            )
        )
    cardinality = space.cardinality() if space is not None else math.inf
    parameters = len(space.parameters()) if space is not None else len(coverage)
    return SpaceSummary(cardinality, parameters, coverage)


def _covered(
    column: Column | None,
    name: str,
    distinct: int,
    branch_sizes: dict[str, int],
    space: Any,
    bins: int,
) -> float:
    """Share of a parameter's possible values (or range bins) that some trial tried."""
    if name in branch_sizes:
        return distinct / branch_sizes[name]
    node = next((n for n in space.parameters() if n.path == name), None) if space else None
    if isinstance(node, ChoiceNode):
        return distinct / len(node.values)
    if (
        isinstance(node, NumberNode)
        and math.isfinite(node.cardinality())
        and (node.cardinality() <= bins)
    ):
        return distinct / node.cardinality()
    if column is None or not column.numeric:
        return 1.0 if distinct else 0.0
    cut = bins_for(column, bins)
    return len({int(i) for i in cut.index if i >= 0}) / len(cut.labels)
