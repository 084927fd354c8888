"""Turns what a model returned into one scalar loss, keeping every metric beside it.

The math (also in the README):

- A plain number is the loss.
- A dict with ``loss`` uses it; otherwise each metric named in ``metrics`` is normalized and the
  weighted normalized values are summed. With ``min``/``max`` a metric maps to 0 (best) .. 1
  (worst) between them, on a log axis for ``scaling: logarithmic``; without bounds the raw (or
  log) value is used, negated for ``direction: increase``.
- A ``time`` metric with ``target_time`` adds
  ``((t - target_time)^2 / (max_time - target_time)^2) * penalty_at_max`` for ``t > target_time``;
  one without ``target_time`` is an ordinary metric over ``t`` (bounds, direction, scaling,
  weight), where ``t`` is the returned ``time`` or else the measured wall time. Time and memory
  metrics are measured, so they add to any loss; a dict holding nothing but ``time`` is scored
  by them alone.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hypermax.errors import TrialError

RESERVED_KEYS = ("loss", "time")
RESOURCE_SOURCES = {"ram": "peak_ram_mib", "gpu_ram": "peak_gpu_ram_mib"}


@dataclass(frozen=True)
class MetricSpec:
    """One entry of the config's ``metrics`` section."""

    name: str
    type: str = "metric"
    min: float | None = None
    max: float | None = None
    direction: str = "decrease"
    scaling: str = "linear"
    weight: float = 1.0
    target_time: float | None = None
    max_time: float | None = None
    penalty_at_max: float = 0.1

    def normalized(self, value: float) -> float:
        """0 is best; with bounds, 1 is the worst end of the range."""
        if self.scaling == "logarithmic":
            if value <= 0:
                raise TrialError(
                    f"metric {self.name!r} is {value}; logarithmic scaling needs values above 0"
                )
            value, low, high = (
                math.log(value),
                _log_or_none(self.min),
                _log_or_none(self.max),
            )
        else:
            low, high = self.min, self.max
        if low is None and self.type in RESOURCE_SOURCES:
            low = 0.0  # memory is measured from zero
        if low is not None and high is not None:
            position = (value - low) / (high - low)
            return 1.0 - position if self.direction == "increase" else position
        return -value if self.direction == "increase" else value

    def time_term(self, seconds: float) -> float:
        """What a ``time`` metric adds for a trial of ``seconds``: the penalty past
        ``target_time``, or without one the weighted normalized time."""
        if self.target_time is None:
            return self.weight * self.normalized(seconds)
        return self.time_penalty(seconds)

    def time_penalty(self, seconds: float) -> float:
        if self.target_time is None or self.max_time is None or seconds <= self.target_time:
            return 0.0
        overrun = (seconds - self.target_time) ** 2 / (self.max_time - self.target_time) ** 2
        return overrun * self.penalty_at_max


def _log_or_none(value: float | None) -> float | None:
    return None if value is None else math.log(value)


@dataclass
class LossResult:
    loss: float
    metrics: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TrialError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise TrialError(f"{what} is {number}; a loss must be a finite number")
    return number


def plain_data(value: Any) -> Any:
    """A model's result as plain Python data: numpy scalars and arrays, tensors and other
    number-likes become numbers and lists (NaN stays NaN, for the loss to refuse); anything
    else unknown becomes its repr. Workers send only this, so no object of the model's is
    ever rebuilt in the search process."""
    if value is None or type(value) in (str, bool, int, float):
        return value  # exactly these types: a subclass could be a class only the model knows
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    for convert in ("item", "tolist"):  # numpy scalars, 0-d tensors; arrays
        method = getattr(value, convert, None)
        if callable(method):
            with contextlib.suppress(Exception):
                return plain_data(method())
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return repr(value)


def _plain(value: Any) -> Any:
    """Metadata as JSON-friendly data (JSON has no NaN or infinity)."""
    value = plain_data(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _measured_terms(
    metrics: Mapping[str, MetricSpec], seconds: float, resources: Mapping[str, float]
) -> tuple[float, dict[str, float]]:
    """What hypermax measured itself and adds to any loss: the time metrics (a penalty, or the
    normalized time) and the weighted resource metrics (peak RAM, peak GPU RAM), with the
    resource values to record."""
    total, values = 0.0, {}
    for spec in metrics.values():
        if spec.type == "time":
            total += spec.time_term(seconds)
        elif spec.type in RESOURCE_SOURCES:
            values[spec.name] = float(resources.get(RESOURCE_SOURCES[spec.type], 0.0))
            total += spec.weight * spec.normalized(values[spec.name])
    return total, values


def compute_loss(
    result: Any,
    metrics: Mapping[str, MetricSpec],
    measured_time: float,
    resources: Mapping[str, float] | None = None,
) -> LossResult:
    """The loss of one trial; raises TrialError (failing that trial only) for unusable results.

    ``resources`` are the trial's measured peaks (``peak_ram_mib``, ``peak_gpu_ram_mib``).
    """
    resources = resources or {}
    if not isinstance(result, Mapping):
        if isinstance(result, bool) or not isinstance(result, numbers.Real):
            raise TrialError(
                "the model must return a number (the loss) or a dict of metrics, "
                f"got {type(result).__name__}"
            )
        loss = _finite(result, "the returned loss")
        added, measured = _measured_terms(metrics, measured_time, resources)
        return LossResult(loss + added, measured, {}, measured_time)

    seconds = measured_time
    if "time" in result:
        seconds = _finite(result["time"], "the returned 'time'")
    values: dict[str, float] = {}
    for spec in metrics.values():
        if spec.type == "metric" and spec.name in result:
            values[spec.name] = _finite(result[spec.name], f"metric {spec.name!r}")
    if "loss" in result:
        loss = _finite(result["loss"], "the returned 'loss'")
    else:
        wanted = [m for m in metrics.values() if m.type == "metric"]
        unnamed = sorted(str(k) for k in result if k not in RESERVED_KEYS and k not in metrics)
        if not wanted and (unnamed or len(metrics) == 0):
            # the loss would be the measured metrics alone, and what the model returned
            # would count for nothing
            returned = f" (it returned keys {unnamed})" if unnamed else ""
            raise TrialError(
                "the model returned a dict without a 'loss' key, and the config names no metrics "
                f"to compute one from{returned}; return {{'loss': ...}} or list the metrics "
                "under 'metrics'"
            )
        missing = [m.name for m in wanted if m.name not in values]
        if missing:
            raise TrialError(
                f"the model's result lacks metric(s) {', '.join(map(repr, missing))} named in "
                f"'metrics' (it returned keys {sorted(map(str, result))})"
            )
        loss = sum(m.weight * m.normalized(values[m.name]) for m in wanted)  # 0 without any
    added, measured = _measured_terms(metrics, seconds, resources)
    loss += added
    values.update(measured)
    known = set(RESERVED_KEYS) | set(metrics)
    metadata = {str(k): _plain(v) for k, v in result.items() if k not in known}
    return LossResult(loss, values, metadata, seconds)
