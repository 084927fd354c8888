"""Helpers for executor tests with real processes."""

from __future__ import annotations

import time

from hypermax.execution.base import Executor, TrialOutcome


def next_outcome(executor: Executor, timeout: float = 60.0) -> TrialOutcome:
    """The next trial outcome the executor reports, or a test failure after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcomes = executor.wait(0.5)
        if outcomes:
            return outcomes[0]
    raise AssertionError(f"no outcome within {timeout:.0f} s")
