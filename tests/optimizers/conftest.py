"""Helpers for optimizer tests: a whole ask/tell loop on a known function, no processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus


def best_after(
    method: str,
    space: Space,
    loss: Callable[[dict], float],
    seed: int,
    trials: int,
    settings: dict | None = None,
) -> float:
    """The best loss ``method`` finds on ``loss`` in ``trials`` sequential trials."""
    optimizer = create_optimizer(method, space, seed=seed, settings=settings)
    history: list[Trial] = []
    for number in range(1, trials + 1):
        (flat,) = optimizer.suggest(history, 1)
        history.append(Trial(number, flat, flat, TrialStatus.OK, loss=loss(flat)))
    return min(t.loss for t in history)  # type: ignore[type-var]


SLOW_METHODS = ("optuna-gp", "atpe")  # a second or more per suggestion on a loaded machine
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The conformance tests' rows of the slow methods are ``slow`` (30 to 300 s each when
    the machine is busy); the other methods' rows keep a quick run quick and thorough."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if HERE not in item.path.parents or callspec is None:
            continue
        if any(value in SLOW_METHODS for value in callspec.params.values()):
            item.add_marker(pytest.mark.slow)
