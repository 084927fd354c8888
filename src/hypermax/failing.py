"""Failing fast: a run whose first trials all fail stops, saying what they share and how to
fix it, instead of spending every iteration on a model or config that cannot work."""

from __future__ import annotations

import difflib
import numbers
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypermax.loss import MetricSpec
from hypermax.trial import Trial, TrialStatus


class FailureWatch:
    """Fail fast: a run whose first ``limit`` trials to end ``ok`` or ``failed`` all failed
    stops (0: never). Killed and pruned trials count neither way: they are the user's limits
    at work, not a sign that the model or the config is broken. O(1) per trial."""

    def __init__(self, limit: int):
        self.limit = limit
        self.failures: list[tuple[Trial, str]] = []  # the run's failed trials, with advice
        self.succeeded = False

    @property
    def armed(self) -> bool:
        return self.limit > 0 and not self.succeeded and len(self.failures) < self.limit

    @property
    def tripped(self) -> bool:
        return self.limit > 0 and not self.succeeded and len(self.failures) >= self.limit

    def note(self, trial: Trial, hint: str) -> None:
        if trial.status is TrialStatus.OK:
            self.succeeded = True
        elif trial.status is TrialStatus.FAILED and self.armed:
            self.failures.append((trial, hint))

    def explain(self, results_dir: Path | None) -> str:
        """What the failed trials share, how to fix it, and how to go on."""
        count = len(self.failures)
        errors = Counter(_last_line(trial.error) for trial, _ in self.failures)
        common = errors.most_common(1)[0][0]
        if len(errors) == 1:
            text = f"{count} trials of this run failed and none succeeded, all with the error:\n"
            text += f"  {common}"
        else:
            text = f"{count} trials of this run failed and none succeeded; their errors:\n"
            text += "\n".join(f"  {n}x {error}" for error, n in errors.most_common())
        hint = next(h for t, h in self.failures if _last_line(t.error) == common)
        if hint:
            text += f"\nFix: {hint}"
        where = f" in {results_dir}" if results_dir is not None else ""
        return (
            f"{text}\nStopped early, since every trial seems to fail: the trials are saved"
            f"{where}; fix the cause and run the same command again to go on (it stops again "
            f"if its first {self.limit} trials fail too; search.stop_after_failures: 0 never "
            "stops early)."
        )


def _last_line(error: str | None) -> str:
    lines = (error or "").strip().splitlines()
    return lines[-1] if lines else "no error message"


# metric names whose larger values are better (a guess for the advice; the user decides)
_HIGHER_IS_BETTER = (
    "acc", "auc", "f1", "precision", "recall", "score", "r2", "reward", "return", "iou", "map",
    "bleu", "rouge", "ndcg", "dice", "fitness", "profit", "gain", "sharpe",
)  # fmt: skip
_LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "cost", "perplexity", "regret", "nll", "time")


def _direction_advice(name: str) -> str:
    lowered = name.lower()
    if any(word in lowered for word in _LOWER_IS_BETTER):
        return "(lower is better: the default direction)"
    if any(word in lowered for word in _HIGHER_IS_BETTER):
        return "with `direction: increase`"
    return "(with `direction: increase` if higher is better)"


def result_advice(value: Any, metrics: Mapping[str, MetricSpec]) -> str:
    """How to fix a model result the loss cannot be computed from, naming what it returned:
    the keys of a dict without ``loss``, the metrics the config names that it lacks."""
    if not isinstance(value, Mapping) or "loss" in value:
        return ""
    returned = [str(key) for key in value if key != "time"]
    numbers_returned = [
        key
        for key in returned
        if isinstance(value[key], numbers.Real) and not isinstance(value[key], bool)
    ]
    wanted = [m.name for m in metrics.values() if m.type == "metric"]
    shown = ", ".join(f"`{key}`" for key in returned) or "no keys"
    if not wanted:
        if not numbers_returned:
            return (
                f"the model returned {shown}, no number among them: return `loss` (a number, "
                "lower is better), or numbers named in `metrics`"
            )
        guessed = [k for k in numbers_returned if "if higher" not in _direction_advice(k)]
        key = (guessed or numbers_returned)[0]
        spec = '{"direction": "increase"}' if _direction_advice(key).startswith("with") else "{}"
        others = [k for k in numbers_returned if k != key]
        listed = ", ".join(f"`{k}`" for k in others)
        also = f" (list each number that should count in the loss: {listed} too?)" * bool(others)
        return (
            f"the model returned {shown} but no `loss`, and the config has no `metrics`: "
            f"add a `metrics` entry for `{key}` {_direction_advice(key)}, e.g. "
            f'"metrics": {{"{key}": {spec}}}, or return `loss`{also}'
        )
    missing = [name for name in wanted if name not in value]
    if not missing:
        return ""
    renames = []
    for name in missing:
        close = difflib.get_close_matches(name, numbers_returned, n=1, cutoff=0.5)
        renames.append(f"`{name}` (did the model mean `{close[0]}`?)" if close else f"`{name}`")
    return (
        f"the config's `metrics` name {', '.join(renames)}, which the model does not return "
        f"(it returned {shown}): return those keys, or rename the `metrics` entries to match"
    )
