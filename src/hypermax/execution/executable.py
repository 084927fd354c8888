"""Runs a model that is a program in any language, one process per trial.

The program gets its parameters three ways: JSON on stdin, a JSON file named by the
``HYPERMAX_PARAMS_FILE`` environment variable, and (with ``arguments: true``) ``--name=value``
arguments with flat dotted names. Its result is the last line of stdout that is a number or a
JSON object; everything it prints goes to the trial's log as it arrives, so output of any size
costs no memory. A non-zero exit fails the trial with the tail of stderr.
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
from typing import IO, Any

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution.base import Executor, OutcomeKind, TrialOutcome, TrialRequest
from hypermax.execution.monitor import (
    SAMPLE_INTERVAL,
    GpuMemory,
    Limits,
    Usage,
    die_with_parent,
    exit_description,
    kill_tree,
    sample_usage,
    watch_gpu,
)

READ_SIZE = 65536
LONGEST_RESULT_LINE = 1024 * 1024
STDERR_TAIL = 4000


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
    """``--name=value`` for every leaf, nested names dotted (``--model.c=1``)."""
    if isinstance(params, dict):
        return [a for k, v in params.items() for a in flat_arguments(v, f"{prefix}{k}.")]
    if isinstance(params, list):
        return [a for i, v in enumerate(params) for a in flat_arguments(v, f"{prefix}{i}.")]
    value = json.dumps(params) if not isinstance(params, str) else params
    return [f"--{prefix.rstrip('.')}={value}"]


@dataclass(eq=False)
class _Run:
    """One running program and what has been read of it."""

    request: TrialRequest
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    started: float
    usage: Usage = field(default_factory=Usage)
    partial: bytes = b""
    result: Any = None
    stderr_tail: deque[bytes] = field(default_factory=lambda: deque(maxlen=64))
    ended: set[int] = field(default_factory=set)  # descriptors that reached end of file

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
        if len(self.partial) > LONGEST_RESULT_LINE:
            self.partial = b""  # no result line is this long; do not hold it in memory
        for line in reversed(complete):
            value = parse_result_line(line.decode("utf-8", "replace"))
            if value is not None:
                self.result = value
                return

    def stderr_text(self) -> str:
        return b"".join(self.stderr_tail).decode("utf-8", "replace")[-STDERR_TAIL:]


class ExecutableExecutor(Executor):
    """Runs ``command`` once per trial, from ``base_dir``, ``capacity`` at once."""

    def __init__(
        self,
        command: str | list[str],
        base_dir: Path,
        capacity: int = 1,
        limits: Limits | None = None,
        arguments: bool = False,
    ):
        self.argv = command_argv(command)
        self.base_dir = base_dir
        self.capacity = capacity
        self.limits = limits or Limits()
        self.arguments = arguments
        self._runs: list[_Run] = []
        self._gpu: GpuMemory | None = None
        self._last_sample = 0.0

    def start(self) -> None:
        if not self.argv:
            raise ConfigError(ConfigIssue("function.command", "is empty: give the program to run"))
        program = self.argv[0]
        local = self.base_dir / program
        if shutil.which(program) is None and not (local.is_file() and os.access(local, os.X_OK)):
            raise ConfigError(
                ConfigIssue(
                    "function.command",
                    f"cannot find the program {program!r} on the PATH or as an executable file "
                    f"in {self.base_dir}; install it, or give its path",
                )
            )
        self._gpu = watch_gpu(self.limits)

    def submit(self, request: TrialRequest) -> None:
        request.log_path.parent.mkdir(parents=True, exist_ok=True)
        params_file = request.log_path.with_suffix(".params.json")
        params_file.write_text(json.dumps(request.params), "utf-8")
        argv = self.argv + (flat_arguments(request.params) if self.arguments else [])
        log = open(request.log_path, "ab")  # noqa: SIM115 - closed when the trial ends
        environment = {
            **os.environ,
            "HYPERMAX_PARAMS_FILE": str(params_file),
            "HYPERMAX_TRIAL": str(request.number),
        }
        with open(params_file, "rb") as stdin:
            process = subprocess.Popen(
                argv,
                cwd=self.base_dir,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environment,
                start_new_session=True,  # its own process group: leftovers end with the trial
                preexec_fn=die_with_parent,  # safe: the search process runs no threads
            )
        self._runs.append(_Run(request, process, log, time.monotonic()))

    def wait(self, timeout: float) -> list[TrialOutcome]:
        if not self._runs:
            return []
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
        outcomes = [o for o in map(self._finish_if_done, list(self._runs)) if o is not None]
        now = time.monotonic()
        if now - self._last_sample >= SAMPLE_INTERVAL:
            self._last_sample = now
            outcomes += self._enforce_limits(now)
        return outcomes

    def _finish_if_done(self, run: _Run) -> TrialOutcome | None:
        code = run.process.poll()
        if code is None:
            return None
        self._drain(run)
        seconds = time.monotonic() - run.started
        if code != 0:
            stderr = run.stderr_text()
            last = stderr.strip().splitlines()[-1:] or [""]
            description = exit_description(code).replace("the trial's process", "the program")
            return self._end(
                run,
                OutcomeKind.ERROR,
                seconds,
                error=f"{description}: {last[0]}" if last[0] else description,
                traceback=stderr or None,
            )
        if run.result is None:
            return self._end(
                run,
                OutcomeKind.ERROR,
                seconds,
                error="the program printed no result: the last line of stdout that is a number "
                "or a JSON object is the result",
            )
        return self._end(run, OutcomeKind.RESULT, seconds, value=run.result)

    def _drain(self, run: _Run) -> None:
        """Read what is left after the program exited; a child still holding the pipes open
        is ended with the trial."""
        _end_group(run.process.pid)
        for stream in run.open_streams():
            while stream.fileno() not in run.ended and wait([stream.fileno()], timeout=1.0):
                run.read(stream)

    def _end(self, run: _Run, kind: OutcomeKind, seconds: float, **details: Any) -> TrialOutcome:
        _end_group(run.process.pid)
        for stream in (run.process.stdout, run.process.stderr):
            if stream is not None:
                stream.close()
        run.log.close()
        self._runs.remove(run)
        return TrialOutcome(
            run.request.number, kind, seconds, resources=run.usage.resources(), **details
        )

    def _enforce_limits(self, now: float) -> list[TrialOutcome]:
        for run in self._runs:
            sample_usage(run.usage, run.process.pid, now - run.started, self._gpu)
        kills = self.limits.breaches({run: run.usage for run in self._runs})
        outcomes = []
        for run in list(self._runs):
            reason = kills.get(run)
            if reason is not None:
                kill_tree(run.process.pid)
                run.process.wait()
                outcomes.append(
                    self._end(
                        run, OutcomeKind.KILLED, now - run.started, error=f"killed: {reason}"
                    )
                )
        return outcomes

    def stop(self) -> list[int]:
        cut_short = [run.request.number for run in self._runs]
        for run in list(self._runs):
            kill_tree(run.process.pid)
            run.process.wait()
            self._end(run, OutcomeKind.KILLED, 0.0)
        return cut_short


def _end_group(pid: int) -> None:
    """End what is left of a trial's process group (children the program left running)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
