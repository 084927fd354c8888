"""``optuna-gp``: Optuna's Gaussian-process sampler, which needs torch (``pip install
'hypermax[gp]'``), behind our interface.

On the quality benchmark it leads on numeric spaces: its GP has priors on the kernel's
hyperparameters and it climbs expected improvement by gradient from the best random points,
which finds the global basin of Hartmann-6 where our ``bayesian`` mostly settles in a local one.
On conditional spaces it learns only from the parameters every trial shares and draws the rest
at random, and there ``bayesian`` is far ahead; ``auto`` therefore uses it only on spaces
without branches or variable-length lists, and only where torch is installed.

Each suggestion replays the history into a fresh in-memory study, so a resumed search
continues exactly (the sampler is seeded from the history). Optuna's sampler ignores running
trials; to keep parallel suggestions apart they are told to it as finished at the best loss so
far (the "constant liar", which makes their surroundings uninteresting to expected
improvement).

Settings (``search.optuna-gp``): ``startup_trials`` (random trials first, 10),
``deterministic`` (the loss has no noise, false).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypermax.optimizers._optuna import (
    ask_flat,
    missing_modules,
    quiet_optuna,
    recorded_trial,
)
from hypermax.optimizers.base import Optimizer, register
from hypermax.space import Flat, Space
from hypermax.trial import Trial, TrialStatus

EXTRA_MODULES = ("optuna", "torch")


def gp_extra_missing() -> list[str]:
    """The modules of the ``gp`` extra that are not installed."""
    return missing_modules(*EXTRA_MODULES)


@register("optuna-gp")
class OptunaGP(Optimizer):
    """Optuna's GPSampler, told our history on every call."""

    def __init__(self, space: Space, seed: int | None = None, **settings: Any):
        super().__init__(space, seed, **settings)
        missing = gp_extra_missing()
        if missing:
            raise ValueError(
                f"method 'optuna-gp' needs {' and '.join(missing)}: "
                "pip install 'hypermax[gp]', or choose another method"
            )
        self.startup = int(settings.get("startup_trials", 10))
        self.deterministic = bool(settings.get("deterministic", False))

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        import optuna

        scored = [
            t for t in history if t.status.finished and t.has_loss and self.space.fits(t.flat)
        ]
        running = [
            t.flat for t in history if t.status is TrialStatus.RUNNING and self.space.fits(t.flat)
        ]
        lie = min((float(t.loss) for t in scored), default=None)  # type: ignore[arg-type]
        chosen: list[Flat] = []
        with quiet_optuna():
            sampler = optuna.samplers.GPSampler(
                seed=self.seed_for(history),
                n_startup_trials=self.startup,
                deterministic_objective=self.deterministic,
            )
            study = optuna.create_study(sampler=sampler)
            study.add_trials([recorded_trial(self.space, t.flat, t.loss) for t in scored])  # type: ignore[arg-type]
            if lie is not None:
                study.add_trials([recorded_trial(self.space, flat, lie) for flat in running])
            for _ in range(n):
                trial = study.ask()
                flat: Flat = {}
                ask_flat(trial, self.space.root, flat)
                chosen.append(flat)
                if lie is not None:
                    study.tell(trial, lie)
        return chosen
