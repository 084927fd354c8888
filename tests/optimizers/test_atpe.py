"""Adaptive TPE: works with negative losses, failures and mixed spaces, and leaves the
global random generators as it found them."""

from __future__ import annotations

import random
import statistics

import numpy as np
import pytest

from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus
from tests.optimizers.conftest import best_after

SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": -5.0, "max": 5.0},
            "n": {"type": "integer", "min": 1, "max": 20},
            "kind": {"enum": ["good", "bad", "worse"]},
        },
    }
)


def shifted(flat: dict) -> float:
    """Negative everywhere: ATPE's own code assumed positive losses."""
    penalty = {"good": 0.0, "bad": 2.0, "worse": 4.0}[flat["kind"]]
    return (flat["x"] - 1.5) ** 2 + 0.05 * abs(flat["n"] - 12) + penalty - 100.0


@pytest.mark.slow
def test_negative_losses_with_integers_and_enums() -> None:
    atpe = [best_after("atpe", SPACE, shifted, seed, 50) for seed in range(3)]
    rand = [best_after("random", SPACE, shifted, seed, 50) for seed in range(3)]
    assert statistics.median(atpe) < -99.5
    assert statistics.median(atpe) < statistics.median(rand)


def test_a_history_of_failures_only_gives_suggestions() -> None:
    optimizer = create_optimizer("atpe", SPACE, seed=3)
    failed = [
        Trial(n, flat, flat, TrialStatus.FAILED)
        for n, flat in enumerate(create_optimizer("random", SPACE, seed=1).suggest([], 12), 1)
    ]
    suggestions = optimizer.suggest(failed, 2)
    assert len(suggestions) == 2
    assert all(SPACE.fits(flat) for flat in suggestions)


def test_global_random_state_is_restored() -> None:
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    create_optimizer("atpe", SPACE, seed=0).suggest([], 3)
    assert (random.random(), np.random.random()) == expected
