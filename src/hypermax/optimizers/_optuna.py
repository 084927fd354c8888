"""Our space tree as Optuna sees it: one Optuna parameter per active node, named by its label.

Numbers are Optuna floats or integers over their range (log where the axis is), choices and
conditional branches categoricals over positions, ``randint`` numbers (unordered, like an
enum's values) categoricals over their values, array lengths integers. A ``randint`` with
more values than an enum may list is not shown to Optuna at all: with no order to learn it
by, it is drawn at random here, seeded by the study's seed and the trial's number, so a
resumed search draws the same.

Both directions walk the same tree: ``ask_flat`` asks an Optuna trial define-by-run, so
conditional parameters exist only where their branch is chosen, and ``recorded_trial`` turns
one of our finished trials back into an Optuna trial, which is how an Optuna sampler learns
our history.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from hypermax.space import (
    ArrayNode,
    BranchNode,
    ChoiceNode,
    ConstantNode,
    Flat,
    Node,
    NumberNode,
    ObjectNode,
    Space,
)


def missing_modules(*names: str) -> list[str]:
    """The modules among ``names`` that cannot be imported here (without importing them)."""
    return [name for name in names if importlib.util.find_spec(name) is None]


def ask_flat(trial: Any, node: Node, flat: Flat, seed: int = 0) -> None:
    """Ask an Optuna trial for a value of every active parameter under ``node`` (``seed``
    and the trial's number seed the draws of randints too wide for Optuna)."""
    if isinstance(node, NumberNode) and node.unordered:
        values = node.categories()
        if values is None:
            rng = np.random.default_rng([seed, trial.number, zlib.crc32(node.label.encode())])
            node.sample_flat(rng, flat)
        else:
            flat[node.path] = trial.suggest_categorical(node.label, values)
    elif isinstance(node, NumberNode):
        bounds = number_distribution(node)
        if node.integer:
            raw = trial.suggest_int(node.label, bounds.low, bounds.high, log=node.log)
        else:
            raw = trial.suggest_float(node.label, bounds.low, bounds.high, log=node.log)
        flat[node.path] = node.finish(raw)
    elif isinstance(node, ChoiceNode):
        position = trial.suggest_categorical(node.label, list(range(len(node.values))))
        flat[node.path] = node.values[position]
    elif isinstance(node, BranchNode):
        position = trial.suggest_categorical(node.label, list(range(len(node.branches))))
        flat[node.branch_key] = position
        ask_flat(trial, node.branches[position], flat, seed)
    elif isinstance(node, ArrayNode):
        length = trial.suggest_int(node.label, node.min_items, node.max_items)
        for item in node.items[:length]:
            ask_flat(trial, item, flat, seed)
    elif isinstance(node, ObjectNode):
        for child in node.properties.values():
            ask_flat(trial, child, flat, seed)
    elif isinstance(node, ConstantNode):
        flat[node.path] = node.value


def ask_study(study: Any, space: Space, seed: int = 0) -> tuple[Any, Flat]:
    """Ask an Optuna study for a new trial; the trial (still running) and our flat form of it."""
    trial = study.ask()
    flat: Flat = {}
    ask_flat(trial, space.root, flat, seed)
    return trial, flat


def recorded_trial(space: Space, flat: Flat, loss: float | None) -> Any:
    """One of our trials as an Optuna trial: complete with its loss, or running without."""
    import optuna
    from optuna.trial import TrialState

    params: dict[str, Any] = {}
    distributions: dict[str, Any] = {}
    _record(space.root, flat, params, distributions)
    state = TrialState.RUNNING if loss is None else TrialState.COMPLETE
    return optuna.trial.create_trial(
        params=params, distributions=distributions, value=loss, state=state
    )


def _record(node: Node, flat: Flat, params: dict[str, Any], distributions: dict[str, Any]) -> None:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(node, NumberNode) and node.unordered and node.path in flat:
        values = node.categories()
        if values is not None:  # a wider one is drawn at random, not learnt
            params[node.label] = int(flat[node.path])
            distributions[node.label] = CategoricalDistribution(values)
    elif isinstance(node, NumberNode) and node.path in flat:
        distribution = number_distribution(node)
        low, high = distribution.low, distribution.high
        value = min(high, max(low, flat[node.path]))  # rounding may step past a bound
        params[node.label] = int(value) if isinstance(distribution, IntDistribution) else value
        distributions[node.label] = distribution
    elif isinstance(node, ChoiceNode) and node.path in flat:
        params[node.label] = node.values.index(flat[node.path])
        distributions[node.label] = CategoricalDistribution(list(range(len(node.values))))
    elif isinstance(node, BranchNode):
        position = int(flat[node.branch_key])
        params[node.label] = position
        distributions[node.label] = CategoricalDistribution(list(range(len(node.branches))))
        _record(node.branches[position], flat, params, distributions)
    elif isinstance(node, ArrayNode):
        length = node.length(flat)
        params[node.label] = length
        distributions[node.label] = IntDistribution(node.min_items, node.max_items)
        for item in node.items[:length]:
            _record(item, flat, params, distributions)
    elif isinstance(node, ObjectNode):
        for child in node.properties.values():
            _record(child, flat, params, distributions)


def number_distribution(node: NumberNode) -> Any:
    """The number's searched range (mean ± 3 standard deviations for an unbounded normal, as
    for ``bayesian``), searched uniformly: Optuna's samplers know no other draw."""
    from optuna.distributions import FloatDistribution, IntDistribution

    if node.low is not None and node.high is not None:
        low, high = node.low, node.high
    else:
        low, high = (math.exp(end) if node.log else end for end in node.axis())
    if node.integer:
        return IntDistribution(math.ceil(low), math.floor(high), log=node.log)
    return FloatDistribution(low, high, log=node.log)


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna logs every trial it is told of, and warns of experimental arguments; our own
    progress output says what matters."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)
