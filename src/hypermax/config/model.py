"""The typed form of a loaded config: plain objects, defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from hypermax.execution import DEFAULT_EXECUTOR, ExecutorSettings
from hypermax.loss import MetricSpec
from hypermax.optimizers.base import MethodSettings
from hypermax.optimizers.staged import Incremental, Stage
from hypermax.pruning import EarlyStopping
from hypermax.space import Space

DEFAULT_ITERATIONS = 100
DEFAULT_METHOD = "auto"  # the best measured: see benchmarks/RESULTS.md
DEFAULT_RESULTS_DIRECTORY = "hypermax_results"


@dataclass
class FunctionConfig:
    """How to run the model (the config's ``function`` section): the keys every executor
    shares, and in ``settings`` those of its ``type``, as that executor's ``Settings``
    (``PythonFunctionSettings``, ``ExecutableSettings`` ...; None: its defaults)."""

    type: str = DEFAULT_EXECUTOR
    settings: ExecutorSettings | None = None
    auto_kill_max_time: float | None = None
    auto_kill_max_ram: float | None = None
    auto_kill_max_system_ram: float | None = None
    auto_kill_max_gpu_ram: float | None = None
    auto_kill_loss: float | None = None
    max_log_size: float = 10.0  # MiB a trial's log keeps: its first and last halves


@dataclass
class SearchSettings:
    """How to search (the config's ``search`` section)."""

    name: str = "search"
    method: str = DEFAULT_METHOD
    iterations: int = DEFAULT_ITERATIONS
    seed: int | None = None
    parallel: int = 1
    storage: str | None = None
    method_settings: MethodSettings = field(default_factory=MethodSettings)  # the method's own
    initial: list[Any] = field(default_factory=list)  # nested parameter sets to try first
    seed_from: list[str] = field(default_factory=list)  # results folders whose trials inform
    stages: list[Stage] = field(default_factory=list)  # methods and settings resolved
    incremental: Incremental | None = None  # its method and settings resolved
    early_stopping: EarlyStopping | None = None
    objective: str = "scalar"  # or "pareto": metrics kept apart, the result is the front
    stop_after_failures: int = 5  # a run whose first N finished trials all failed stops; 0: never


@dataclass
class Config:
    """A validated search description.

    ``base_dir`` is the config file's folder: modules, ``src`` files and the results directory
    are found relative to it.
    """

    hyperparameters: dict[str, Any]
    metrics: dict[str, MetricSpec] = field(default_factory=dict)
    function: FunctionConfig | None = None
    search: SearchSettings = field(default_factory=SearchSettings)
    results_directory: str = DEFAULT_RESULTS_DIRECTORY
    results_graphs: bool = False  # write the analysis charts and report while the search runs
    base_dir: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    # the original Hypermax's description of the search: saved, shown, never uploaded
    hypermax_results: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def space(self) -> Space:
        return Space.from_schema(self.hyperparameters)

    def warm_start(self) -> list[dict[str, Any]]:
        """Flat sets tried before the optimizer's: the defaults (when the space gives any),
        then ``search.initial`` (missing values taken from the defaults)."""
        found = [self.space.default()] if self.space.has_defaults() else []
        return found + [self.space.complete(partial) for partial in self.search.initial]

    @property
    def results_dir(self) -> Path:
        """The folder of this search's results: ``<results.directory>/<search.name>``."""
        return (self.base_dir / self.results_directory / self.search.name).resolve()
