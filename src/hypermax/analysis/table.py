"""The trials of a search as columns: the input of every analysis.

Only successful trials (status ``ok``, finite loss) are analysed; a parameter a trial did not
have (the other side of a conditional branch, a shorter list) is missing for that trial.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hypermax.errors import AnalysisError
from hypermax.space import ChoiceNode, NumberNode, Space
from hypermax.storage.export import search_description
from hypermax.storage.results import read_results
from hypermax.trial import Trial, TrialStatus


class _Missing:
    """Marks a parameter a trial did not have (None is a value an enum may hold)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
BRANCH_COLUMN = re.compile(r"(^|\.)\$branch\d*$")


@dataclass
class Column:
    """One flat parameter across trials. ``values`` holds MISSING where a trial lacked it."""

    name: str
    values: list[Any]
    numeric: bool
    log: bool = False
    low: float | None = None
    high: float | None = None
    integer: bool = False
    choices: list[Any] | None = None  # every value the space allows, for categorical columns

    @property
    def present(self) -> np.ndarray:
        return np.array([v is not MISSING for v in self.values])

    @property
    def categorical(self) -> bool:
        return not self.numeric

    def numbers(self) -> np.ndarray:
        """Values as floats (NaN where missing); only for numeric columns."""
        return np.array([math.nan if v is MISSING else float(v) for v in self.values])

    def categories(self) -> list[Any]:
        seen: dict[str, Any] = {}
        for value in self.values:
            if value is not MISSING:
                seen.setdefault(repr(value), value)
        return list(seen.values())


@dataclass
class TrialTable:
    """Successful trials: numbers, loss, time, every metric and every flat parameter."""

    numbers: np.ndarray
    loss: np.ndarray
    time: np.ndarray
    columns: dict[str, Column]
    metrics: dict[str, np.ndarray] = field(default_factory=dict)
    space: Space | None = None
    failed: int = 0
    raw: dict[str, list[Any]] = field(default_factory=dict)  # every flat name, varying or not
    description: dict[str, Any] = field(default_factory=dict)  # storage.export.search_description

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def numeric(self) -> list[Column]:
        return [c for c in self.columns.values() if c.numeric]


def _column(name: str, values: list[Any], space: Space | None) -> Column | None:
    present = [v for v in values if v is not MISSING]
    if len({repr(v) for v in present}) < 2:
        return None  # constant or never present: nothing to learn from it
    nodes = [n for n in space.parameters() if n.path == name] if space is not None else []
    numbers = [n for n in nodes if isinstance(n, NumberNode)]
    if numbers and len(numbers) == len(nodes) and numbers[0].mode != "randint":
        node = numbers[0]  # branches that reuse a path with another kind make it categorical
        return Column(name, values, True, node.log, node.low, node.high, node.integer)
    if len(nodes) == 1 and isinstance(nodes[0], ChoiceNode):
        return Column(name, values, False, choices=list(nodes[0].values))
    is_number = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present)
    if nodes or BRANCH_COLUMN.search(name) or not is_number:
        return Column(name, values, False)
    return Column(name, values, True)


def table_from(trials: list[Trial], space: Space | None = None) -> TrialTable:
    """Build the table; raises AnalysisError when no trial succeeded."""
    good = [t for t in trials if t.status is TrialStatus.OK and t.has_loss]
    failed = sum(1 for t in trials if t.status.finished) - len(good)
    if not good:
        if not trials:
            raise AnalysisError("the search has no trials yet; run it first")
        raise AnalysisError(
            f"no trial has succeeded yet ({failed} failed or killed, "
            f"{len(trials) - failed} not finished); there is nothing to analyse"
        )
    names: dict[str, None] = {}
    for trial in good:
        names.update(dict.fromkeys(trial.flat))
    raw = {name: [t.flat.get(name, MISSING) for t in good] for name in names}
    columns = {}
    for name, values in raw.items():
        column = _column(name, values, space)
        if column is not None:
            columns[name] = column
    metric_names: dict[str, None] = {}
    for trial in good:
        metric_names.update(dict.fromkeys(trial.metrics))
    metrics = {
        name: np.array([float(t.metrics.get(name, math.nan)) for t in good])
        for name in metric_names
    }
    return TrialTable(
        numbers=np.array([t.number for t in good]),
        loss=np.array([float(t.loss) for t in good]),  # type: ignore[arg-type]
        time=np.array([math.nan if t.time is None else t.time for t in good]),
        columns=columns,
        metrics=metrics,
        space=space,
        failed=failed,
        raw=raw,
    )


def load_table(folder: str | Path) -> TrialTable:
    """The table of a results folder (a finished, running or copied search)."""
    results = read_results(Path(folder))
    space = None
    hyperparameters = results.config.get("hyperparameters")
    if hyperparameters is not None:
        space = Space.from_schema(hyperparameters)
    table = table_from(results.trials, space)
    table.description = search_description(results.config)
    return table
