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

Settings (``search.auto``): ``Auto.Settings``, which hold those of ``bayesian``, ``optuna-gp``
and ``tpe`` for the methods it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hypermax.optimizers._hyperopt import TPE
from hypermax.optimizers.base import (
    MethodSettings,
    Optimizer,
    SettingsInput,
    create_optimizer,
    register,
)
from hypermax.optimizers.bayesian import Bayesian
from hypermax.optimizers.optuna_gp import OptunaGP, gp_extra_missing
from hypermax.settings import spec
from hypermax.space import ArrayNode, BranchNode, Flat, Space
from hypermax.trial import Trial


@register("auto")
class Auto(Optimizer):
    """A Gaussian process (Optuna's or ours, by space), then TPE once a GP would be slow."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """The default method (search.auto)."""

        gp_trials: int = field(
            default=300,
            metadata=spec(
                "Finished trials after which TPE takes over from the Gaussian process.",
                minimum=0,
            ),
        )
        gp_dimensions: int = field(
            default=64,
            metadata=spec("Spaces encoding to more inputs use TPE from the start.", minimum=1),
        )
        optuna_gp: bool = field(
            default=True,
            metadata=spec(
                "Use optuna-gp where the gp extra is installed and the space has no conditions."
            ),
        )
        bayesian: Bayesian.Settings = field(
            default_factory=Bayesian.Settings, metadata=spec("Settings of bayesian, as run here.")
        )
        optuna_gp_settings: OptunaGP.Settings = field(
            default_factory=OptunaGP.Settings,
            metadata=spec("Settings of optuna-gp, as run here.", key="optuna-gp"),
        )
        tpe: TPE.Settings = field(
            default_factory=TPE.Settings, metadata=spec("Settings of tpe, as run here.")
        )

    settings: Settings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        super().__init__(space, seed, settings)
        s = self.settings
        self.gp_fits = len(Bayesian(space).encode(space.default())) <= s.gp_dimensions
        if s.optuna_gp and optuna_gp_suits(space):
            self.gp = create_optimizer("optuna-gp", space, self.seed, s.optuna_gp_settings)
        else:
            self.gp = create_optimizer("bayesian", space, self.seed, s.bayesian)
        self.tpe = create_optimizer("tpe", space, seed=self.seed, settings=s.tpe)

    def stateless(self) -> None:
        self.gp.stateless()
        self.tpe.stateless()

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        return self.method_for(history).suggest(history, n)

    def describe(self) -> str:
        if not self.gp_fits:
            return "auto: tpe (the space is wider than gp_dimensions for a GP)"
        return f"auto: {self.gp.name}, then tpe from {self.settings.gp_trials} finished trials"

    def method_for(self, history: Sequence[Trial]) -> Optimizer:
        finished = sum(1 for trial in history if trial.status.finished)
        return self.gp if self.gp_fits and finished < self.settings.gp_trials else self.tpe


def optuna_gp_suits(space: Space) -> bool:
    """Whether Optuna's GP is installed and measured ahead of ours on spaces like this one."""
    conditional = any(
        isinstance(node, BranchNode)
        or (isinstance(node, ArrayNode) and node.min_items < node.max_items)
        for node in space.nodes()
    )
    return not conditional and not gp_extra_missing()
