"""Grid search: every combination of enum values, whole numbers and ``resolution`` points of
each continuous parameter, in order, each point once.

Settings (``search.grid``): ``GridSearch.Settings``; a grid of more than ``max_points`` is
refused before anything runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.optimizers.base import MethodSettings, Optimizer, SettingsInput, register
from hypermax.settings import spec
from hypermax.space import (
    ArrayNode,
    BranchNode,
    ChoiceNode,
    ConstantNode,
    Flat,
    Node,
    NumberNode,
    ObjectNode,
    Space,
)
from hypermax.trial import Trial


@register("grid")
class GridSearch(Optimizer):
    """Enumerates the space's grid; suggests fewer sets than asked once it is exhausted."""

    uses_seed = False  # the order is the grid's own

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """Grid search (search.grid)."""

        resolution: int = field(
            default=5, metadata=spec("Points per continuous parameter.", minimum=2)
        )
        resolutions: Mapping[str, int] = field(
            default_factory=dict,
            metadata=spec(
                "Points per parameter, by flat name.",
                additionalProperties={"type": "integer", "minimum": 1},
            ),
        )
        max_points: int = field(default=10_000, metadata=spec("Refuse a larger grid.", minimum=1))

    settings: Settings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        super().__init__(space, seed, settings)
        limit = self.settings.max_points
        self.size = self._count(space.root)
        if self.size > limit:
            raise ConfigError(
                ConfigIssue(
                    "search.grid",
                    f"the grid has {self.size:.3g} points, more than max_points ({limit}); "
                    "lower resolution, fix some parameters, or raise max_points",
                )
            )

        self._grid: list[Flat] | None = None  # built on first use
        self._seen: set[str] = set()
        self._seen_from = 0  # how much of the (append-only) history ``_seen`` holds
        self._done = 0  # every grid point before this index is in the history

    def points(self) -> Iterator[Flat]:
        """Every grid point, in order."""
        return self._points(self.space.root)

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        """The first ``n`` grid points not in the history (the same history, the same points;
        the caches only spare rescanning what the history already covers)."""
        if self._grid is None:
            self._grid = list(self.points())
        if len(history) < self._seen_from:  # another history than before: start over
            self._seen, self._seen_from, self._done = set(), 0, 0
        self._seen.update(_key(trial.flat) for trial in history[self._seen_from :])
        self._seen_from = len(history)
        while self._done < len(self._grid) and _key(self._grid[self._done]) in self._seen:
            self._done += 1
        fresh = (p for p in self._grid[self._done :] if _key(p) not in self._seen)
        return list(itertools.islice(fresh, n))

    def values(self, node: NumberNode) -> list[float | int]:
        """The grid values of one number: every allowed value if there are few, else evenly
        spaced points (on a log scale for log parameters)."""
        count = self.settings.resolutions.get(node.path, self.settings.resolution)
        if math.isfinite(node.cardinality()) and node.cardinality() <= count:
            step = node.rounding or 1
            low = node.low if node.low is not None else 0
            values = [node.finish(low + i * step) for i in range(int(node.cardinality()))]
            return sorted(set(values))
        if node.low is None or node.high is None:  # normal mode without bounds: mean ± 2σ
            assert node.mean is not None and node.stddev is not None
            center = math.log(node.mean) if node.log else node.mean
            raw = np.linspace(center - 2 * node.stddev, center + 2 * node.stddev, count)
            raw = np.exp(raw) if node.log else raw
        elif node.log:
            raw = np.geomspace(node.low, node.high, count)
        else:
            raw = np.linspace(node.low, node.high, count)
        return list(dict.fromkeys(node.finish(float(v)) for v in raw))

    def _count(self, node: Node) -> float:
        if isinstance(node, NumberNode):
            count = self.settings.resolutions.get(node.path, self.settings.resolution)
            finite = math.isfinite(node.cardinality())
            return node.cardinality() if finite and node.cardinality() <= count else count
        if isinstance(node, ChoiceNode):
            return float(len(node.values))
        if isinstance(node, ObjectNode):
            return math.prod(self._count(child) for child in node.properties.values())
        if isinstance(node, BranchNode):
            return sum(self._count(branch) for branch in node.branches)
        if isinstance(node, ArrayNode):
            return sum(
                math.prod(self._count(item) for item in node.items[:length])
                for length in range(node.min_items, node.max_items + 1)
            )
        return 1.0

    def _points(self, node: Node) -> Iterator[Flat]:
        if isinstance(node, NumberNode):
            yield from ({node.path: value} for value in self.values(node))
        elif isinstance(node, ChoiceNode):
            yield from ({node.path: value} for value in node.values)
        elif isinstance(node, ConstantNode):
            yield {node.path: node.value}
        elif isinstance(node, ObjectNode):
            yield from _product([node_ for node_ in node.properties.values()], self._points)
        elif isinstance(node, BranchNode):
            for position, branch in enumerate(node.branches):
                for point in self._points(branch):
                    yield {node.branch_key: position, **point}
        elif isinstance(node, ArrayNode):
            for length in range(node.min_items, node.max_items + 1):
                yield from _product(node.items[:length], self._points)


def _product(nodes: Sequence[Node], points: Any) -> Iterator[Flat]:
    """Every combination of the sub-grids of ``nodes``, merged into one flat set each."""
    if not nodes:
        yield {}
        return
    for combination in itertools.product(*(list(points(n)) for n in nodes)):
        merged: Flat = {}
        for part in combination:
            merged.update(part)
        yield merged


def _key(flat: Flat) -> str:
    return repr(sorted(flat.items(), key=lambda item: item[0]))
