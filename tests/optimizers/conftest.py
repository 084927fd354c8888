"""Helpers for optimizer tests: a whole ask/tell loop on a known function, no processes."""

from __future__ import annotations

from collections.abc import Callable

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
