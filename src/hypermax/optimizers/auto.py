"""``auto``, the default: the method that measured best for where the search stands.

On the quality benchmark (``benchmarks/RESULTS.md``: eight problems, 25/50/100 trials) the
Gaussian process (``bayesian``) has the best average rank of hypermax's methods and beats
Hyperopt's and Optuna's TPE on numeric, mixed and conditional spaces alike; only Optuna's GP
sampler, which needs torch, ranks ahead of it. Its cost per suggestion grows with the cube of
the trials and its model loses its edge in very many dimensions, so ``auto`` hands over to TPE
(which learns from all trials, the GP's included) past ``gp_trials`` finished trials or where
the space encodes to more than ``gp_dimensions`` inputs.

Settings (``search.auto``): ``gp_trials`` (300), ``gp_dimensions`` (64), and ``bayesian`` /
``tpe`` (settings passed to those methods).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypermax.optimizers.base import Optimizer, create_optimizer, register
from hypermax.optimizers.bayesian import Bayesian
from hypermax.space import Flat, Space
from hypermax.trial import Trial


@register("auto")
class Auto(Optimizer):
    """Bayesian optimization, then TPE once the GP would be slow or out of its depth."""

    def __init__(self, space: Space, seed: int | None = None, **settings: Any):
        super().__init__(space, seed, **settings)
        self.gp_trials = int(settings.get("gp_trials", 300))
        gp_dimensions = int(settings.get("gp_dimensions", 64))
        self.gp = Bayesian(space, seed=self.seed, **settings.get("bayesian", {}))
        self.tpe = create_optimizer("tpe", space, seed=self.seed, settings=settings.get("tpe"))
        self.gp_fits = len(self.gp.encode(space.default())) <= gp_dimensions

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        return self.method_for(history).suggest(history, n)

    def method_for(self, history: Sequence[Trial]) -> Optimizer:
        finished = sum(1 for trial in history if trial.status.finished)
        return self.gp if self.gp_fits and finished < self.gp_trials else self.tpe
