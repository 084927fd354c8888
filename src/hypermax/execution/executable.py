"""Runs a model that is a program in any language, one process per trial.

The program gets its parameters three ways: JSON on stdin, a JSON file named by the
``HYPERMAX_PARAMS_FILE`` environment variable, and (with ``arguments: true``) ``--name=value``
arguments with flat dotted names. Its result is the last line of stdout that is a number or a
JSON object; everything it prints goes to the trial's log as it arrives, so output of any size
costs no memory, and output still coming once it exited (from a process it left behind) is
not waited for. A non-zero exit fails the trial with the tail of stderr. A line
``hypermax-report STEP VALUE`` reports an intermediate value (``hypermax.report`` for programs);
a trial stopped early for poor values is ended like a killed one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import psutil

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution import limits_for, register_executor
from hypermax.execution.base import Executor, OutcomeKind, Report, TrialOutcome, TrialRequest
from hypermax.execution.monitor import (
    SAMPLE_INTERVAL,
    Limits,
    Usage,
    Watcher,
    die_with_parent,
    exit_description,
)
from hypermax.execution.processes import (
    TAG_VARIABLE,
    Ledger,
    carrying,
    end_tagged,
    kill_all,
    tagged,
)
from hypermax.execution.program import ExecutableSettings
from hypermax.settings import parse

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypermax.config import Config

READ_SIZE = 65536
DRAIN_SECONDS = 1.0  # reading what is left once the program exited, at most
ESCAPE_SCAN_INTERVAL = 1.0  # how often to look for processes that left a trial's tree
LONGEST_RESULT_LINE = 1024 * 1024
STDERR_TAIL = 4000
REPORT_PREFIX = "hypermax-report "


def command_argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def parse_result_line(line: str) -> Any:
    """A number or a JSON object, else None."""
    text = line.strip()
    if text.startswith("{"):
        with contextlib.suppress(ValueError):
            value = json.loads(text)
            return value if isinstance(value, dict) else None
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) or text.lower() in ("nan", "inf", "-inf") else None


def flat_arguments(params: Any, prefix: str = "") -> list[str]:
    """``--name=value`` for every leaf, nested names dotted (``--model.c=1``); values that are
    not strings are JSON, and so are empty lists and objects."""
    if isinstance(params, dict) and params:
        return [a for k, v in params.items() for a in flat_arguments(v, f"{prefix}{k}.")]
    if isinstance(params, list) and params:
        return [a for i, v in enumerate(params) for a in flat_arguments(v, f"{prefix}{i}.")]
    value = params if isinstance(params, str) else json.dumps(params)
    return [f"--{prefix.rstrip('.') or 'params'}={value}"]


@dataclass(eq=False)
class _Run:
    """One running program and what has been read of it."""

    request: TrialRequest
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    started: float
    tag: str  # in the environment of every process the trial starts
    usage: Usage = field(default_factory=Usage)
    escaped: list[psutil.Process] = field(default_factory=list)  # left its process group
    leftovers_ended: bool = False
    partial: bytes = b""
    overlong: bool = False  # the current line passed LONGEST_RESULT_LINE: not a result
    skipped_long_line: bool = False  # some line was, to say so when no result came
    result: Any = None
    stderr_tail: deque[bytes] = field(default_factory=lambda: deque(maxlen=64))
    ended: set[int] = field(default_factory=set)  # descriptors that reached end of file
    reports: list[tuple[int, float]] = field(default_factory=list)  # not yet handed over

    def open_streams(self) -> list[IO[bytes]]:
        streams = (self.process.stdout, self.process.stderr)
        return [s for s in streams if s is not None and s.fileno() not in self.ended]

    def read(self, stream: IO[bytes]) -> None:
        """Copy what the program wrote to the log; remember stdout's last result line."""
        chunk = os.read(stream.fileno(), READ_SIZE)
        if not chunk:
            self.ended.add(stream.fileno())
            if stream is self.process.stdout:
                self._lines(b"\n")  # a last line without a newline still counts
            return
        self.log.write(chunk)
        if stream is self.process.stdout:
            self._lines(chunk)
        else:
            self.stderr_tail.append(chunk)

    def _lines(self, chunk: bytes) -> None:
        *complete, self.partial = (self.partial + chunk).split(b"\n")
        if complete and self.overlong:
            complete, self.overlong = complete[1:], False  # the rest of an overlong line
        if len(self.partial) > LONGEST_RESULT_LINE:
            self.partial, self.overlong = b"", True  # no result line is this long
            self.skipped_long_line = True
        for raw in complete:
            line = raw.decode("utf-8", "replace")
            if line.startswith(REPORT_PREFIX):
                with contextlib.suppress(ValueError):
                    step, value = line[len(REPORT_PREFIX) :].split()
                    self.reports.append((int(step), float(value)))
                continue
            value = parse_result_line(line)
            if value is not None:
                self.result = value

    def stderr_text(self) -> str:
        return b"".join(self.stderr_tail).decode("utf-8", "replace")[-STDERR_TAIL:]

    def end_leftovers(self) -> None:
        """End whatever the program left running: its process group, and the processes that
        escaped it (found by the trial's tag). Once: scanning for the tag reads every
        process's environment."""
        if self.leftovers_ended:
            return
        self.leftovers_ended = True
        _end_group(self.process.pid)
        kill_all([*self.escaped, *carrying(self.tag)])

    def close(self) -> None:
        self.end_leftovers()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.log.close()


class ExecutableExecutor(Executor):
    """Runs ``command`` once per trial, from ``base_dir``, ``capacity`` at once."""

    def __init__(
        self,
        command: str | list[str],
        base_dir: Path,
        capacity: int = 1,
        limits: Limits | None = None,
        arguments: bool = False,
        ledger: Ledger | None = None,
    ):
        self.argv = command_argv(command)
        self.base_dir = base_dir
        self.capacity = capacity
        self.arguments = arguments
        self.watcher = Watcher(limits or Limits(), ledger)
        self._tag_prefix = self.watcher.ledger.tag_prefix
        self._tags: set[str] = set()  # of the trials this executor ran
        self._last_scan = 0.0
        self._runs: list[_Run] = []
        self._dying: list[_Run] = []  # killed programs, to reap and close
        self._ended_outside_wait: list[TrialOutcome] = []

    def start(self) -> None:
        if not self.argv:
            raise ConfigError(ConfigIssue("function.command", "is empty: give the program to run"))
        program = self.argv[0]
        local = self.base_dir / program
        if shutil.which(program) is None:
            if not (local.is_file() and os.access(local, os.X_OK)):
                raise ConfigError(
                    ConfigIssue(
                        "function.command",
                        f"cannot find the program {program!r} on the PATH or as an executable "
                        f"file in {self.base_dir}; install it, give its path, or chmod +x it",
                    )
                )
            self.argv[0] = str(local.resolve())  # Popen looks bare names up on the PATH only
        self.watcher.start()

    def submit(self, request: TrialRequest) -> None:
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        params_file = request.log_path.with_suffix(".params.json")
        params_file.write_text(json.dumps(request.params), "utf-8")
        argv = self.argv + (flat_arguments(request.params) if self.arguments else [])
        environment = {
            **os.environ,
            "HYPERMAX_PARAMS_FILE": str(params_file),
            "HYPERMAX_TRIAL": str(request.number),
            TAG_VARIABLE: f"{self._tag_prefix}:{request.number}",
        }
        self._tags.add(environment[TAG_VARIABLE])
        try:
            with open(params_file, "rb") as stdin:
                process = subprocess.Popen(
                    argv,
                    cwd=self.base_dir,
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=environment,
                    start_new_session=True,  # its own process group: leftovers end with it
                    preexec_fn=die_with_parent,
                )
        except OSError as error:  # e.g. a script without a #! line: "Exec format error"
            self._ended_outside_wait.append(
                TrialOutcome(
                    request.number,
                    OutcomeKind.ERROR,
                    0.0,
                    error=f"cannot start {argv[0]!r}: {error.strerror or error}",
                )
            )
            return
        log = open(request.log_path, "ab", buffering=0)  # noqa: SIM115 - closed with the run
        self._runs.append(_Run(request, process, log, time.monotonic(), environment[TAG_VARIABLE]))

    def wait(self, timeout: float) -> list[TrialOutcome]:
        outcomes, self._ended_outside_wait = self._ended_outside_wait, []
        self._reap()
        if not self._runs:
            return outcomes
        streams = {
            stream.fileno(): (run, stream) for run in self._runs for stream in run.open_streams()
        }
        if streams:
            ready = wait(list(streams), timeout=min(timeout, SAMPLE_INTERVAL))
        else:  # only exited programs whose end is not yet collected
            time.sleep(0.005)
            ready = []
        for fd in ready:
            run, stream = streams[fd]  # type: ignore[index]
            run.read(stream)
        outcomes += [o for o in map(self._finish_if_done, list(self._runs)) if o is not None]
        now = time.monotonic()
        if self.watcher.due(now):
            outcomes += self._enforce_limits(now)
        return outcomes

    def reports(self) -> list[Report]:
        found = []
        for run in self._runs:
            found += [Report(run.request.number, step, value) for step, value in run.reports]
            run.reports = []
        return found

    def prune(self, number: int) -> None:
        for run in [r for r in self._runs if r.request.number == number]:
            self._ended_outside_wait.append(self._stop_run(run, OutcomeKind.PRUNED, None))

    def _stop_run(self, run: _Run, kind: OutcomeKind, error: str | None) -> TrialOutcome:
        """End a running program from outside (a limit, early stopping); it is reaped later."""
        escaped = [*run.escaped, *carrying(run.tag)]
        self.watcher.terminator.end(run.process.pid, also=escaped)
        self._runs.remove(run)
        self._dying.append(run)
        seconds = time.monotonic() - run.started
        return TrialOutcome(
            run.request.number, kind, seconds, error=error, resources=run.usage.resources()
        )

    def _finish_if_done(self, run: _Run) -> TrialOutcome | None:
        code = _exit_code(run)
        if code is None:
            return None
        self._drain(run)
        seconds = time.monotonic() - run.started
        if code != 0:
            stderr = run.stderr_text()
            last = (stderr.strip().splitlines() or [""])[-1]
            description = exit_description(code).replace("the trial's process", "the program")
            return self._end(
                run,
                OutcomeKind.ERROR,
                seconds,
                error=f"{description}: {last}" if last else description,
                traceback=stderr or None,
            )
        if run.result is None:
            skipped = (
                f"; a line over {LONGEST_RESULT_LINE // 2**20} MiB was not read (result lines "
                "are at most that long: write large data to a file)"
                if run.skipped_long_line
                else ""
            )
            return self._end(
                run,
                OutcomeKind.ERROR,
                seconds,
                error="the program printed no result: the last line of stdout that is a number "
                "or a JSON object is the result" + skipped,
            )
        if over := self.watcher.limits.peak_breach(run.usage):
            return self._end(run, OutcomeKind.KILLED, seconds, error=over)
        return self._end(run, OutcomeKind.RESULT, seconds, value=run.result)

    def _drain(self, run: _Run) -> None:
        """Read what is left after the program exited, for ``DRAIN_SECONDS`` at most: the
        processes it left behind end first, and one that still holds the pipes open (it wiped
        the tag from its environment) cannot hold up the search."""
        run.end_leftovers()
        deadline = time.monotonic() + DRAIN_SECONDS
        while (streams := run.open_streams()) and (left := deadline - time.monotonic()) > 0:
            for fd in wait([stream.fileno() for stream in streams], timeout=left):
                run.read(next(s for s in streams if s.fileno() == fd))

    def _close(self, run: _Run) -> None:
        run.close()
        self.watcher.cap_log(run.request.log_path)

    def _end(self, run: _Run, kind: OutcomeKind, seconds: float, **details: Any) -> TrialOutcome:
        self._close(run)
        self._runs.remove(run)
        return TrialOutcome(
            run.request.number, kind, seconds, resources=run.usage.resources(), **details
        )

    def _enforce_limits(self, now: float) -> list[TrialOutcome]:
        if now - self._last_scan >= ESCAPE_SCAN_INTERVAL:
            self._last_scan = now
            escaped = tagged(self._tag_prefix)
            for run in self._runs:
                run.escaped = escaped.get(run.tag, [])
        for run in self._runs:
            self.watcher.sample(run.usage, run.process.pid, now - run.started, escaped=run.escaped)
            self.watcher.cap_log(run.request.log_path, running=True)
        kills = self.watcher.breaches({run: run.usage for run in self._runs})
        outcomes = []
        for run in list(self._runs):
            reason = kills.get(run)
            if reason is not None:
                outcomes.append(self._stop_run(run, OutcomeKind.KILLED, f"killed: {reason}"))
        return outcomes

    def _reap(self) -> None:
        for run in list(self._dying):
            if run.process.poll() is not None:
                self._close(run)
                self._dying.remove(run)

    def stop(self) -> list[int]:
        cut_short = [run.request.number for run in self._runs]
        for run in self._runs:
            self.watcher.terminator.end(run.process.pid)
        self._dying += self._runs
        self._runs = []
        self.watcher.terminator.finish()
        end_tagged(self._tag_prefix, self._tags)
        self.watcher.ledger.end_recorded()
        for run in self._dying:
            _end_group(run.process.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.process.wait(timeout=1.0)
            self._close(run)
        self._dying = []
        return cut_short


def _exit_code(run: _Run) -> int | None:
    """The program's exit code once it ended (None before). Reaping it ourselves gives its
    resource use: its peak resident memory counts even when it ended before a sample."""
    if run.process.returncode is not None:
        return run.process.returncode
    try:
        pid, status, usage = os.wait4(run.process.pid, os.WNOHANG)
    except ChildProcessError:  # reaped elsewhere
        return run.process.poll()
    if pid == 0:
        return None
    run.process.returncode = os.waitstatus_to_exitcode(status)
    run.usage.peak_ram = max(run.usage.peak_ram, usage.ru_maxrss / 1024)  # KiB on Linux
    return run.process.returncode


def _end_group(pid: int) -> None:
    """End what is left of a trial's process group (children the program left running)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@register_executor("executable")
def executable_executor(
    config: Config, function: Callable[[Any], Any] | None, ledger: Ledger
) -> ExecutableExecutor:
    """One process of the config's ``command`` per trial, run from the config's folder."""
    spec = config.function
    settings = parse(ExecutableSettings, spec.settings if spec else None, "function")
    if spec is None or not settings.command:
        raise ConfigError(
            ConfigIssue("function.command", "missing: an executable needs the command to run")
        )
    return ExecutableExecutor(
        settings.command,
        config.base_dir,
        config.search.parallel,
        limits_for(spec),
        settings.arguments,
        ledger,
    )
