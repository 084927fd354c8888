"""Multi-objective searches (``search.objective: pareto``): the metrics stay separate and the
result is the Pareto front, the trials no other trial beats on every metric at once.

Each metric of the config is one objective, oriented so that lower is better: a ``metric`` or
``ram``/``gpu_ram`` entry through its normalization (direction, bounds, scaling; weights play
no part), a ``time`` entry as the trial's seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypermax.errors import TrialError
from hypermax.loss import MetricSpec
from hypermax.trial import Trial, TrialStatus


def objectives(trial: Trial, metrics: Mapping[str, MetricSpec]) -> list[float] | None:
    """The trial's objective values (lower is better), or None when it has not all of them."""
    if trial.status is not TrialStatus.OK:
        return None
    values = []
    for spec in metrics.values():
        if spec.type == "time":
            if trial.time is None:
                return None
            values.append(float(trial.time))
            continue
        raw = trial.metrics.get(spec.name)
        if raw is None:
            return None
        try:
            values.append(spec.normalized(float(raw)))
        except (TrialError, TypeError, ValueError):
            return None
    return values


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def pareto_front(trials: Sequence[Trial], metrics: Mapping[str, MetricSpec]) -> list[Trial]:
    """The non-dominated successful trials, ordered by their first objective."""
    scored = [(trial, objectives(trial, metrics)) for trial in trials]
    points = [(trial, values) for trial, values in scored if values is not None]
    front = [
        (trial, values)
        for trial, values in points
        if not any(dominates(other, values) for _, other in points if other is not values)
    ]
    return [trial for trial, _ in sorted(front, key=lambda item: (item[1], item[0].number))]
