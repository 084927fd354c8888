"""The search runner: the loop that keeps ``parallel`` trials in flight.

It asks the planner what to run, starts each trial through its lifecycle, submits it to the
executor, and records its outcome the moment it ends. Storage is written on every change, so
the search can be killed at any time and resumed by running it again. What it uses comes from
the registries (executor, storage) and the planner (the method); it builds none of them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hypermax import __version__
from hypermax.config import Config
from hypermax.errors import TrialError
from hypermax.events import EventKind, Listener, Listeners, SearchEvent
from hypermax.execution import Executor, OutcomeKind, TrialOutcome, TrialRequest, executor_for
from hypermax.execution.processes import LEDGER_NAME, end_leftovers
from hypermax.failing import FailureWatch, result_advice
from hypermax.graphs import LiveGraphs
from hypermax.loss import compute_loss
from hypermax.planner import Planner
from hypermax.pulse import Pulse
from hypermax.result import SearchResult, TrialsFailing
from hypermax.storage import Storage
from hypermax.storage.live_files import LiveFiles, config_to_save
from hypermax.storage.registry import open_storage
from hypermax.storage.results import make_results_dir
from hypermax.trial import Trial, TrialStatus, best_trial

__all__ = ["Search", "SearchResult", "TrialsFailing"]

POLL_SECONDS = 0.5


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
        self.listeners = Listeners(listeners)
        self.planner = Planner(config)
        self.trials: dict[int, Trial] = {}
        self._finished = 0
        self._best: Trial | None = None
        self._files = LiveFiles(self.results_dir, config)
        self._stopping: set[int] = set()  # trials told to stop early
        self._failing = FailureWatch(config.search.stop_after_failures)  # of one run
        self._graphs = LiveGraphs(self.results_dir) if config.results_graphs else None
        self._early_stopping = config.search.early_stopping

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
        self._begin(storage)
        in_flight: dict[int, Trial] = {}
        try:
            while True:
                room = min(
                    self.executor.capacity - len(in_flight),
                    self.config.search.iterations - self._finished - len(in_flight),
                )
                for trial in self.planner.next_trials(self.trials, room):
                    self._start(storage, trial)
                    in_flight[trial.number] = trial
                if not in_flight:
                    break
                outcomes = self.executor.wait(POLL_SECONDS)
                self._take_reports(storage)  # first: a trial's last reports precede its end
                for outcome in outcomes:
                    self._record(storage, in_flight.pop(outcome.number), outcome)
                if self._failing.tripped:  # after the whole batch: every outcome is recorded
                    with _signals_held():
                        self._interrupt_running(storage, counted=False)
                    break
                self._pulse.beat(self.executor.samples, in_flight)
        except BaseException as error:
            # Ctrl-C is the user's; anything else may be a trial's doing (it sent SIGTERM)
            counted = type(error) is not KeyboardInterrupt
            with _signals_held():  # a second Ctrl-C must not cut the clean-up short
                self._interrupt_running(storage, counted)
                self._files.refresh(self._ordered(), force=True)
                # Ctrl-C or SIGTERM (Terminated) stopped it; anything else is a failure
                self._pulse.end("stopped" if isinstance(error, KeyboardInterrupt) else "failed")
            raise
        self._files.refresh(self._ordered(), force=True)
        self._pulse.end("failed" if self._failing.tripped else "finished")
        self._emit(EventKind.FINISHED)
        if self._graphs is not None:
            self._graphs.finish()  # the charts of every trial; no trial runs any more
        result = SearchResult(
            self._ordered(), self.results_dir, self._files.front(self._ordered())
        )
        if self._failing.tripped:
            raise TrialsFailing(self._failing.explain(self.results_dir), result)
        return result

    def _begin(self, storage: Storage) -> None:
        """Take over the stored search: the config it now runs with, its trials (those a dead
        run left running are interrupted, and those interrupted too often given up)."""
        storage.mark_interrupted()
        self._failing = FailureWatch(self.config.search.stop_after_failures)
        method = self.planner.optimizer.describe()
        self._pulse = Pulse(storage, method, self.config.search.iterations)
        self._pulse.start()
        saved = config_to_save(self.config)
        storage.save_config(saved)
        self._files.save_config(saved, __version__)
        self.trials = {t.number: t for t in storage.trials()}
        for trial in self.planner.given_up(self.trials.values()):
            trial.give_up(
                f"interrupted the search {trial.interruptions} times (the search died or was "
                "sent SIGTERM each time this trial ran): not run again"
            )
            storage.save_trial(trial)
        self.planner.begin(self.trials.values())
        self._finished = sum(1 for t in self.trials.values() if t.status.finished)
        self._best = best_trial(self._ordered())
        self._files.refresh(self._ordered(), force=True)
        self._emit(EventKind.STARTED)

    def _interrupt_running(self, storage: Storage, counted: bool) -> None:
        """End the running trials and record them ``interrupted``: they run first on resume.
        ``counted``: held against each trial (the search died under it, see MAX_RERUNS)."""
        self.executor.stop()
        for trial in self._ordered():  # also those cut short between save and submit
            if trial.status is TrialStatus.RUNNING:
                trial.interrupt(counted)
                storage.save_trial(trial)

    def _start(self, storage: Storage, trial: Trial) -> None:
        log_path = self.results_dir / "logs" / f"trial-{trial.number}.log"
        trial.start(str(log_path))
        self.trials[trial.number] = trial
        storage.save_trial(trial)
        self.executor.submit(TrialRequest(trial.number, trial.params, log_path))
        self._emit(EventKind.TRIAL_STARTED, trial)

    def _take_reports(self, storage: Storage) -> None:
        """Save the intermediate values running trials reported; stop the poor ones early."""
        for report in self.executor.reports():
            trial = self.trials.get(report.number)
            if trial is None or trial.status is not TrialStatus.RUNNING:
                continue
            trial.intermediate.append([report.step, report.value])
            storage.save_trial(trial)
            self._emit(EventKind.TRIAL_REPORTED, trial)
            if (
                self._early_stopping is not None
                and trial.number not in self._stopping
                and self._early_stopping.should_stop(trial, report.step, self._ordered())
            ):
                self._stopping.add(trial.number)
                self.executor.prune(trial.number)

    def _record(self, storage: Storage, trial: Trial, outcome: TrialOutcome) -> None:
        hint = self._finish(trial, outcome)
        storage.save_trial(trial)
        self._failing.note(trial, hint)
        self._finished += 1
        self._files.refresh(self._ordered())
        if self._graphs is not None:
            self._graphs.trial_finished()
        improved = trial is best_trial([t for t in (self._best, trial) if t is not None])
        if improved:
            self._best = trial
        self._emit(EventKind.TRIAL_FINISHED, trial)
        if improved:
            self._emit(EventKind.BEST_CHANGED, trial)

    def _finish(self, trial: Trial, outcome: TrialOutcome) -> str:
        """End ``trial`` as ``outcome`` says; advice for the first failures of a run."""
        trial.measured_time = trial.time = outcome.measured_time
        trial.resources = outcome.resources
        trial.error, trial.traceback = outcome.error, outcome.traceback
        if outcome.kind is OutcomeKind.RESULT:
            try:
                result = compute_loss(
                    outcome.value, self.config.metrics, outcome.measured_time, outcome.resources
                )
            except TrialError as error:
                trial.finish(TrialStatus.FAILED, error=str(error))
                # only the first trials of a run need the advice
                return (
                    result_advice(outcome.value, self.config.metrics)
                    if self._failing.armed
                    else ""
                )
            trial.metrics, trial.metadata, trial.time = (
                result.metrics,
                result.metadata,
                result.time,
            )
            trial.finish(TrialStatus.OK, result.loss)
        elif outcome.kind is OutcomeKind.PRUNED:
            trial.finish(
                TrialStatus.PRUNED, trial.intermediate[-1][1] if trial.intermediate else None
            )
        elif outcome.kind is OutcomeKind.KILLED:
            function = self.config.function
            trial.finish(TrialStatus.KILLED, function.auto_kill_loss if function else None)
        else:
            trial.finish(TrialStatus.FAILED)
            if self._failing.armed and trial.log_path:
                return f"the trial's output and traceback are in {trial.log_path}"
        return ""

    def _ordered(self) -> list[Trial]:
        return [self.trials[n] for n in sorted(self.trials)]

    def _emit(self, kind: EventKind, trial: Trial | None = None) -> None:
        total = self.config.search.iterations
        self.listeners.emit(SearchEvent(kind, self._finished, total, trial, self._best))


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
