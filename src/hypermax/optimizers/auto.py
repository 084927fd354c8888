"""``auto``, the default: the method that measured best for where the search stands.

On the quality benchmark (``benchmarks/RESULTS.md``: eight problems, 25/50/100 trials) Gaussian
processes lead. Optuna's GP sampler (``optuna-gp``, which needs torch) is best on spaces of
plain numbers and choices; our own GP (``bayesian``) is close behind it there, and far ahead of
it on conditional spaces, where Optuna's sampler draws the conditional parameters at random.
So ``auto`` runs ``optuna-gp`` where torch is installed and the space has no branches or
variable-length lists, and ``bayesian`` otherwise. A GP's cost per suggestion grows with the
cube of the trials and its model loses its edge in very many dimensions, so ``auto`` hands
over to TPE (which learns from all trials, the GP's included) past ``gp_trials`` finished
trials or where the space encodes to more than ``gp_dimensions`` inputs.

Settings (``search.auto``): ``gp_trials`` (300), ``gp_dimensions`` (64), ``optuna_gp`` (use it
where it suits, true), and ``bayesian`` / ``optuna-gp`` / ``tpe`` (settings passed to those
methods).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypermax.optimizers.base import Optimizer, create_optimizer, register
from hypermax.optimizers.bayesian import Bayesian
from hypermax.optimizers.optuna_gp import gp_extra_missing
from hypermax.space import ArrayNode, BranchNode, Flat, Space
from hypermax.trial import Trial


@register("auto")
class Auto(Optimizer):
    """A Gaussian process (Optuna's or ours, by space), then TPE once a GP would be slow."""

    def __init__(self, space: Space, seed: int | None = None, **settings: Any):
        super().__init__(space, seed, **settings)
        self.gp_trials = int(settings.get("gp_trials", 300))
        gp_dimensions = int(settings.get("gp_dimensions", 64))
        self.gp_fits = len(Bayesian(space).encode(space.default())) <= gp_dimensions
        gp = (
            "optuna-gp"
            if settings.get("optuna_gp", True) and optuna_gp_suits(space)
            else "bayesian"
        )
        self.gp = create_optimizer(gp, space, seed=self.seed, settings=settings.get(gp))
        self.tpe = create_optimizer("tpe", space, seed=self.seed, settings=settings.get("tpe"))

    def stateless(self) -> None:
        self.gp.stateless()
        self.tpe.stateless()

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        return self.method_for(history).suggest(history, n)

    def describe(self) -> str:
        if not self.gp_fits:
            return "auto: tpe (the space is wider than gp_dimensions for a GP)"
        return f"auto: {self.gp.name}, then tpe from {self.gp_trials} finished trials"

    def method_for(self, history: Sequence[Trial]) -> Optimizer:
        finished = sum(1 for trial in history if trial.status.finished)
        return self.gp if self.gp_fits and finished < self.gp_trials else self.tpe


def optuna_gp_suits(space: Space) -> bool:
    """Whether Optuna's GP is installed and measured ahead of ours on spaces like this one."""
    conditional = any(
        isinstance(node, BranchNode)
        or (isinstance(node, ArrayNode) and node.min_items < node.max_items)
        for node in space.nodes()
    )
    return not conditional and not gp_extra_missing()
