"""What a search gives back: its trials and best, or, when its first trials all failed, the
exception that says so and still carries them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypermax.trial import Trial, best_trial


@dataclass
class SearchResult:
    """The outcome of a search: best parameters in the nested form the model received."""

    trials: list[Trial]
    results_dir: Path | None
    pareto_front: list[Trial] = field(default_factory=list)  # with objective: pareto
    best: Trial | None = field(init=False)

    def __post_init__(self) -> None:
        self.best = best_trial(self.trials)

    @property
    def best_params(self) -> Any:
        return self.best.params if self.best else None

    @property
    def best_loss(self) -> float | None:
        return self.best.loss if self.best else None


class TrialsFailing(RuntimeError):
    """The first trials of a run all failed and none succeeded: the run stopped early
    (``search.stop_after_failures``). Every trial is recorded and the results files are
    written; running the search again goes on. ``result`` holds the trials so far."""

    def __init__(self, message: str, result: SearchResult):
        super().__init__(message)
        self.result = result
