"""Runs Python trials in worker processes on this machine.

Each worker loads the model once and then runs trials one after another, so a heavy import
(scikit-learn, torch) is paid per worker, not per trial. A worker that dies (segfault, OS kill,
``os._exit``) fails only its trial and is replaced. While trials run, the executor samples their
process trees and ends a trial past a limit; results come back as plain data only, so no object
of the model's is ever rebuilt in the search process.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

import psutil

from hypermax import reporting
from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution import limits_for, register_executor
from hypermax.execution.base import Executor, OutcomeKind, Report, TrialOutcome, TrialRequest
from hypermax.execution.channel import ChannelError, Receiver, send_message
from hypermax.execution.monitor import (
    SAMPLE_INTERVAL,
    Limits,
    Usage,
    Watcher,
    become_subreaper,
    die_with_parent,
    exit_description,
    has_children,
    kill_tree,
    log_tail,
    peak_rss,
    process_memory,
    reset_peak_rss,
    tree_memory,
)
from hypermax.execution.processes import TAG_VARIABLE, Ledger, carrying, end_tagged, kill_all
from hypermax.execution.python_function import FunctionSource, LoadError, PythonFunctionSettings
from hypermax.loss import plain_data
from hypermax.settings import parse

if TYPE_CHECKING:
    from hypermax.config import Config

LOAD_TIMEOUT = 300.0


@dataclass(frozen=True)
class Recycling:
    """When a worker is replaced by a fresh one (besides after a crash or a kill).

    ``fresh_process``: every trial in a new process (``isolation: process``), for models that
    leak state; ``max_trials``: after that many trials; ``max_idle_ram``: when the memory the
    worker holds beyond what it inherited (MiB) is still above it after a trial.
    """

    fresh_process: bool = False
    max_trials: int | None = None
    max_idle_ram: float | None = None

    def due(self, trials_run: int, pid: int, baseline: float) -> bool:
        return (
            self.fresh_process
            or (self.max_trials is not None and trials_run >= self.max_trials)
            or (self.max_idle_ram is not None and tree_memory(pid) - baseline > self.max_idle_ram)
        )


def _worker_main(connection: Connection, source: FunctionSource, parent_pid: int) -> None:
    """The loop of one worker process: load the model, then run trials sent over the pipe."""
    # pages shared with the search process are not the trial's: its memory is measured above them
    inherited = process_memory(os.getpid()), peak_rss()
    die_with_parent()
    if os.getppid() != parent_pid:
        os._exit(1)
    become_subreaper()
    # Python-level output must reach file descriptors 1 and 2, which each trial points at its
    # log, even when the search process had replaced sys.stdout (Jupyter, pytest).
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as us
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    faulthandler.enable(sys.stderr)  # a segfault's Python traceback lands in the trial's log
    _reset_signals()
    try:
        function = source.load()
    except LoadError as error:
        send_message(connection, "load_error", error.path, error.message, traceback.format_exc())
        return
    send_message(connection, "ready", *inherited)
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        if message[0] == "prune":
            continue  # it came after its trial had ended
        number, params, log_path, tag = message
        os.environ[TAG_VARIABLE] = tag  # programs the trial runs inherit it (see processes.py)
        _reset_signals()  # a trial may have changed them; the next one starts clean
        reporting.begin_trial(connection, number)
        try:
            outcome, intact = _run_one(function, number, params, log_path)
        except OSError as error:  # before the model ran: what an earlier trial left broke us
            cause = f"{type(error).__name__}: {error}"
            outcome = (
                "error",
                number,
                f"the worker could not start the trial ({cause}); "
                "did an earlier trial leave files open?",
                traceback.format_exc(),
                0.0,
            )
            outcome, intact = (*outcome, peak_rss()), False
        finally:
            reporting.end_trial()
        if not intact:
            send_message(connection, "leaving")
        try:
            send_message(connection, *outcome)
        except (ValueError, RecursionError) as error:  # too large, or nested too deep
            send_message(connection, "error", number, str(error), "", *outcome[-2:])
        if not intact:
            return  # the executor starts a fresh worker


def _reset_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the search's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a kill ends the trial, whatever was set


def _run_one(
    function: Callable[[Any], Any], number: int, params: Any, log_path: str
) -> tuple[tuple, bool]:
    """Run one trial with stdout/stderr going to its log file: its outcome, and whether the
    worker can go on. The worker's own steps around the model can fail when the model broke the
    process (closed file descriptor 1 or 2, used up every descriptor); the outcome then still
    says what the model did, and the worker is replaced."""
    _flush_output()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        reset_peak_rss()
        start = time.perf_counter()
        try:
            value = function(params)
            plain = plain_data(value)
            if isinstance(plain, str) and not isinstance(value, str):
                raise TypeError(
                    f"the model returned a {type(value).__name__}; return a number (the loss) "
                    "or a dict of metrics"
                )
            outcome: tuple = ("result", number, plain, time.perf_counter() - start, peak_rss())
        except reporting.TrialPruned:
            outcome = ("pruned", number, time.perf_counter() - start, peak_rss())
        except BaseException as error:
            elapsed = time.perf_counter() - start
            text = traceback.format_exc()
            with contextlib.suppress(OSError, ValueError):  # the model may have closed fd 2
                sys.stderr.write(text)
            outcome = ("error", number, f"{type(error).__name__}: {error}", text, elapsed)
            outcome += (peak_rss(),)
        finally:
            intact = _flush_output()
            try:
                _end_leftover_processes()
                for target, copy in zip((1, 2), saved, strict=True):
                    os.dup2(copy, target)
                    os.close(copy)
                for probe in [os.dup(1) for _ in range(3)]:  # what the next trial needs
                    os.close(probe)
            except (OSError, psutil.Error):
                intact = False
    return outcome, intact


def _flush_output() -> bool:
    """Flush Python's stdout and stderr; False when they are broken."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


def _end_leftover_processes() -> None:
    """End processes a trial started and left running (this worker is their subreaper, so
    even double-forked ones are its children), so none outlives its trial."""
    if not has_children(os.getpid()):
        return  # the common case, checked cheaply: scanning all processes costs milliseconds
    leftovers = psutil.Process().children(recursive=True)
    if leftovers:
        print(
            f"hypermax: ending {len(leftovers)} process(es) the trial left running",
            file=sys.stderr,
        )
        for process in leftovers:
            kill_tree(process.pid)


@dataclass(eq=False)  # identity: workers are dict keys
class _Worker:
    process: Any
    connection: Connection
    spawned: float
    request: TrialRequest | None = None
    started: float | None = None  # when the current trial's clock started (after loading)
    trials_run: int = 0
    usage: Usage = field(default_factory=Usage)
    inherited: float = 0.0  # MiB (PSS) shared with the search process, not the trial's
    inherited_rss: float = 0.0  # the same as resident memory, the unit of the peak it reports
    ready: bool = False
    load_error: tuple | None = None
    receiver: Receiver = field(init=False)
    pending: deque[tuple] = field(default_factory=deque)  # received, not yet handled
    garbled: str | None = None  # what was wrong with the last thing the worker sent
    leaving: bool = False  # it said it exits after its current trial
    tag: str = ""  # of the current trial, in the environment of the programs it runs
    seen: list[psutil.Process] = field(default_factory=list)  # in its tree when sampled

    def leftovers(self) -> list[psutil.Process]:
        """Processes of the current trial that may have left the worker's tree: those seen in
        it, and the programs carrying the trial's tag."""
        return [*self.seen, *carrying(self.tag)] if self.tag else self.seen

    def __post_init__(self) -> None:
        self.receiver = Receiver(self.connection)

    def elapsed(self, now: float) -> float:
        return now - self.started if self.started is not None else 0.0


class LocalExecutor(Executor):
    """Python functions in warm worker processes, ``capacity`` trials at once."""

    def __init__(
        self,
        source: FunctionSource,
        capacity: int = 1,
        limits: Limits | None = None,
        recycling: Recycling | None = None,
        ledger: Ledger | None = None,
    ):
        self.source = source
        self.capacity = capacity
        self.recycling = recycling or Recycling()
        self.watcher = Watcher(limits or Limits(), ledger)
        self._tag_prefix = self.watcher.ledger.tag_prefix
        self._tags: set[str] = set()  # of the trials this executor ran
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._context: Any = multiprocessing.get_context(method)
        self._workers: list[_Worker] = []
        self._reports: list[Report] = []
        self._dying: list[Any] = []  # processes being ended, to reap and close

    def start(self) -> None:
        """Start ``capacity`` workers and wait until each has loaded the model."""
        self.watcher.start()
        for _ in range(self.capacity - len(self._workers)):
            self._spawn()
        deadline = time.monotonic() + LOAD_TIMEOUT
        for worker in list(self._workers):
            while not worker.ready and worker.load_error is None:
                if time.monotonic() > deadline:
                    worker.load_error = (
                        "function",
                        f"loading the model took over {LOAD_TIMEOUT:.0f} s; does importing "
                        "it hang?",
                        "",
                    )
                elif self._receive_if_any(worker, 0.05) is None and not worker.process.is_alive():
                    worker.load_error = (
                        "function",
                        "the worker died while loading the model: "
                        + exit_description(worker.process.exitcode),
                        "",
                    )
            if worker.load_error is not None:
                path, message, _ = worker.load_error
                self.stop()
                raise ConfigError(ConfigIssue(path, message))

    def _spawn(self) -> _Worker:
        ours, theirs = self._context.Pipe(duplex=True)
        # not daemonic: a daemonic process may not start processes of its own, and models do
        # (multiprocessing pools, PyTorch's DataLoader); stop() and PR_SET_PDEATHSIG end it
        process = self._context.Process(
            target=_worker_main, args=(theirs, self.source, os.getpid()), daemon=False
        )
        sys.stdout.flush()
        sys.stderr.flush()
        process.start()
        theirs.close()
        worker = _Worker(process=process, connection=ours, spawned=time.monotonic())
        self._workers.append(worker)
        return worker

    def _receive_if_any(self, worker: _Worker, timeout: float = 0.0) -> tuple | None:
        """The next message the worker sent: None when none has arrived (or the pipe closed,
        or it sent garbage: see ``garbled``), ``("status",)`` after a status message updated
        the worker, else a trial's report or outcome."""
        if not worker.pending and worker.garbled is None:
            if timeout and not worker.receiver.closed:
                wait([worker.connection], timeout)
            try:
                worker.pending.extend(worker.receiver.receive())
            except ChannelError as error:
                worker.garbled = str(error)
        if not worker.pending:
            return None
        message = worker.pending.popleft()
        if message[0] == "leaving":
            worker.leaving = True
            return ("status",)
        if message[0] not in ("ready", "load_error") and (
            worker.request is None or message[1] != worker.request.number
        ):
            worker.garbled = f"a message about trial {message[1]}"
            worker.pending.clear()
            return None
        if message[0] == "ready":
            worker.ready, worker.inherited, worker.inherited_rss = True, message[1], message[2]
            if worker.request is not None and worker.started is None:
                worker.started = time.monotonic()
            return ("status",)
        if message[0] == "load_error":
            worker.load_error = tuple(message[1:])
            return ("status",)
        return message

    def submit(self, request: TrialRequest) -> None:
        for dead in [w for w in self._workers if w.request is None and not w.process.is_alive()]:
            self._retire(dead)
        idle = [w for w in self._workers if w.request is None and not w.load_error]
        worker = idle[0] if idle else self._spawn()
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        worker.request = request
        worker.started = time.monotonic() if worker.ready else None
        worker.usage = Usage()
        worker.tag, worker.seen = f"{self._tag_prefix}:{request.number}", []
        self._tags.add(worker.tag)
        # if the worker just died, wait() reports the trial through the worker's exit
        with contextlib.suppress(OSError):
            worker.connection.send(
                (request.number, request.params, str(request.log_path), worker.tag)
            )

    def wait(self, timeout: float) -> list[TrialOutcome]:
        self._reap()
        busy = [w for w in self._workers if w.request is not None]
        if not busy:
            return []
        ready = wait(
            [w.connection for w in busy if not w.receiver.closed]
            + [w.process.sentinel for w in busy],
            timeout=min(timeout, SAMPLE_INTERVAL),
        )
        outcomes = [o for o in (self._collect(w, ready) for w in busy) if o is not None]
        now = time.monotonic()
        if self.watcher.due(now):
            outcomes += self._enforce_limits(now)
        return outcomes

    def reports(self) -> list[Report]:
        reports, self._reports = self._reports, []
        return reports

    def prune(self, number: int) -> None:
        for worker in self._workers:
            if worker.request is not None and worker.request.number == number:
                with contextlib.suppress(OSError):  # it may have ended meanwhile
                    worker.connection.send(("prune", number))

    def _collect(self, worker: _Worker, ready: list[Any]) -> TrialOutcome | None:
        request = worker.request
        assert request is not None
        while (message := self._receive_if_any(worker)) is not None:
            if message[0] == "status":
                continue
            if message[0] == "report":
                self._reports.append(Report(*message[1:]))
                continue
            usage = worker.usage  # the worker's own high-water mark catches any short peak
            usage.peak_ram = max(usage.peak_ram, message[-1] - worker.inherited_rss)
            if message[0] == "result" and (over := self.watcher.limits.peak_breach(usage)):
                return self._finish(worker, OutcomeKind.KILLED, message[3], error=over)
            if message[0] == "result":
                return self._finish(worker, OutcomeKind.RESULT, message[3], value=message[2])
            if message[0] == "pruned":
                return self._finish(worker, OutcomeKind.PRUNED, message[2])
            return self._finish(
                worker, OutcomeKind.ERROR, message[4], error=message[2], traceback=message[3]
            )
        if worker.load_error is not None:
            path, text, trace = worker.load_error
            self._retire(worker)
            return self._finish(
                worker, OutcomeKind.ERROR, 0.0, error=f"{path}: {text}", traceback=trace
            )
        if worker.garbled is not None:
            self._retire(worker)
            return self._finish(
                worker,
                OutcomeKind.ERROR,
                worker.elapsed(time.monotonic()),
                error="the worker's pipe to the search carried something that is not a "
                f"hypermax message ({worker.garbled}); did the model write to a file "
                "descriptor it did not open? Its worker was replaced",
                traceback=log_tail(request.log_path) or None,
            )
        if worker.process.sentinel in ready or not worker.process.is_alive():
            worker.process.join(1.0)
            elapsed = worker.elapsed(time.monotonic())
            self._retire(worker)
            return self._finish(
                worker,
                OutcomeKind.ERROR,
                elapsed,
                error=exit_description(worker.process.exitcode),
                traceback=log_tail(request.log_path) or None,
            )
        return None

    def _finish(
        self, worker: _Worker, kind: OutcomeKind, seconds: float, **details: Any
    ) -> TrialOutcome:
        request = worker.request
        assert request is not None
        self.watcher.cap_log(request.log_path)
        worker.request = None
        worker.started = None
        worker.trials_run += 1
        if worker in self._workers and (
            worker.leaving
            or self.recycling.due(worker.trials_run, worker.process.pid, worker.inherited)
        ):
            self._retire(worker)
            self._spawn()  # loads while the search records this trial
        return TrialOutcome(
            request.number, kind, seconds, resources=worker.usage.resources(), **details
        )

    def _enforce_limits(self, now: float) -> list[TrialOutcome]:
        busy = [w for w in self._workers if w.request is not None]
        for worker in busy:
            worker.seen = self.watcher.sample(
                worker.usage, worker.process.pid, worker.elapsed(now), worker.inherited
            )
            if worker.request is not None:
                self.watcher.cap_log(worker.request.log_path, running=True)
        kills = self.watcher.breaches({w: w.usage for w in busy})
        for worker in busy:
            if worker.started is None and now - worker.spawned > LOAD_TIMEOUT:
                kills[worker] = f"loading the model took over {LOAD_TIMEOUT:.0f} s"
        outcomes = []
        for worker in busy:
            reason = kills.get(worker)
            if reason is not None:
                self._retire(worker)
                outcomes.append(
                    self._finish(
                        worker, OutcomeKind.KILLED, worker.elapsed(now), error=f"killed: {reason}"
                    )
                )
        return outcomes

    def _retire(self, worker: _Worker) -> None:
        """Stop using a worker and end its process tree without waiting for it."""
        if worker in self._workers:
            self._workers.remove(worker)
        worker.connection.close()
        if worker.process.is_alive():
            self.watcher.terminator.end(worker.process.pid, also=worker.leftovers())
        else:  # it died: what its trial started was re-parented out of its tree
            kill_all(worker.leftovers())
        self._dying.append(worker.process)

    def _reap(self) -> None:
        """Collect the exit status of ended workers and release their resources."""
        for process in list(self._dying):
            process.join(0)
            if process.exitcode is not None:
                process.close()
                self._dying.remove(process)

    def stop(self) -> list[int]:
        cut_short = [w.request.number for w in self._workers if w.request is not None]
        for worker in list(self._workers):
            if worker.request is None and worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.connection.send(None)  # idle: let it exit on its own
                worker.process.join(0.2)
            self._retire(worker)
        self.watcher.terminator.finish()
        end_tagged(self._tag_prefix, self._tags)
        self.watcher.ledger.end_recorded()
        for process in self._dying:
            process.join(1.0)
            if process.exitcode is None:
                process.kill()
                process.join(1.0)
            if process.exitcode is not None:
                process.close()
        self._dying = []
        return cut_short


@register_executor("python_function")
def local_executor(
    config: Config, function: Callable[[Any], Any] | None, ledger: Ledger
) -> LocalExecutor:
    """Warm Python workers for the config's function (or ``function``, a callable)."""
    from hypermax.config import FunctionConfig

    spec = config.function or FunctionConfig()
    # a callable runs here whatever the section's type: then its settings are the defaults
    given = spec.settings if spec.type == "python_function" else None
    settings = parse(PythonFunctionSettings, given, "function")
    if function is not None:
        source = FunctionSource(function=function)
    elif not (settings.module or settings.src):
        raise ConfigError(ConfigIssue("function", "missing: say which model function to run"))
    else:
        source = FunctionSource(
            module=settings.module,
            src=settings.src,
            name=settings.name,
            base_dir=str(config.base_dir),
        )
    recycling = Recycling(
        fresh_process=settings.isolation == "process",
        max_trials=settings.max_trials_per_worker,
        max_idle_ram=settings.worker_max_ram,
    )
    return LocalExecutor(
        source, config.search.parallel, limits_for(spec), recycling, ledger=ledger
    )
