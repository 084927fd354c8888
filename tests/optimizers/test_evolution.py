"""Evolution (CMA-ES over the numbers) finds the optimum region and replays deterministically."""

from __future__ import annotations

import statistics

from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus
from tests.optimizers.conftest import best_after

SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "a": {"type": "number", "min": -2, "max": 2},
            "b": {"type": "number", "min": 0.001, "max": 10, "scaling": "logarithmic"},
            "c": {"type": "number", "min": -2, "max": 2},
            "kind": {"enum": ["x", "y"]},
        },
    }
)


def bowl(flat: dict) -> float:
    import math

    return (flat["a"] - 0.5) ** 2 + (math.log10(flat["b"]) - 0.0) ** 2 + (flat["c"] + 1) ** 2


def test_evolution_beats_random_on_a_smooth_bowl() -> None:
    evolution = [best_after("evolution", SPACE, bowl, seed, 80) for seed in range(5)]
    random = [best_after("random", SPACE, bowl, seed, 80) for seed in range(5)]
    assert statistics.median(evolution) < statistics.median(random)
    assert statistics.median(evolution) < 0.05


def test_within_a_generation_no_point_is_suggested_twice() -> None:
    optimizer = create_optimizer("evolution", SPACE, seed=0)
    history: list[Trial] = []
    for number in range(1, 13):
        (flat,) = optimizer.suggest(history, 1)
        history.append(Trial(number, flat, flat, TrialStatus.OK, loss=bowl(flat)))
    assert len({(t.flat["a"], t.flat["c"]) for t in history}) == 12
