"""Early stopping (``search.early_stopping``): stop a trial whose intermediate values are poor
compared with what earlier trials reported at the same step.

A trial's best value so far is compared with the values that finished trials reported at the
same step; when it is worse than their ``percentile`` (the median by default), the trial is
told to stop. Nothing is stopped before ``warmup_steps`` or before ``min_trials`` trials have
reported that step, so the first trials always run to the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hypermax.trial import Trial


@dataclass(frozen=True)
class EarlyStopping:
    percentile: float = 50.0
    min_trials: int = 5
    warmup_steps: int = 0

    def should_stop(self, trial: Trial, step: int, others: Sequence[Trial]) -> bool:
        """Whether ``trial``, which just reported ``step``, should stop."""
        if step < self.warmup_steps:
            return False
        own = [value for at, value in trial.intermediate if at <= step]
        rivals = [
            value
            for other in others
            if other.number != trial.number and other.status.finished
            for at, value in other.intermediate
            if at == step
        ]
        if not own or len(rivals) < self.min_trials:
            return False
        return min(own) > float(np.percentile(rivals, self.percentile))
