"""The record of one trial, shared by the runner, storage, optimizers and analysis, and its
lifecycle: the one place a trial's status changes (see ``ALLOWED``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
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


# the statuses a trial may move to from each status; a finished trial never changes again
ALLOWED: dict[TrialStatus, frozenset[TrialStatus]] = {
    TrialStatus.RUNNING: frozenset(
        {
            TrialStatus.OK,
            TrialStatus.FAILED,
            TrialStatus.KILLED,
            TrialStatus.PRUNED,
            TrialStatus.INTERRUPTED,
        }
    ),
    # run again on resume, or failed once it has interrupted the search too often
    TrialStatus.INTERRUPTED: frozenset({TrialStatus.RUNNING, TrialStatus.FAILED}),
    TrialStatus.OK: frozenset(),
    TrialStatus.FAILED: frozenset(),
    TrialStatus.KILLED: frozenset(),
    TrialStatus.PRUNED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A trial was asked to move to a status ``ALLOWED`` does not permit: a bug in the caller,
    never something a user's model or config can cause."""


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

    def start(self, log_path: str | None = None) -> None:
        """Run it: a new trial (never started) or an interrupted one run again, which reports
        from its first step anew."""
        if not (self.status is TrialStatus.RUNNING and self.started_at is None):
            self._move(TrialStatus.RUNNING)
        self.started_at = _now()
        self.finished_at = None
        self.intermediate = []
        self.log_path = log_path

    def finish(
        self, status: TrialStatus, loss: float | None = None, error: str | None = None
    ) -> None:
        """End a running trial as ``ok``, ``failed``, ``killed`` or ``pruned``."""
        if not status.finished:
            raise IllegalTransition(f"trial {self.number}: {status.value} is not an ending")
        self._move(status)
        self.finished_at = _now()
        self.loss = loss
        if error is not None:
            self.error = error

    def interrupt(self, counted: bool) -> None:
        """The run stopped under a running trial: it runs again first on resume. ``counted``
        holds it against the trial (the search died under it, not the user's Ctrl-C)."""
        self._move(TrialStatus.INTERRUPTED)
        self.finished_at = _now()
        self.interruptions += counted

    def give_up(self, reason: str) -> None:
        """An interrupted trial that is not to run again: failed with ``reason``."""
        if self.status is not TrialStatus.INTERRUPTED:
            raise IllegalTransition(f"trial {self.number} is {self.status.value}, not interrupted")
        self._move(TrialStatus.FAILED)
        self.error = reason

    def _move(self, status: TrialStatus) -> None:
        if status not in ALLOWED[self.status]:
            raise IllegalTransition(
                f"trial {self.number} cannot go from {self.status.value} to {status.value}"
            )
        self.status = status


def best_trial(trials: list[Trial]) -> Trial | None:
    """The successful trial with the lowest loss (the earliest one on ties)."""
    scored = [t for t in trials if t.status is TrialStatus.OK and t.has_loss]
    return min(scored, key=lambda t: (t.loss, t.number)) if scored else None


def _now() -> datetime:
    return datetime.now(timezone.utc)
