"""What runs next: the one place that decides.

In this order: trials a stopped run left interrupted (run again as they were), the warm-start
sets not tried yet (the space's defaults, ``search.initial``), then the method's suggestions,
informed by the trials that fit the current space and by the ``seed_from`` searches. The
runner asks it while it runs; ``hypermax sample`` asks it without running anything.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from hypermax.config import Config
from hypermax.optimizers import Optimizer, create_optimizer
from hypermax.optimizers.scalarized import Scalarized
from hypermax.optimizers.staged import Staged
from hypermax.pareto import objectives
from hypermax.space import point_key
from hypermax.storage.results import read_results
from hypermax.trial import Trial, TrialStatus

MAX_RERUNS = 2  # of a trial the search died or got SIGTERM under: one that kills it fails


def optimizer_for(config: Config) -> Optimizer:
    """The search method of a config: its method, staged when it has stages, scalarized in
    turn when the objective is a Pareto front."""
    chosen = _single_objective_optimizer(config)
    if config.search.objective == "pareto":
        metrics = config.metrics
        return Scalarized(chosen, lambda trial: objectives(trial, metrics), config.search.seed)
    return chosen


def _single_objective_optimizer(config: Config) -> Optimizer:
    search = config.search
    if search.stages or search.incremental:
        return Staged(
            config.space,
            search.stages,
            search.incremental,
            search.method,
            search.seed,
            search.method_settings,
        )
    return create_optimizer(search.method, config.space, search.seed, search.method_settings)


class Planner:
    """Chooses the trials to run next over the runner's record of trials, which it reads and
    never changes; the trials it creates are the runner's to start and record."""

    def __init__(self, config: Config, optimizer: Optimizer | None = None):
        self.config = config
        self.optimizer = optimizer or optimizer_for(config)
        self._warm_start = config.warm_start()
        self._earlier = earlier_trials(config)
        self._fit_cache: dict[int, bool] = {}
        self._fitting: dict[int, Trial] = {}  # the trials that inform the method, by number

    def fits(self, trial: Trial) -> bool:
        """Whether ``trial`` is a point of the current space: trials recorded under an earlier
        version of the space stay stored, but only those that fit inform the method."""
        if trial.number not in self._fit_cache:
            self._fit_cache[trial.number] = self.config.space.fits(trial.flat)
        return self._fit_cache[trial.number]

    def begin(self, trials: Iterable[Trial]) -> None:
        """Learn the stored trials of a run about to start."""
        self._fitting = {t.number: t for t in sorted(trials, key=_number) if self.fits(t)}

    def given_up(self, trials: Iterable[Trial]) -> list[Trial]:
        """Interrupted trials not to run again: each was running when the search died more
        than ``MAX_RERUNS`` times, so it would otherwise run first on every resume and the
        search would never finish."""
        return [
            t
            for t in sorted(trials, key=_number)
            if t.status is TrialStatus.INTERRUPTED and t.interruptions > MAX_RERUNS
        ]

    def next_trials(self, trials: Mapping[int, Trial], count: int) -> list[Trial]:
        """Up to ``count`` trials to start now: interrupted ones first, then new ones numbered
        after the last recorded."""
        if count <= 0:
            return []
        chosen = _reruns(trials.values())[:count]
        if count > len(chosen):
            # the fitting trials are kept as they come: filtering the whole history for every
            # new trial made each one slower than the last
            fitting = list(self._fitting.values())
            suggestions = self._choose(trials.values(), fitting, count - len(chosen))
            number = max(trials, default=0) + 1
            for offset, flat in enumerate(suggestions):
                trial = Trial(number + offset, flat, self.config.space.model_params(flat))
                chosen.append(trial)
                if self.fits(trial):
                    self._fitting[trial.number] = trial
        return chosen

    def preview(self, history: list[Trial], count: int) -> list[Any]:
        """The nested parameters of the next ``count`` trials a run would start after
        ``history``, starting nothing: the reruns (seen by the method as running, as a run
        would have them), then new sets."""
        reruns = _reruns(history)[:count]
        rerun_numbers = {t.number for t in reruns}
        seen = []
        for trial in history:
            if trial.number in rerun_numbers:
                trial = copy.deepcopy(trial)
                trial.start()
            seen.append(trial)
        fitting = [t for t in seen if self.fits(t)]
        suggested = self._choose(seen, fitting, count - len(reruns))
        return [t.params for t in reruns] + [self.config.space.model_params(f) for f in suggested]

    def _choose(
        self, history: Iterable[Trial], fitting: list[Trial], count: int
    ) -> list[dict[str, Any]]:
        chosen: list[dict[str, Any]] = []
        if count <= 0:
            return chosen
        if self._warm_start:  # spares serialising the whole history on every trial otherwise
            tried = {point_key(t.flat) for t in history}
            fresh = [f for f in self._warm_start if point_key(f) not in tried][:count]
            chosen = [self.optimizer.prepare(flat) for flat in fresh]
        if count > len(chosen):
            chosen += self.optimizer.suggest(self._earlier + fitting, count - len(chosen))
        return chosen


def _reruns(trials: Iterable[Trial]) -> list[Trial]:
    return sorted((t for t in trials if t.status is TrialStatus.INTERRUPTED), key=_number)


def _number(trial: Trial) -> int:
    return trial.number


def earlier_trials(config: Config) -> list[Trial]:
    """Finished trials of the searches named in ``search.seed_from`` that fit this space."""
    found = []
    for folder in config.search.seed_from:
        for trial in read_results(config.base_dir / folder).trials:
            if trial.status.finished and config.space.fits(trial.flat):
                found.append(trial)
    return found
