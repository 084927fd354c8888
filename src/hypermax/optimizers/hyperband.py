"""Hyperband: many configurations on a small budget, the best few promoted to larger ones.

The model receives ``$budget`` (epochs, data fraction, ...: whatever the model makes of it)
beside its parameters, and ``$loop``, ``$group`` (the bracket) and ``$round`` as the original
Hypermax's ``abh`` method passed them. One loop runs brackets ``s = s_max .. 0``; bracket ``s``
starts ``ceil((s_max + 1) / (s + 1) * eta**s)`` configurations at ``max_budget * eta**-s``,
and each round keeps the best ``1/eta`` of the previous one at ``eta`` times the budget.

The schedule is rebuilt from the history on every call (each trial's flat form records its
place in it), so the method keeps no state and resumes exactly. A round whose previous round
still has trials running cannot be filled yet; later brackets start meanwhile, which is how
parallel workers stay busy.

Settings (``search.hyperband``, ``search.abh``): ``Hyperband.Settings``. ``eta`` may be any
number above 1, e.g. the original Hypermax's 1.643167673 or 2.71; the ``sampler`` proposing new
configurations is ``random``, as in Hyperband, or e.g. ``tpe``, which then learns from the
trials at the largest budget that has enough of them; the config loader makes it ``atpe`` where
the method is spelt ``abh``, as the original's Adaptive Bayesian Hyperband.
With a fractional ``eta`` the counts are floored as with a whole one; whole budgets are
rounded, and an ``eta`` so small that two rounds of a bracket would get the same whole budget
is refused (the promoted configurations would only run again unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from hypermax.optimizers.base import (
    MethodSettings,
    Optimizer,
    SettingsInput,
    canonical_method,
    create_optimizer,
    method_issue,
    register,
)
from hypermax.settings import spec
from hypermax.space import RUN_KEYS, Flat, Space, point_key, without_run_keys
from hypermax.trial import Trial, TrialStatus

SAMPLER_MIN_TRIALS = 10  # finished trials at one budget before a learning sampler uses it


@dataclass(frozen=True)
class Round:
    loop: int
    group: int  # 1 for the bracket with the most configurations
    number: int  # 0 for the round that starts new configurations
    size: int
    budget: float

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.loop, self.group, self.number)


@register("hyperband")
class Hyperband(Optimizer):
    """Hyperband over budgets from ``min_budget`` to ``max_budget``."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """Hyperband (search.hyperband, or search.abh: the original Hypermax's name)."""

        min_budget: float = field(
            default=1, metadata=spec("Smallest budget a configuration gets.", exclusiveMinimum=0)
        )
        max_budget: float = field(
            default=81,
            metadata=spec(
                "Largest budget; whole numbers when both bounds are.", exclusiveMinimum=0
            ),
        )
        eta: float = field(
            default=3,
            metadata=spec(
                "Keep the best 1/eta of each round, at eta times the budget; any number above "
                "1, e.g. 2.71.",
                exclusiveMinimum=1,
            ),
        )
        sampler: str = field(
            default="random",
            metadata=spec("Method proposing new configurations: random, or e.g. tpe."),
        )

    settings: Settings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        super().__init__(space, seed, settings)
        low, high, eta = self.settings.min_budget, self.settings.max_budget, self.settings.eta
        if not 0 < low <= high or not eta > 1:
            raise ValueError("hyperband needs 0 < min_budget <= max_budget and eta > 1")
        self.whole = isinstance(low, int) and isinstance(high, int)
        self.s_max = math.floor(math.log(high / low, eta) + 1e-9)
        budgets = [round(high * eta**-s) for s in range(self.s_max, -1, -1)]
        if self.whole and len(set(budgets)) < len(budgets):
            raise ValueError(
                f"eta {eta} over whole budgets {low} to {high} gives two rounds the same budget "
                f"({', '.join(map(str, budgets))}): the promoted configurations would run again "
                "unchanged; choose a larger eta, a wider range, or fractional budgets "
                f"(max_budget {float(high)})"
            )
        sampler = self.settings.sampler
        issue = method_issue(sampler)
        if issue is not None or canonical_method(sampler) == "hyperband":
            reason = issue.message if issue else "it must be another method"
            raise ValueError(f"sampler {sampler!r}: {reason}")

    def describe(self) -> str:
        s = self.settings
        return (
            f"hyperband (budgets {s.min_budget} to {s.max_budget}, eta {s.eta:g}, "
            f"new configurations from {s.sampler})"
        )

    def rounds(self, loop: int) -> Iterator[list[Round]]:
        """The brackets of one loop, each a list of rounds."""
        eta, high = self.settings.eta, self.settings.max_budget
        for s in range(self.s_max, -1, -1):
            starting = math.ceil((self.s_max + 1) / (s + 1) * eta**s)
            bracket = []
            for i in range(s + 1):
                budget = high * eta ** (i - s)
                size = max(1, math.floor(starting * eta**-i))
                bracket.append(Round(loop, self.s_max - s + 1, i, size, self._budget(budget)))
            yield bracket

    def _budget(self, budget: float) -> float:
        return round(budget) if self.whole else budget

    def prepare(self, flat: Flat) -> Flat:
        return {
            **flat,
            "$budget": self._budget(self.settings.max_budget),
        }  # no bracket: a full run

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        slots: dict[tuple[int, int, int], list[Trial | None]] = {}  # None: about to start
        for trial in history:
            place = _place(trial.flat)
            if place is not None:
                slots.setdefault(place, []).append(trial)
        picks: list[Flat] = []
        fresh_wanted: list[Round] = []
        loop = 1
        while len(picks) + len(fresh_wanted) < n:
            for bracket in self.rounds(loop):
                for position, round_ in enumerate(bracket):
                    taken = slots.setdefault(round_.key, [])
                    free = min(round_.size - len(taken), n - len(picks) - len(fresh_wanted))
                    if free <= 0:
                        continue
                    if position == 0:
                        fresh_wanted += [round_] * free
                        taken += [None] * free
                        continue
                    previous = slots[bracket[position - 1].key]
                    promoted = self._promotions(previous, taken, free, round_.size)
                    if promoted is None:
                        break  # the previous round is still running: try the next bracket
                    for flat in promoted:
                        placed = _placed(flat, round_)
                        picks.append(placed)
                        taken.append(Trial(0, placed, {}, TrialStatus.RUNNING))
                    if len(promoted) < free:
                        break
            loop += 1
        fresh = self._fresh(history, len(fresh_wanted))
        picks += [_placed(flat, round_) for flat, round_ in zip(fresh, fresh_wanted, strict=True)]
        return picks

    @staticmethod
    def _promotions(
        previous: Sequence[Trial | None], taken: Sequence[Trial | None], count: int, size: int
    ) -> list[Flat] | None:
        """The best configurations of the previous round not yet promoted, or None while that
        round still has trials to run."""
        if any(t is None or not t.status.finished for t in previous):
            return None
        # failed, killed and early-stopped trials are not promoted: the last two have a loss,
        # but not one of a whole run at this budget
        ranked = sorted(
            (t for t in previous if t is not None and t.status is TrialStatus.OK and t.has_loss),
            key=lambda t: t.loss,  # type: ignore[arg-type, return-value]
        )
        done = {point_key(t.flat) for t in taken if t is not None}
        chosen: list[Flat] = []
        for trial in ranked[:size]:
            if point_key(trial.flat) not in done and len(chosen) < count:
                chosen.append(without_run_keys(trial.flat))
        return chosen

    def _fresh(self, history: Sequence[Trial], count: int) -> list[Flat]:
        if count == 0:
            return []
        finished = [t for t in history if t.status.finished and t.has_loss]
        by_budget: dict[float, list[Trial]] = {}
        for trial in finished:
            by_budget.setdefault(trial.flat.get("$budget", math.inf), []).append(trial)
        enough = [b for b, trials in by_budget.items() if len(trials) >= SAMPLER_MIN_TRIALS]
        informed = by_budget[max(enough)] if enough else []
        running = [t for t in history if t.status is TrialStatus.RUNNING]
        told = [replace(t, flat=without_run_keys(t.flat)) for t in informed + running]
        # a seed of its own per call: a random sampler is told nothing and would repeat itself
        sampler = create_optimizer(self.settings.sampler, self.space, seed=self.seed_for(history))
        sampler.stateless()
        return sampler.suggest(told, count)


def _place(flat: Flat) -> tuple[int, int, int] | None:
    try:
        return (int(flat["$loop"]), int(flat["$group"]), int(flat["$round"]))
    except (KeyError, TypeError, ValueError):
        return None


def _placed(flat: Flat, round_: Round) -> Flat:
    place = dict(
        zip(RUN_KEYS, (round_.budget, round_.loop, round_.group, round_.number), strict=True)
    )
    return {**without_run_keys(flat), **place}
