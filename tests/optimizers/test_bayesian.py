"""Bayesian optimization (GP + expected improvement) finds the optimum region quickly."""

from __future__ import annotations

import math
import statistics

from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus
from tests.optimizers.conftest import best_after

SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": -5, "max": 10},
            "y": {"type": "number", "min": 0, "max": 15},
        },
    }
)


def branin(flat: dict) -> float:
    x, y = flat["x"], flat["y"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


def test_bayesian_finds_the_branin_optimum_in_few_trials() -> None:
    bayesian = [
        best_after("bayesian", SPACE, branin, seed, 30, {"candidates": 300}) for seed in range(2)
    ]
    random = [best_after("random", SPACE, branin, seed, 30) for seed in range(2)]
    assert max(bayesian) < 1.0
    assert statistics.median(bayesian) < statistics.median(random)


def test_parallel_picks_differ() -> None:
    optimizer = create_optimizer("bayesian", SPACE, seed=0)
    history = [
        Trial(i + 1, flat, flat, TrialStatus.OK, loss=branin(flat))
        for i, flat in enumerate(create_optimizer("random", SPACE, seed=1).suggest([], 12))
    ]
    picks = optimizer.suggest(history, 3)
    assert len({(p["x"], p["y"]) for p in picks}) == 3
