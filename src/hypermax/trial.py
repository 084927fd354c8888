"""The record of one trial, shared by the runner, storage, optimizers and analysis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class TrialStatus(str, Enum):
    """Where a trial stands. Only ``ok``, ``failed``, ``killed`` and ``pruned`` count towards
    iterations."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    KILLED = "killed"
    PRUNED = "pruned"  # stopped early for poor intermediate values; loss is the last reported
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in (TrialStatus.OK, TrialStatus.FAILED, TrialStatus.KILLED, TrialStatus.PRUNED)


@dataclass
class Trial:
    """One evaluation of the model.

    ``params`` is the nested form the model received; ``flat`` the dotted form (see `space`).
    ``time`` is the time the loss used (returned by the model, else measured);
    ``measured_time`` is always the wall time hypermax measured.
    """

    number: int
    flat: dict[str, Any]
    params: Any
    status: TrialStatus = TrialStatus.RUNNING
    loss: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    time: float | None = None
    measured_time: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    traceback: str | None = None
    log_path: str | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    intermediate: list[list[float]] = field(default_factory=list)  # [step, value] reported
    interruptions: int = 0  # times the search stopped while this trial ran (poison-trial cap)

    @property
    def has_loss(self) -> bool:
        return self.loss is not None and math.isfinite(self.loss)


def best_trial(trials: list[Trial]) -> Trial | None:
    """The successful trial with the lowest loss (the earliest one on ties)."""
    scored = [t for t in trials if t.status is TrialStatus.OK and t.has_loss]
    return min(scored, key=lambda t: (t.loss, t.number)) if scored else None
