"""Hyperopt's TPE and random search behind the ask/tell interface.

Hyperopt wants a pyll expression and a ``Trials`` database. We build the expression once from our
space tree (each node's unique ``label`` becomes a hyperopt label) and rebuild a ``Trials`` object
from the history on every call, so no hyperopt state outlives a call.
"""

from __future__ import annotations

import datetime
import math
import random
import warnings
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import numpy as np

from hypermax.optimizers.base import MethodSettings, Optimizer, register
from hypermax.settings import spec
from hypermax.space import (
    ArrayNode,
    BranchNode,
    ChoiceNode,
    ConstantNode,
    Flat,
    Node,
    NumberNode,
    ObjectNode,
)
from hypermax.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from hyperopt import Domain, Trials


def _hyperopt() -> Any:
    """Hyperopt, imported when a method first needs it: it loads scipy, scikit-learn and
    LightGBM, a second that ``hypermax --version`` or ``validate`` should not pay."""
    import hyperopt

    return hyperopt


def _number_expr(node: NumberNode) -> Any:
    label, q = node.label, node.rounding
    hp = _hyperopt().hp
    if node.mode == "randint":
        return hp.randint(label, int(node.high) - int(node.low) + 1)  # type: ignore[arg-type]
    if node.mode == "normal":
        mean = math.log(node.mean) if node.log else node.mean  # type: ignore[arg-type]
        if node.log:
            return (
                hp.qlognormal(label, mean, node.stddev, q)
                if q
                else hp.lognormal(label, mean, node.stddev)
            )
        return (
            hp.qnormal(label, mean, node.stddev, q) if q else hp.normal(label, mean, node.stddev)
        )
    if node.log:
        low, high = math.log(node.low), math.log(node.high)  # type: ignore[arg-type]
        return hp.qloguniform(label, low, high, q) if q else hp.loguniform(label, low, high)
    return (
        hp.quniform(label, node.low, node.high, q) if q else hp.uniform(label, node.low, node.high)
    )


def build_expression(node: Node) -> Any:
    """The hyperopt search space for a node of our tree."""
    hp = _hyperopt().hp
    if isinstance(node, NumberNode):
        return _number_expr(node)
    if isinstance(node, ChoiceNode):
        return hp.choice(node.label, list(range(len(node.values))))
    if isinstance(node, ConstantNode):
        return 0
    if isinstance(node, ObjectNode):
        return {key: build_expression(child) for key, child in node.properties.items()}
    if isinstance(node, BranchNode):
        return hp.choice(node.label, [build_expression(branch) for branch in node.branches])
    if isinstance(node, ArrayNode):
        items = [build_expression(item) for item in node.items]
        lengths = range(node.min_items, node.max_items + 1)
        return hp.choice(node.label, [items[:length] for length in lengths])
    raise TypeError(f"no hyperopt form for {type(node).__name__}")


def vals_to_flat(node: Node, vals: Mapping[str, Any], flat: Flat) -> None:
    """Read hyperopt's chosen values (label -> value, active labels only) into a flat set."""
    if isinstance(node, NumberNode):
        raw = vals[node.label]
        flat[node.path] = node.finish(raw + node.low if node.mode == "randint" else raw)
    elif isinstance(node, ChoiceNode):
        flat[node.path] = node.values[int(vals[node.label])]
    elif isinstance(node, ConstantNode):
        flat[node.path] = node.value
    elif isinstance(node, ObjectNode):
        for child in node.properties.values():
            vals_to_flat(child, vals, flat)
    elif isinstance(node, BranchNode):
        position = int(vals[node.label])
        flat[node.branch_key] = position
        vals_to_flat(node.branches[position], vals, flat)
    elif isinstance(node, ArrayNode):
        for item in node.items[: node.min_items + int(vals[node.label])]:
            vals_to_flat(item, vals, flat)


def flat_to_vals(node: Node, flat: Mapping[str, Any], vals: dict[str, Any]) -> None:
    """The hyperopt values (label -> value) of a flat set; raises KeyError/ValueError if it
    does not fit the space (a trial recorded before the space changed)."""
    if isinstance(node, NumberNode):
        value = float(flat[node.path])
        vals[node.label] = value - node.low if node.mode == "randint" else value  # type: ignore[operator]
    elif isinstance(node, ChoiceNode):
        vals[node.label] = node.index(flat[node.path])
    elif isinstance(node, ObjectNode):
        for child in node.properties.values():
            flat_to_vals(child, flat, vals)
    elif isinstance(node, BranchNode):
        position = int(flat[node.branch_key])
        vals[node.label] = position
        flat_to_vals(node.branches[position], flat, vals)
    elif isinstance(node, ArrayNode):
        length = node.length(flat)
        vals[node.label] = length - node.min_items
        for item in node.items[:length]:
            flat_to_vals(item, flat, vals)


_EPOCH = datetime.datetime(2000, 1, 1)


class _HyperoptOptimizer(Optimizer):
    """Shared machinery; subclasses pick hyperopt's ``suggest`` function."""

    @cached_property
    def domain(self) -> Domain:
        """Built on the first suggestion (see ``_hyperopt``)."""
        expression = build_expression(self.space.root)
        return _hyperopt().Domain(lambda _: 0.0, expression, pass_expr_memo_ctrl=False)

    @cached_property
    def _labels(self) -> list[str]:
        return list(self.domain.params)

    @abstractmethod
    def algorithm(self) -> Any:
        """Hyperopt's ``suggest(new_ids, domain, trials, seed)`` function to use."""

    learns_from_history = True
    tells_pending = True  # the algorithm steers away from running trials

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        if self.learns_from_history:
            trials, count = self._trials_from(history)
        else:
            trials, count = _hyperopt().Trials(), len(history)
        algorithm = self.algorithm()
        suggestions: list[Flat] = []
        for offset in range(n):
            tid = count + offset
            docs = algorithm([tid], self.domain, trials, self.seed_for(history, offset))
            vals = {label: v[0] for label, v in docs[0]["misc"]["vals"].items() if v}
            flat: Flat = {}
            vals_to_flat(self.space.root, vals, flat)
            suggestions.append(flat)
            if self.tells_pending:  # later picks of this call avoid it
                self._add(trials, tid, vals, {"status": "new"})
                trials.refresh()
        return suggestions

    def result_for(self, trial: Trial) -> dict[str, Any] | None:
        """The hyperopt result document of a trial, or None to leave the trial out."""
        if trial.status is TrialStatus.RUNNING:
            return {"status": "new"}  # hyperopt treats a missing loss as +inf: steers away
        if trial.has_loss:
            return {"status": _hyperopt().STATUS_OK, "loss": trial.loss}
        return {"status": _hyperopt().STATUS_FAIL}

    def _trials_from(self, history: Sequence[Trial]) -> tuple[Trials, int]:
        """A hyperopt ``Trials`` holding the history, and how many trials it holds."""
        trials = _hyperopt().Trials()
        count = 0
        for trial in history:
            if trial.status is TrialStatus.INTERRUPTED:
                continue
            vals: dict[str, Any] = {}
            try:
                flat_to_vals(self.space.root, trial.flat, vals)
            except (KeyError, ValueError, IndexError, TypeError):
                continue  # recorded under an older space; it cannot inform this one
            result = self.result_for(trial)
            if result is None:
                continue
            self._add(trials, count, vals, result)
            count += 1
        trials.refresh()
        return trials, count

    def _add(self, trials: Trials, tid: int, vals: Mapping[str, Any], result: dict) -> None:
        misc = {
            "tid": tid,
            "cmd": None,
            "workdir": None,
            "idxs": {label: [tid] if label in vals else [] for label in self._labels},
            "vals": {label: [vals[label]] if label in vals else [] for label in self._labels},
        }
        (doc,) = trials.new_trial_docs([tid], [None], [result], [misc])
        doc["state"] = _hyperopt().JOB_STATE_DONE
        # ATPE subtracts these; equal times keep its input independent of machine speed
        doc["book_time"] = doc["refresh_time"] = _EPOCH
        trials.insert_trial_docs([doc])


@register("tpe")
class TPE(_HyperoptOptimizer):
    """Hyperopt's Tree-structured Parzen Estimator."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """TPE (search.tpe)."""

        gamma: float = field(
            default=0.25,
            metadata=spec("Share of trials deemed good.", exclusiveMinimum=0, exclusiveMaximum=1),
        )
        candidates: int = field(
            default=24, metadata=spec("Samples scored per suggestion.", minimum=1)
        )
        # Hyperopt uses 20: good regions are found in fewer trials
        startup_trials: int = field(
            default=10, metadata=spec("Random trials before TPE models.", minimum=0)
        )
        prior_weight: float = field(
            default=1.0, metadata=spec("Weight of the prior.", exclusiveMinimum=0)
        )

    settings: Settings

    def algorithm(self) -> Any:
        s = self.settings
        return partial(
            _hyperopt().tpe.suggest,
            gamma=s.gamma,
            n_EI_candidates=s.candidates,
            n_startup_jobs=s.startup_trials,
            prior_weight=s.prior_weight,
            verbose=False,
        )


@register("random")
class RandomSearch(_HyperoptOptimizer):
    """Independent random draws from the space's distributions."""

    learns_from_history = False

    def algorithm(self) -> Any:
        return _hyperopt().rand.suggest


@register("atpe")
class ATPE(_HyperoptOptimizer):
    """Hyperopt's Adaptive TPE, which came from the original Hypermax: pre-trained LightGBM
    models read statistics of the results so far and choose TPE's settings for each
    suggestion, and lock parameters that matter little at values of good trials.

    Hyperopt's version draws from the global ``random`` and ``numpy.random`` generators and
    cannot take running trials into account; here each call seeds them from the search's seed
    (and restores them after), and parallel suggestions differ through those draws alone.
    Negative losses are shifted internally, as ATPE's models were trained on positive ones.
    """

    tells_pending = False

    def algorithm(self) -> Any:
        return _seeded_globally(_hyperopt().atpe.suggest)

    def result_for(self, trial: Trial) -> dict[str, Any] | None:
        if trial.status is TrialStatus.RUNNING:
            return None
        if trial.has_loss:
            return {"status": _hyperopt().STATUS_OK, "loss": trial.loss}
        return {"status": _hyperopt().STATUS_FAIL, "loss": None}

    def _trials_from(self, history: Sequence[Trial]) -> tuple[Trials, int]:
        trials, count = super()._trials_from(history)
        if not any(doc["result"]["loss"] is not None for doc in trials.trials):
            return _hyperopt().Trials(), count  # ATPE cannot read a history without a single loss
        return trials, count


def _seeded_globally(suggest: Any) -> Any:
    def seeded(new_ids: list[int], domain: Domain, trials: Trials, seed: int) -> Any:
        with _global_random_state(seed):
            return suggest(new_ids, domain, trials, seed)

    return seeded


@contextmanager
def _global_random_state(seed: int) -> Iterator[None]:
    """Seed Python's and numpy's global generators for a moment, restoring them after."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        with warnings.catch_warnings():  # ATPE's statistics warn on constant columns
            warnings.simplefilter("ignore")
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
