"""Evolution: CMA-ES (the ``cmaes`` library) over the numeric parameters.

CMA-ES keeps a search distribution that it updates one generation of trials at a time. To stay
stateless, the distribution is rebuilt on every call by replaying the finished trials, in order,
in generations of ``population`` trials; the same seed and history give the same suggestions.
Numbers are searched on [0, 1] (log-scaled ones on a log axis) and rounded afterwards. Enums,
conditional branches and list lengths are outside CMA-ES's reach: for those the documented
fallback is random draws, so this method suits mostly numeric spaces.

Settings (``search.evolution``): ``Evolution.Settings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hypermax.optimizers.base import MethodSettings, Optimizer, SettingsInput, register
from hypermax.settings import spec
from hypermax.space import Flat, NumberNode, Space
from hypermax.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from cmaes import CMA


@register("evolution")
class Evolution(Optimizer):
    """CMA-ES for numbers, random draws for the rest."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """CMA-ES (search.evolution)."""

        population: int | None = field(
            default=None,
            metadata=spec(
                "Trials per CMA-ES generation (default: CMA-ES's own for the number of "
                "dimensions).",
                minimum=2,
            ),
        )
        sigma: float = field(
            default=0.3,
            metadata=spec(
                "Initial step on the [0, 1] scale of each number.", exclusiveMinimum=0, maximum=1
            ),
        )

    settings: Settings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        super().__init__(space, seed, settings)
        self.numbers = [
            node
            for node in space.parameters()
            if isinstance(node, NumberNode) and node.mode != "randint"
        ]

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        drafts = self.space.sample(np.random.default_rng(self.seed_for(history)), n)
        if not self.numbers:
            return drafts
        strategy = self._replayed(history)
        for draft in drafts:
            point = strategy.ask()
            for node, position in zip(self.numbers, point, strict=True):
                if node.path in draft:
                    draft[node.path] = node.from_unit(float(position))
        return drafts

    def _replayed(self, history: Sequence[Trial]) -> CMA:
        # imported here, not at the top: cmaes loads scipy, half a second that naming or
        # checking the method (hypermax validate) should not pay
        from cmaes import CMA

        dimensions = len(self.numbers)
        strategy = CMA(
            mean=np.full(dimensions, 0.5),
            sigma=self.settings.sigma,
            bounds=np.tile([0.0, 1.0], (dimensions, 1)),
            seed=self.seed,
            population_size=self.settings.population,
        )
        done = []
        for trial in history:
            if trial.status.finished and trial.has_loss:
                try:
                    done.append((self._encode(trial.flat), float(trial.loss)))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    continue  # recorded under an older space; it cannot inform this one
        size = strategy.population_size
        told = 0
        for start in range(0, len(done) - size + 1, size):
            strategy.tell(done[start : start + size])
            told += size
        # the current generation's members already suggested (finished or running) were the
        # next asks of this very state: skip them, or the same points would come again
        running = sum(1 for t in history if t.status is TrialStatus.RUNNING)
        for _ in range(len(done) - told + running):
            strategy.ask()
        return strategy

    def _encode(self, flat: Flat) -> np.ndarray:
        """A trial's numbers on [0, 1]; 0.5 for parameters the trial did not have."""
        return np.array(
            [node.to_unit(flat[node.path]) if node.path in flat else 0.5 for node in self.numbers]
        )
