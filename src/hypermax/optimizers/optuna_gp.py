"""``optuna-gp``: Optuna's Gaussian-process sampler, which needs torch (the ``gp`` extra of a
checkout: ``pip install '.[gp]'``), behind our interface.

On the quality benchmark it leads on numeric spaces: its GP has priors on the kernel's
hyperparameters and it climbs expected improvement by gradient from the best random points,
which finds the global basin of Hartmann-6 where our ``bayesian`` mostly settles in a local one.
On conditional spaces it learns only from the parameters every trial shares and draws the rest
at random, and there ``bayesian`` is far ahead; ``auto`` therefore uses it only on spaces
without branches or variable-length lists, and only where torch is installed.

In a sequential search it runs exactly as in Optuna's own loop: one study, asked for each trial
and told its result, kept between calls (the sampler carries what it learnt from one fit of its
kernel to the next, which measurably helps it). The study is a function of the history alone:
a resumed search rebuilds it by asking and telling the finished trials again, so it continues
exactly. Beside running trials (``parallel``) each suggestion comes from a fresh study told the
whole history, the running trials as running, which the sampler keeps its suggestions away
from.

Settings (``search.optuna-gp``): ``OptunaGP.Settings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypermax.optimizers._optuna import (
    ask_study,
    missing_modules,
    quiet_optuna,
    recorded_trial,
)
from hypermax.optimizers.base import MethodSettings, Optimizer, SettingsInput, register
from hypermax.settings import spec
from hypermax.space import Flat, Space
from hypermax.trial import Trial, TrialStatus

EXTRA_MODULES = ("optuna", "torch")


def gp_extra_missing() -> list[str]:
    """The modules of the ``gp`` extra that are not installed."""
    return missing_modules(*EXTRA_MODULES)


@register("optuna-gp")
class OptunaGP(Optimizer):
    """Optuna's GPSampler, told our history."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """Optuna's GP (search.optuna-gp)."""

        startup_trials: int = field(
            default=10, metadata=spec("Random trials before the GP.", minimum=0)
        )
        deterministic: bool = field(default=False, metadata=spec("The loss has no noise."))

    settings: Settings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        super().__init__(space, seed, settings)
        missing = gp_extra_missing()
        if missing:
            raise ValueError(
                f"method 'optuna-gp' needs {' and '.join(missing)}: "
                "pip install 'optuna>=5,<6' 'torch>=2.2,<3' 'greenlet>=3,<4' (from a checkout: "
                "pip install '.[gp]'; PyPI's 'hypermax' is another project), or choose another "
                "method"
            )
        self.follow_sequence = True
        self._sequence: _Sequence | None = None

    def stateless(self) -> None:
        self.follow_sequence = False
        self._sequence = None

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        fitting = [t for t in history if self.space.fits(t.flat)]
        running = [t for t in fitting if t.status is TrialStatus.RUNNING]
        with quiet_optuna():
            if n == 1 and not running and self.follow_sequence:
                return [self._next_in_sequence([t for t in fitting if t.status.finished])]
            return self._replayed(fitting, running, n)

    def _next_in_sequence(self, finished: list[Trial]) -> Flat:
        """What Optuna's own loop would ask next, had it been told these trials in turn; the
        loop is kept between calls and rebuilt only when the history is not its continuation
        (a resumed search, a rewritten history)."""
        if self._sequence is None or not self._sequence.continued_by(finished):
            self._sequence = _Sequence(self.space, self._sampler(self.seed), self.seed)
        for trial in finished[len(self._sequence.told) :]:
            self._sequence.tell(trial)
        return dict(self._sequence.next_flat())

    def _replayed(self, fitting: list[Trial], running: list[Trial], n: int) -> list[Flat]:
        """Suggestions beside running trials: a fresh study told everything, the running trials
        as running, which Optuna's sampler keeps its suggestions away from."""
        import optuna

        seed = self.seed_for(fitting, n)
        study = optuna.create_study(sampler=self._sampler(seed))
        scored = [t for t in fitting if t.status.finished and t.has_loss]
        study.add_trials([recorded_trial(self.space, t.flat, t.loss) for t in scored])
        study.add_trials([recorded_trial(self.space, t.flat, None) for t in running])
        # each one asked stays running, so the next one avoids it
        return [ask_study(study, self.space, seed)[1] for _ in range(n)]

    def _sampler(self, seed: int) -> Any:
        import optuna

        return optuna.samplers.GPSampler(
            seed=seed,
            n_startup_trials=self.settings.startup_trials,
            deterministic_objective=self.settings.deterministic,
        )


class _Sequence:
    """An Optuna study driven by ask and tell as in Optuna's own loop: each finished trial of
    ours answers the question asked before it, or, where it is not what was asked (a default,
    an ``initial`` set), the question is dropped and the trial added."""

    def __init__(self, space: Space, sampler: Any, seed: int):
        import optuna

        self.space = space
        self.seed = seed
        self.study = optuna.create_study(sampler=sampler)
        self.told: list[tuple[int, float | None]] = []
        self.asked: tuple[Any, Flat] | None = None

    def continued_by(self, finished: list[Trial]) -> bool:
        return [_told_key(t) for t in finished[: len(self.told)]] == self.told

    def tell(self, trial: Trial) -> None:
        from optuna.trial import TrialState

        asked, flat = self._ask()
        self.asked = None
        loss = float(trial.loss) if trial.has_loss else None  # type: ignore[arg-type]
        if flat == trial.flat:
            self.study.tell(asked, loss, state=TrialState.FAIL if loss is None else None)
        else:
            self.study.tell(asked, state=TrialState.FAIL)
            if loss is not None:
                self.study.add_trial(recorded_trial(self.space, trial.flat, loss))
        self.told.append(_told_key(trial))

    def next_flat(self) -> Flat:
        return self._ask()[1]

    def _ask(self) -> tuple[Any, Flat]:
        if self.asked is None:
            self.asked = ask_study(self.study, self.space, self.seed)
        return self.asked


def _told_key(trial: Trial) -> tuple[int, float | None]:
    return trial.number, float(trial.loss) if trial.has_loss else None  # type: ignore[arg-type]
