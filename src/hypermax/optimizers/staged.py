"""Staged and incremental tuning: a few parameters at a time, the rest held at the best values
found so far (at their defaults before any trial has a loss).

Each stage runs its own method over the space with the other parameters held as constants,
and learns from every trial that is a point of that space (its own, and earlier ones that
happen to have the held values, such as the best trial). A trial records its stage as
``$stage`` in its flat form, so the schedule is rebuilt from the history and resumes exactly.

``search.stages`` lists the stages; trials beyond them tune every parameter with
``search.method``. ``search.incremental`` repeats stages of ``iterations`` trials each, over the
named ``groups`` in turn or, without groups, over ``size`` parameters drawn at random per stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hypermax.optimizers.base import MethodSettings, Optimizer, create_optimizer
from hypermax.space import STAGE_KEY, Flat, Space, run_values
from hypermax.trial import Trial, TrialStatus, best_trial


@dataclass(frozen=True)
class Stage:
    """One stage of ``search.stages``, its method and settings resolved."""

    parameters: tuple[str, ...] | None  # None: every parameter
    method: str
    iterations: int | None  # None: open-ended
    settings: MethodSettings | None = None  # None: the method's defaults


@dataclass(frozen=True)
class Incremental:
    """``search.incremental``: stages of ``iterations`` trials over the ``groups`` in turn, or
    without groups over ``size`` parameters drawn at random per stage."""

    groups: tuple[tuple[str, ...], ...] = ()
    size: int = 2
    iterations: int = 20
    method: str | None = None  # None: the search's method
    settings: MethodSettings | None = None  # None: the method's defaults (the search's own)


class Staged(Optimizer):
    """Runs ``stages(k)`` one after the other; not a ``search.method`` of its own."""

    def __init__(
        self,
        space: Space,
        stages: Sequence[Stage] = (),
        incremental: Incremental | None = None,
        default_method: str = "auto",
        seed: int | None = None,
        default_settings: MethodSettings | None = None,
    ):
        super().__init__(space, seed)
        self.stages = list(stages)
        self.incremental = incremental
        self.default_method = default_method
        self.default_settings = default_settings

    def describe(self) -> str:
        methods = dict.fromkeys(stage.method for stage in self.stages)
        more = (
            f", then incremental {self.stage(len(self.stages)).method}" if self.incremental else ""
        )
        return f"staged ({len(self.stages)} stage(s): {', '.join(methods)}{more})"

    def stage(self, index: int) -> Stage:
        if index < len(self.stages):
            return self.stages[index]
        if self.incremental is None:
            return Stage(None, self.default_method, None, self.default_settings)
        spec = self.incremental
        turn = index - len(self.stages)
        if spec.groups:
            names = tuple(spec.groups[turn % len(spec.groups)])
        else:
            tunable = [node.path for node in self.space.tunable()]
            rng = np.random.default_rng([self.seed, turn])
            size = min(spec.size, len(tunable))
            names = tuple(sorted(rng.choice(tunable, size=size, replace=False).tolist()))
        if spec.method is None:  # the search's method, with its settings unless given
            settings = self.default_settings if spec.settings is None else spec.settings
            return Stage(names, self.default_method, spec.iterations, settings)
        return Stage(names, spec.method, spec.iterations, spec.settings)

    def prepare(self, flat: Flat) -> Flat:
        first = self.stage(0)
        return create_optimizer(first.method, self.space, self.seed, first.settings).prepare(flat)

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        counts: dict[int, int] = {}
        for trial in history:
            if STAGE_KEY in trial.flat:
                counts[int(trial.flat[STAGE_KEY])] = counts.get(int(trial.flat[STAGE_KEY]), 0) + 1
        picks: list[Flat] = []
        index = 0
        while len(picks) < n:
            stage = self.stage(index)
            room = n - len(picks)
            if stage.iterations is not None:
                room = min(room, stage.iterations - counts.get(index, 0))
            if room > 0:
                picks += [{**flat, STAGE_KEY: index} for flat in self._run(index, history, room)]
            index += 1
        return picks

    def _run(self, index: int, history: Sequence[Trial], count: int) -> list[Flat]:
        stage = self.stage(index)
        space = self.space
        if stage.parameters is not None:
            best = best_trial([t for t in history if t.status is TrialStatus.OK])
            held = space.nested(best.flat) if best else space.nested(space.default())
            space = space.holding(stage.parameters, held)
        told = []
        for trial in history:
            try:
                flat = space.flatten(self.space.nested(trial.flat))
            except (KeyError, IndexError, TypeError, ValueError):
                continue  # not a point of this stage's space
            flat.update(run_values(trial.flat))
            told.append(Trial(trial.number, flat, trial.params, trial.status, loss=trial.loss))
        seed = int(np.random.SeedSequence([self.seed, index]).generate_state(1)[0] % 2**31)
        method = create_optimizer(stage.method, space, seed=seed, settings=stage.settings)
        method.stateless()
        return [
            {**self.space.flatten(space.nested(flat)), **run_values(flat)}
            for flat in method.suggest(told, count)
        ]
