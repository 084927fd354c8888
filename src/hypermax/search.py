"""The search runner: the one part that knows config, optimizer, executor and storage.

It keeps ``parallel`` trials in flight: asks the optimizer, records the trial as running, submits
it, and records its outcome the moment it ends. Storage is written on every change, so the search
can be killed at any time and resumed by running it again.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypermax import __version__
from hypermax.config import Config, FunctionConfig
from hypermax.errors import ConfigError, ConfigIssue, TrialError
from hypermax.execution.base import Executor, OutcomeKind, TrialOutcome, TrialRequest
from hypermax.execution.executable import ExecutableExecutor
from hypermax.execution.local import LocalExecutor, Recycling
from hypermax.execution.monitor import Limits
from hypermax.execution.processes import LEDGER_NAME, Ledger, end_leftovers
from hypermax.execution.python_function import FunctionSource
from hypermax.failing import FailureWatch, result_advice
from hypermax.graphs import LiveGraphs
from hypermax.loss import compute_loss
from hypermax.optimizers import Optimizer, create_optimizer
from hypermax.optimizers.scalarized import Scalarized
from hypermax.optimizers.staged import Stage, Staged
from hypermax.pareto import objectives, pareto_front
from hypermax.pruning import EarlyStopping
from hypermax.space import point_key
from hypermax.storage import SQLStorage, Storage, sqlite_url
from hypermax.storage.base import file_error
from hypermax.storage.export import pareto_dicts, write_atomic, write_results_files
from hypermax.storage.results import ORIGIN_FILENAME, make_results_dir, origin_record, read_results
from hypermax.storage.sql import file_lock, results_lock_path
from hypermax.trial import Trial, TrialStatus, best_trial

POLL_SECONDS = 0.5
FILES_INTERVAL = 1.0
MAX_RERUNS = 2  # of a trial the search died or got SIGTERM under: one that kills it fails


@dataclass
class SearchEvent:
    """What listeners (progress, UIs) hear: ``started``, ``trial_finished``, ``finished``."""

    kind: str
    finished: int
    total: int
    trial: Trial | None = None
    best: Trial | None = None


Listener = Callable[[SearchEvent], None]


class TrialsFailing(RuntimeError):
    """The first trials of a run all failed and none succeeded: the run stopped early
    (``search.stop_after_failures``). Every trial is recorded and the results files are
    written; running the search again goes on. ``result`` holds the trials so far."""

    def __init__(self, message: str, result: SearchResult):
        super().__init__(message)
        self.result = result


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


def executor_for(
    config: Config,
    function: Callable[[Any], Any] | None = None,
    results_dir: Path | None = None,
) -> Executor:
    """The executor for a config's ``function`` section: warm Python workers for a function
    (or ``function``, a callable), one process per trial for an executable. It lists the
    processes of trials in ``results_dir`` (the config's by default), for a resumed search to
    end those a killed one left running."""
    spec = config.function or FunctionConfig()
    limits = Limits(
        max_time=spec.auto_kill_max_time,
        max_ram=spec.auto_kill_max_ram,
        max_system_ram=spec.auto_kill_max_system_ram,
        max_gpu_ram=spec.auto_kill_max_gpu_ram,
        max_log=spec.max_log_size,
    )
    ledger = Ledger((results_dir or config.results_dir) / LEDGER_NAME)
    if function is None and spec.type == "executable" and spec.command:
        return ExecutableExecutor(
            spec.command, config.base_dir, config.search.parallel, limits, spec.arguments, ledger
        )
    if function is not None:
        source = FunctionSource(function=function)
    elif not (spec.module or spec.src):
        raise ConfigError(ConfigIssue("function", "missing: say which model function to run"))
    else:
        source = FunctionSource(
            module=spec.module, src=spec.src, name=spec.name, base_dir=str(config.base_dir)
        )
    recycling = Recycling(
        fresh_process=spec.isolation == "process",
        max_trials=spec.max_trials_per_worker,
        max_idle_ram=spec.worker_max_ram,
    )
    return LocalExecutor(source, config.search.parallel, limits, recycling, ledger=ledger)


def start_over(config: Config, folder: Path | None = None) -> list[str]:
    """``--fresh``: move earlier results aside (never delete them); says what moved where.
    ``folder``: the results folder, when not the config's.

    Under the run lock, so the results of a run in progress are never moved: that run keeps
    them and this one is refused, as a second run is."""
    folder = folder or config.results_dir
    make_results_dir(folder.parent, lock_beside=False)  # where the lock and the folder live
    if config.search.storage:
        with open_storage(config, folder) as storage, storage.writer_lock():
            return _move_aside(config, folder, storage)
    with file_lock(results_lock_path(folder), config.search.name):
        return _move_aside(config, folder, None)


def _move_aside(config: Config, folder: Path, storage: Storage | None) -> list[str]:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    moved = []
    suffix, counter = stamp, 1
    while folder.with_name(f"{folder.name}.old-{suffix}").exists():
        suffix, counter = f"{stamp}-{counter}", counter + 1
    if folder.exists():
        target = folder.with_name(f"{folder.name}.old-{suffix}")
        try:
            folder.rename(target)  # same parent: atomic, never a copy
        except OSError as error:
            raise file_error(error, folder, "moved aside") from error
        moved.append(f"earlier results moved to {target}")
    if storage is not None and storage.trials():
        storage.rename_search(f"{config.search.name}.old-{suffix}")
        moved.append(f"earlier trials in the database renamed to {storage.search_name!r}")
    return moved


def open_storage(config: Config, results_dir: Path, create: bool = True) -> SQLStorage:
    """The search's storage: ``search.storage`` if set, else SQLite in the results folder
    (whose run lock lives beside the folder). ``create=False`` reads only."""
    if config.search.storage:
        return SQLStorage(config.search.storage, config.search.name, create=create)
    return SQLStorage(
        sqlite_url(results_dir),
        config.search.name,
        create=create,
        lock_path=results_lock_path(results_dir),
    )


def optimizer_for(config: Config) -> Optimizer:
    """The search method of a config: its method, staged when it has stages, scalarized in
    turn when the objective is a Pareto front."""
    chosen = _single_objective_optimizer(config)
    if config.search.objective == "pareto":
        metrics = config.metrics
        return Scalarized(chosen, lambda trial: objectives(trial, metrics), config.search.seed)
    return chosen


def _single_objective_optimizer(config: Config) -> Optimizer:
    search = config.search
    if search.stages or search.incremental:
        stages = [
            Stage(
                tuple(stage["parameters"]),
                stage.get("method", search.method),
                int(stage["iterations"]),
                stage.get("settings", search.method_settings if "method" not in stage else {}),
            )
            for stage in search.stages
        ]
        return Staged(
            config.space,
            stages,
            search.incremental,
            search.method,
            search.seed,
            search.method_settings,
        )
    return create_optimizer(search.method, config.space, search.seed, search.method_settings)


class Search:
    """One search, resumable: running it again continues where the last run stopped."""

    def __init__(
        self,
        config: Config,
        executor: Executor | None = None,
        storage: Storage | None = None,
        results_dir: Path | None = None,
        listeners: Sequence[Listener] = (),
    ):
        self.config = config
        self.results_dir = results_dir if results_dir is not None else config.results_dir
        self.executor = executor or executor_for(config, results_dir=self.results_dir)
        self._storage = storage
        self.listeners = list(listeners)
        self.optimizer = optimizer_for(config)
        self._warm_start = config.warm_start()
        self._earlier = _earlier_trials(config)
        self._fit_cache: dict[int, bool] = {}
        self._fitting: dict[int, Trial] = {}  # the trials that inform the method, by number
        self.trials: dict[int, Trial] = {}
        self._finished = 0
        self._best: Trial | None = None
        self._files_written = 0.0
        self._stopping: set[int] = set()  # trials told to stop early
        self._failing = FailureWatch(config.search.stop_after_failures)
        self._graphs = LiveGraphs(self.results_dir) if config.results_graphs else None
        settings = config.search.early_stopping
        self._early_stopping = EarlyStopping(**settings) if settings is not None else None

    def run(self) -> SearchResult:
        """Run until ``iterations`` trials have finished; Ctrl-C records running ones as
        interrupted (they run again on resume) and re-raises."""
        make_results_dir(self.results_dir)
        storage = self._storage or open_storage(self.config, self.results_dir)
        try:
            with storage.writer_lock():
                end_leftovers(self.results_dir / LEDGER_NAME)  # of a run killed by kill -9
                self.executor.start()
                return self._run(storage)
        finally:
            self.executor.stop()
            if self._graphs is not None:
                self._graphs.stop()  # a pass still drawing (the search failed): ended
            if self._storage is None:
                storage.close()

    def _run(self, storage: Storage) -> SearchResult:
        storage.mark_interrupted()
        search_section = {**self.config.raw.get("search", {}), "name": self.config.search.name}
        search_section.pop("storage", None)  # the storage in use: a results folder may set it
        if self.config.search.storage:
            search_section["storage"] = self.config.search.storage
        saved = {**self.config.raw, "search": search_section}
        storage.save_config(saved)
        write_atomic(self.results_dir / "config.json", _json(saved))
        self._write_origin()
        self.trials = {t.number: t for t in storage.trials()}
        self._fail_poison_trials(storage)
        self._fitting = {t.number: t for t in self._ordered() if self._fits(t)}
        self._finished = sum(1 for t in self.trials.values() if t.status.finished)
        self._best = best_trial(self._ordered())
        self._write_files(force=True)
        reruns = [t for t in self._ordered() if t.status is TrialStatus.INTERRUPTED]
        target = self.config.search.iterations
        in_flight: dict[int, Trial] = {}
        self._emit("started")
        try:
            while True:
                room = min(
                    self.executor.capacity - len(in_flight),
                    target - self._finished - len(in_flight),
                )
                for trial in self._next_trials(max(room, 0), reruns):
                    self._start(storage, trial)
                    in_flight[trial.number] = trial
                if not in_flight:
                    break
                outcomes = self.executor.wait(POLL_SECONDS)
                self._take_reports(storage)  # first: a trial's last reports precede its end
                for outcome in outcomes:
                    trial = in_flight.pop(outcome.number)
                    self._record(storage, trial, outcome)
                if self._failing.tripped:  # after the whole batch: every outcome is recorded
                    with _signals_held():
                        self._interrupt_running(storage, counted=False)
                    break
        except BaseException as error:
            # Ctrl-C is the user's; anything else may be a trial's doing (it sent SIGTERM)
            counted = type(error) is not KeyboardInterrupt
            with _signals_held():  # a second Ctrl-C must not cut the clean-up short
                self._interrupt_running(storage, counted)
                self._write_files(force=True)
            raise
        self._write_files(force=True)
        self._emit("finished")
        if self._graphs is not None:
            self._graphs.finish()  # the charts of every trial; no trial runs any more
        result = SearchResult(self._ordered(), self.results_dir, self._front())
        if self._failing.tripped:
            raise TrialsFailing(self._failing.explain(self.results_dir), result)
        return result

    def _interrupt_running(self, storage: Storage, counted: bool) -> None:
        """End the running trials and record them ``interrupted``: they run first on resume.
        ``counted``: held against each trial (the search died under it, see MAX_RERUNS)."""
        self.executor.stop()
        for trial in self._ordered():  # also those cut short between save and submit
            if trial.status is TrialStatus.RUNNING:
                trial.status = TrialStatus.INTERRUPTED
                trial.finished_at = _now()
                trial.interruptions += counted
                storage.save_trial(trial)

    def _write_origin(self) -> None:
        """Record the config's folder and file, for ``hypermax resume`` to find the model; a
        search resumed from its folder's own config.json keeps the record it has."""
        path = self.results_dir / ORIGIN_FILENAME
        source = self.config.source
        resumed = (
            source is not None and source.resolve() == (path.parent / "config.json").resolve()
        )
        if resumed and path.exists():
            return
        record = origin_record(self.config.base_dir, None if resumed else source, __version__)
        write_atomic(path, _json(record))

    def _fail_poison_trials(self, storage: Storage) -> None:
        """Record as failed the interrupted trials already re-run ``MAX_RERUNS`` times: a
        trial that kills or interrupts the search would otherwise run first on every resume,
        and the search would never finish."""
        for trial in self._ordered():
            if trial.status is TrialStatus.INTERRUPTED and trial.interruptions > MAX_RERUNS:
                trial.status = TrialStatus.FAILED
                trial.error = (
                    f"interrupted the search {trial.interruptions} times (the search died or "
                    "was sent SIGTERM each time this trial ran): not run again"
                )
                storage.save_trial(trial)

    def upcoming(self, history: list[Trial], count: int) -> list[dict[str, Any]]:
        """The next ``count`` new flat parameter sets a run would try after ``history``:
        warm-start sets not tried yet, then the method's suggestions (informed by the
        ``seed_from`` searches)."""
        # trials recorded under an earlier version of the space stay stored, but only
        # those that are points of the current space inform the method
        return self._choose(history, [t for t in history if self._fits(t)], count)

    def _choose(
        self, history: Iterable[Trial], fitting: list[Trial], count: int
    ) -> list[dict[str, Any]]:
        chosen: list[dict[str, Any]] = []
        if self._warm_start:  # spares serialising the whole history on every trial otherwise
            tried = {point_key(t.flat) for t in history}
            fresh = [f for f in self._warm_start if point_key(f) not in tried][:count]
            chosen = [self.optimizer.prepare(flat) for flat in fresh]
        if count > len(chosen):
            chosen += self.optimizer.suggest(self._earlier + fitting, count - len(chosen))
        return chosen

    def _fits(self, trial: Trial) -> bool:
        if trial.number not in self._fit_cache:
            self._fit_cache[trial.number] = self.config.space.fits(trial.flat)
        return self._fit_cache[trial.number]

    def _next_trials(self, count: int, reruns: list[Trial]) -> list[Trial]:
        chosen = [reruns.pop(0) for _ in range(min(count, len(reruns)))]
        if count > len(chosen):
            # the fitting trials are kept as they come: filtering the whole history for every
            # new trial made each one slower than the last
            fitting = list(self._fitting.values())
            suggestions = self._choose(self.trials.values(), fitting, count - len(chosen))
            number = max(self.trials, default=0) + 1
            for offset, flat in enumerate(suggestions):
                trial = Trial(number + offset, flat, self.config.space.model_params(flat))
                chosen.append(trial)
                self.trials[trial.number] = trial
                if self._fits(trial):
                    self._fitting[trial.number] = trial
        return chosen

    def _start(self, storage: Storage, trial: Trial) -> None:
        log_path = self.results_dir / "logs" / f"trial-{trial.number}.log"
        trial.status = TrialStatus.RUNNING
        trial.started_at = _now()
        trial.finished_at = None
        trial.intermediate = []  # a re-run of an interrupted trial reports from its start
        trial.log_path = str(log_path)
        storage.save_trial(trial)
        self.executor.submit(TrialRequest(trial.number, trial.params, log_path))

    def _take_reports(self, storage: Storage) -> None:
        """Save the intermediate values running trials reported; stop the poor ones early."""
        for report in self.executor.reports():
            trial = self.trials.get(report.number)
            if trial is None or trial.status is not TrialStatus.RUNNING:
                continue
            trial.intermediate.append([report.step, report.value])
            storage.save_trial(trial)
            if (
                self._early_stopping is not None
                and trial.number not in self._stopping
                and self._early_stopping.should_stop(trial, report.step, self._ordered())
            ):
                self._stopping.add(trial.number)
                self.executor.prune(trial.number)

    def _record(self, storage: Storage, trial: Trial, outcome: TrialOutcome) -> None:
        trial.finished_at = _now()
        trial.measured_time = outcome.measured_time
        trial.time = outcome.measured_time
        trial.resources = outcome.resources
        trial.error, trial.traceback = outcome.error, outcome.traceback
        hint = ""
        if outcome.kind is OutcomeKind.RESULT:
            try:
                result = compute_loss(
                    outcome.value, self.config.metrics, outcome.measured_time, outcome.resources
                )
            except TrialError as error:
                trial.status, trial.error = TrialStatus.FAILED, str(error)
                if self._failing.armed:  # only the first trials of a run need the advice
                    hint = result_advice(outcome.value, self.config.metrics)
            else:
                trial.status, trial.loss = TrialStatus.OK, result.loss
                trial.metrics, trial.metadata, trial.time = (
                    result.metrics,
                    result.metadata,
                    result.time,
                )
        elif outcome.kind is OutcomeKind.PRUNED:
            trial.status = TrialStatus.PRUNED
            trial.loss = trial.intermediate[-1][1] if trial.intermediate else None
        elif outcome.kind is OutcomeKind.KILLED:
            trial.status = TrialStatus.KILLED
            trial.loss = self.config.function.auto_kill_loss if self.config.function else None
        else:
            trial.status = TrialStatus.FAILED
            if self._failing.armed and trial.log_path:
                hint = f"the trial's output and traceback are in {trial.log_path}"
        storage.save_trial(trial)
        self._failing.note(trial, hint)
        self._finished += 1
        if trial is best_trial([t for t in (self._best, trial) if t is not None]):
            self._best = trial
        self._write_files()
        if self._graphs is not None:
            self._graphs.trial_finished()
        self._emit("trial_finished", trial)

    def _write_files(self, force: bool = False) -> None:
        """Refresh trials.csv and best.json: at most once a second while trials stream in
        (rewriting them is O(trials)), always at the start and the end. Storage, the source of
        truth, is written on every change regardless."""
        now = time.monotonic()
        if force or now - self._files_written >= FILES_INTERVAL:
            write_results_files(self.results_dir, self._ordered())
            if self.config.search.objective == "pareto":
                front = pareto_dicts(self._front(), self.config.metrics)
                write_atomic(self.results_dir / "pareto.json", _json(front))
            self._files_written = now

    def _front(self) -> list[Trial]:
        if self.config.search.objective != "pareto":
            return []
        return pareto_front(self._ordered(), self.config.metrics)

    def _ordered(self) -> list[Trial]:
        return [self.trials[n] for n in sorted(self.trials)]

    def _emit(self, kind: str, trial: Trial | None = None) -> None:
        event = SearchEvent(kind, self._finished, self.config.search.iterations, trial, self._best)
        for listener in self.listeners:
            listener(event)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM for a moment (main thread only: signals live there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _earlier_trials(config: Config) -> list[Trial]:
    """Finished trials of the searches named in ``search.seed_from`` that fit this space."""
    found = []
    for folder in config.search.seed_from:
        for trial in read_results(config.base_dir / folder).trials:
            if trial.status.finished and config.space.fits(trial.flat):
                found.append(trial)
    return found


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"
