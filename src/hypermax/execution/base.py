"""The executor plug-in point: runs trials somewhere else and reports what happened.

An implementation promises:

- Trial code never runs in the search process: a crash, hang or leak of the model can fail or
  kill its trial, never the search.
- ``start()`` checks that the model can be loaded before any trial runs and raises ConfigError
  (naming the config path) when it cannot.
- Every submitted trial comes back exactly once from ``wait()`` as a ``TrialOutcome`` (a result,
  an error, or a kill), unless ``stop()`` ended it first.
- ``stop()`` ends every running trial and leaves no process behind.
- Executors whose models can call ``hypermax.report`` hand the reports over in ``reports()``
  and pass ``prune(number)`` on to the trial (whose next report then raises ``TrialPruned``);
  the others keep the defaults, which do nothing.

An executor's own keys of the ``function`` section (beyond those every executor shares) are
declared as its ``ExecutorSettings`` subclass, in a module cheap to import: the config loader
checks a section against it without loading the executor.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from hypermax.errors import ConfigIssue


@dataclass(frozen=True)
class ExecutorSettings:
    """An executor's own settings (its keys of the ``function`` section); this one takes none.

    A subclass declares its fields with ``hypermax.settings.spec``: the section's schema and the
    typed object the loader builds come from it.
    """

    def issues(self, where: str = "function") -> list[ConfigIssue]:
        """What the section still lacks for its executor to run, or what contradicts itself,
        beyond what the schema checks; ``where`` is the section's config path. The loader asks
        where the config says how to run the model."""
        return []


class OutcomeKind(str, Enum):
    RESULT = "result"
    ERROR = "error"
    KILLED = "killed"
    PRUNED = "pruned"


@dataclass
class TrialRequest:
    """What an executor needs to run one trial: its number, the nested params, the log file."""

    number: int
    params: Any
    log_path: Path


@dataclass
class TrialOutcome:
    """How a trial ended. ``value`` is what the model returned (for ``result``)."""

    number: int
    kind: OutcomeKind
    measured_time: float
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    resources: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """An intermediate value a running trial reported."""

    number: int
    step: int
    value: float


@dataclass(frozen=True)
class Sample:
    """What a running trial uses now, for those watching: seconds it has run, memory of its
    process tree (MiB), CPU (percent of one core, summed over its processes), GPU memory
    (MiB, None where not watched), and how far it is towards each kill limit it has (a share
    of the limit: 1.0 is the limit)."""

    number: int
    elapsed: float
    ram_mib: float
    cpu_percent: float
    gpu_ram_mib: float | None = None
    limits: dict[str, float] = field(default_factory=dict)


class Executor(ABC):
    """Runs up to ``capacity`` trials at once."""

    capacity: int = 1

    @abstractmethod
    def start(self) -> None:
        """Prepare workers and check the model loads; ConfigError if it cannot."""

    @abstractmethod
    def submit(self, request: TrialRequest) -> None:
        """Start a trial; at most ``capacity`` may run at once."""

    @abstractmethod
    def wait(self, timeout: float) -> list[TrialOutcome]:
        """Outcomes of trials that ended, waiting up to ``timeout`` seconds for the first."""

    @abstractmethod
    def stop(self) -> list[int]:
        """End all running trials and workers; the numbers of trials that were cut short."""

    def reports(self) -> list[Report]:
        """Intermediate values reported since the last call."""
        return []

    def samples(self) -> list[Sample]:
        """What each running trial uses now; executors that cannot tell return nothing."""
        return []

    def prune(self, number: int) -> None:  # noqa: B027 - optional: no reports, nothing to stop
        """Ask running trial ``number`` to stop early."""

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
