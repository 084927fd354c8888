"""Multi-objective search by random scalarization (ParEGO): every suggestion asks a
single-objective method about a different weighting of the objectives, so that over the search
the suggestions spread along the whole Pareto front instead of one point of it.

Objectives are rescaled to [0, 1] over the trials so far and combined with the augmented
Chebyshev function ``max(w * f) + 0.05 * sum(w * f)``, whose minima reach every Pareto-optimal
point (a weighted sum only reaches the convex part of the front). Weights are drawn from a
flat Dirichlet distribution, seeded by the search's seed and its progress.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from hypermax.optimizers.base import Optimizer
from hypermax.space import Flat
from hypermax.trial import Trial, TrialStatus

AUGMENTATION = 0.05


class Scalarized(Optimizer):
    """Wraps a single-objective method; not a ``search.method`` of its own."""

    def __init__(
        self,
        inner: Optimizer,
        objectives: Callable[[Trial], list[float] | None],
        seed: int | None = None,
    ):
        super().__init__(inner.space, seed)
        inner.stateless()
        self.inner = inner
        self.objectives = objectives

    def describe(self) -> str:
        return f"{self.inner.describe()}, on random weightings of the objectives (pareto)"

    def prepare(self, flat: Flat) -> Flat:
        return self.inner.prepare(flat)

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        scored = {t.number: self.objectives(t) for t in history if t.status.finished}
        known = np.array([v for v in scored.values() if v is not None], dtype=float)
        picks: list[Flat] = []
        for offset in range(n):
            weights = np.random.default_rng(self.seed_for(history, offset)).dirichlet(
                np.ones(known.shape[1] if known.size else 1)
            )
            told = [self._told(t, scored.get(t.number), known, weights) for t in history]
            pending = [
                Trial(-1 - i, flat, {}, TrialStatus.RUNNING) for i, flat in enumerate(picks)
            ]
            picks += self.inner.suggest(told + pending, 1)
        return picks

    @staticmethod
    def _told(
        trial: Trial, values: list[float] | None, known: np.ndarray, weights: np.ndarray
    ) -> Trial:
        """The trial as the inner method sees it: its loss is the scalarized objectives."""
        if not trial.status.finished:
            return trial
        if values is None:  # failed or killed: worse than any trial with objectives
            return replace(trial, loss=1.0 + AUGMENTATION if trial.has_loss else None)
        low, high = known.min(axis=0), known.max(axis=0)
        scaled = (np.array(values) - low) / np.where(high > low, high - low, 1.0)
        weighted = weights * scaled
        return replace(trial, loss=float(weighted.max() + AUGMENTATION * weighted.sum()))
