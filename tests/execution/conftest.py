"""Helpers for executor tests with real processes."""

from __future__ import annotations

import time

from hypermax.execution.base import Executor, TrialOutcome


def every_outcome(executor: Executor, count: int, timeout: float = 60.0) -> list[TrialOutcome]:
    """The first ``count`` outcomes the executor reports, however many each ``wait`` returns
    (trials that end together come back from the same one), or a test failure after
    ``timeout``."""
    outcomes: list[TrialOutcome] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(outcomes)} of {count} outcomes within {timeout:.0f} s")
        outcomes += executor.wait(0.5)
    return outcomes


def next_outcome(executor: Executor, timeout: float = 60.0) -> TrialOutcome:
    """The one next outcome; more at once is a failure (use ``every_outcome``), never an
    outcome silently dropped."""
    outcomes = every_outcome(executor, 1, timeout)
    assert len(outcomes) == 1, f"{len(outcomes)} outcomes at once: use every_outcome"
    return outcomes[0]
