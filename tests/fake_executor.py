"""An in-process, deterministic executor for the runner's tests: trials are scripts played on
a virtual clock, so a whole search takes milliseconds and nothing ever sleeps.

    fake = FakeExecutor(lambda params: (params["x"] - 1) ** 2, capacity=3)

The model is a plain function of the trial's params. What it returns is the trial's result,
``DEFAULT_DURATION`` virtual seconds after the trial started; what it raises (an ``Exception``)
is the trial's error, with its traceback, as a real worker reports it. It may instead return a
`Script` (made by `result`, `error`, `killed` or `hang`) saying how the trial runs: how long,
what it reports on the way (``reports=[(step, value), ...]``, one every ``interval``) and how it
ends. ``scripts`` maps trial numbers to what they do instead of the model: a `Script` or a
plain value.

The clock moves only in ``wait``: to the next moment something happens (a report, an end), or
by ``timeout`` when nothing happens sooner. Events at the same moment are taken reports first,
then by trial number, so outcomes come back ordered by (end time, number). ``prune(number)``
ends that trial with ``pruned`` at its next report, as a model hears of it in its next
``hypermax.report``; a trial with no report left ends as scripted. ``interrupt_after=N`` makes
the first ``wait`` after ``N`` outcomes were returned raise ``interrupt_with`` (Ctrl-C by
default; outcomes past ``N`` are held back, so their trials are still running then).

Everything is recorded for assertions: ``submitted`` (the requests, in order), ``started_at``
(virtual submit time by number), ``max_running``, ``prune_calls``, ``stop_calls`` (what each
``stop()`` returned), ``start_calls``.
"""

from __future__ import annotations

import copy
import traceback as traceback_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypermax.execution.base import (
    Executor,
    OutcomeKind,
    Report,
    Sample,
    TrialOutcome,
    TrialRequest,
)

DEFAULT_DURATION = 1.0
SAMPLE_RAM = 10.0  # MiB a running trial is sampled at, per trial number
DEFAULT_TIME_LIMIT = 1000.0  # virtual seconds: past this a search is taken to hang


@dataclass(frozen=True)
class Script:
    """How one trial runs. ``end`` is None for a trial that runs until ``stop()``."""

    end: OutcomeKind | None
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    reports: tuple[tuple[int, float], ...] = ()
    interval: float = DEFAULT_DURATION  # virtual seconds from the start to the first report
    duration: float | None = DEFAULT_DURATION  # to the end; None: never ends
    resources: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("interval must be positive")
        if self.duration is not None and self.report_time(len(self.reports) - 1) > self.duration:
            raise ValueError(
                f"{len(self.reports)} reports every {self.interval} s do not fit in a trial "
                f"of {self.duration} s"
            )

    def report_time(self, index: int) -> float:
        """When report ``index`` comes, after the start."""
        return (index + 1) * self.interval


def _duration(reports: Iterable[Any], interval: float, duration: float | None) -> float:
    return duration if duration is not None else interval * (len(tuple(reports)) + 1)


def _reports(reports: Iterable[tuple[int, float]]) -> tuple[tuple[int, float], ...]:
    return tuple((int(step), float(value)) for step, value in reports)


def result(
    value: Any,
    *,
    reports: Iterable[tuple[int, float]] = (),
    interval: float = DEFAULT_DURATION,
    duration: float | None = None,
    resources: Mapping[str, Any] | None = None,
) -> Script:
    """Return ``value`` after ``duration`` (default: one ``interval`` after the last report)."""
    reports = _reports(reports)
    return Script(
        OutcomeKind.RESULT,
        value=value,
        reports=reports,
        interval=interval,
        duration=_duration(reports, interval, duration),
        resources=dict(resources or {}),
    )


def error(
    message: str,
    *,
    traceback: str | None = None,
    reports: Iterable[tuple[int, float]] = (),
    interval: float = DEFAULT_DURATION,
    duration: float | None = None,
) -> Script:
    """Fail with ``message`` (as a worker words it: ``"ValueError: ..."``)."""
    reports = _reports(reports)
    return Script(
        OutcomeKind.ERROR,
        error=message,
        traceback=traceback if traceback is not None else f"Traceback (scripted)\n{message}\n",
        reports=reports,
        interval=interval,
        duration=_duration(reports, interval, duration),
    )


def killed(
    reason: str,
    *,
    reports: Iterable[tuple[int, float]] = (),
    interval: float = DEFAULT_DURATION,
    duration: float | None = None,
) -> Script:
    """Killed by the executor for a limit; the error reads ``"killed: <reason>"``."""
    reports = _reports(reports)
    return Script(
        OutcomeKind.KILLED,
        error=f"killed: {reason}",
        reports=reports,
        interval=interval,
        duration=_duration(reports, interval, duration),
    )


def hang(
    *, reports: Iterable[tuple[int, float]] = (), interval: float = DEFAULT_DURATION
) -> Script:
    """Report what it has, then never end: only ``stop()`` ends it."""
    return Script(None, reports=_reports(reports), interval=interval, duration=None)


@dataclass
class _Run:
    request: TrialRequest
    script: Script
    started: float
    reported: int = 0  # reports delivered so far
    pruned: bool = False

    def next_report(self) -> float | None:
        if self.reported >= len(self.script.reports):
            return None
        return self.started + self.script.report_time(self.reported)

    def end(self) -> float | None:
        return None if self.script.duration is None else self.started + self.script.duration

    def next_event(self) -> float | None:
        times = [t for t in (self.next_report(), self.end()) if t is not None]
        return min(times) if times else None


class FakeExecutor(Executor):
    """See the module's docstring."""

    def __init__(
        self,
        model: Callable[[Any], Any] | None = None,
        *,
        capacity: int = 1,
        scripts: Mapping[int, Any] | None = None,
        interrupt_after: int | None = None,
        interrupt_with: type[BaseException] | BaseException = KeyboardInterrupt,
        time_limit: float = DEFAULT_TIME_LIMIT,
        start_error: BaseException | None = None,
    ):
        self.model = model if model is not None else (lambda params: 0.0)
        self.capacity = capacity
        self.scripts = dict(scripts or {})
        self.interrupt_after = interrupt_after
        self.interrupt_with = interrupt_with
        self.time_limit = time_limit
        self.start_error = start_error
        self.now = 0.0
        self.submitted: list[TrialRequest] = []
        self.started_at: dict[int, float] = {}
        self.delivered: list[TrialOutcome] = []  # every outcome wait() returned, in order
        self.max_running = 0
        self.prune_calls: list[int] = []
        self.stop_calls: list[list[int]] = []
        self.start_calls = 0
        self.waits = 0
        self.interrupted = False  # interrupt_with was raised
        self._running: dict[int, _Run] = {}
        self._ended: list[TrialOutcome] = []  # ended, not yet returned by wait()
        self._reports: list[Report] = []

    # --- what tests read ----------------------------------------------------------------------

    @property
    def numbers(self) -> list[int]:
        """The trial numbers submitted, in order (a re-run trial appears again)."""
        return [request.number for request in self.submitted]

    def params_of(self, number: int) -> Any:
        """The params trial ``number`` was last submitted with."""
        return next(r.params for r in reversed(self.submitted) if r.number == number)

    @property
    def in_flight(self) -> list[int]:
        """Trials submitted and not yet returned by wait() (nor stopped)."""
        return sorted([*self._running, *(o.number for o in self._ended)])

    # --- the Executor interface ---------------------------------------------------------------

    def start(self) -> None:
        self.start_calls += 1
        if self.start_error is not None:
            raise self.start_error

    def submit(self, request: TrialRequest) -> None:
        assert self.start_calls, "submit() before start()"
        assert request.number not in self.in_flight, f"trial {request.number} is running"
        if len(self.in_flight) >= self.capacity:
            raise AssertionError(
                f"trial {request.number} submitted while {self.in_flight} run: "
                f"more than capacity {self.capacity}"
            )
        self.submitted.append(request)
        self.started_at[request.number] = self.now
        self._running[request.number] = _Run(request, self._script(request), self.now)
        self.max_running = max(self.max_running, len(self.in_flight))

    def wait(self, timeout: float) -> list[TrialOutcome]:
        assert self.start_calls, "wait() before start()"
        self.waits += 1
        if self.interrupt_after is not None and len(self.delivered) >= self.interrupt_after:
            self.interrupt_after = None  # once
            self.interrupted = True
            raise self.interrupt_with
        if not self._ended:
            times = [t for run in self._running.values() if (t := run.next_event()) is not None]
            due = min(times, default=None)
            self.now = due if due is not None and due <= self.now + timeout else self.now + timeout
            if self.now > self.time_limit:
                raise AssertionError(
                    f"the virtual clock passed {self.time_limit} s with {self.in_flight} "
                    "running: a trial hangs and nothing stops it"
                )
            self._play_until(self.now)
        count = len(self._ended)
        if self.interrupt_after is not None:
            count = min(count, self.interrupt_after - len(self.delivered))
        outcomes, self._ended = self._ended[:count], self._ended[count:]
        self.delivered += outcomes
        return outcomes

    def stop(self) -> list[int]:
        cut_short = self.in_flight
        self.stop_calls.append(cut_short)
        self._running.clear()
        self._ended.clear()
        self._reports.clear()
        return cut_short

    def reports(self) -> list[Report]:
        reports, self._reports = self._reports, []
        return reports

    def samples(self) -> list[Sample]:
        """Each running trial as it would be sampled: ``SAMPLE_RAM`` MiB per trial number."""
        return [
            Sample(number, self.now - run.started, SAMPLE_RAM * number, 100.0, None, {"time": 0.5})
            for number, run in sorted(self._running.items())
        ]

    def prune(self, number: int) -> None:
        self.prune_calls.append(number)
        if number in self._running:
            self._running[number].pruned = True

    # --- playing the scripts ------------------------------------------------------------------

    def _script(self, request: TrialRequest) -> Script:
        if request.number in self.scripts:
            planned = self.scripts[request.number]
            return planned if isinstance(planned, Script) else result(planned)
        try:
            value = self.model(copy.deepcopy(request.params))
        except Exception as raised:
            return error(
                f"{type(raised).__name__}: {raised}", traceback=traceback_module.format_exc()
            )
        return value if isinstance(value, Script) else result(value)

    def _play_until(self, moment: float) -> None:
        """Everything that happens up to ``moment``, in time order (reports first, then by
        trial number, at equal times)."""
        while True:
            due = [
                (when, number)
                for number, run in self._running.items()
                if (when := run.next_event()) is not None and when <= moment
            ]
            if not due:
                return
            when, number = min(due)
            self._step(self._running[number], when)

    def _step(self, run: _Run, when: float) -> None:
        number = run.request.number
        if run.next_report() == when:
            if run.pruned:
                self._finish(run, OutcomeKind.PRUNED, when)
                return
            step, value = run.script.reports[run.reported]
            run.reported += 1
            self._reports.append(Report(number, step, value))
            return
        assert run.end() == when and run.script.end is not None
        self._finish(run, run.script.end, when)

    def _finish(self, run: _Run, kind: OutcomeKind, when: float) -> None:
        del self._running[run.request.number]
        script = run.script
        ended_as_scripted = kind is script.end
        self._ended.append(
            TrialOutcome(
                run.request.number,
                kind,
                measured_time=when - run.started,
                value=script.value if kind is OutcomeKind.RESULT else None,
                error=script.error if ended_as_scripted else None,
                traceback=script.traceback if ended_as_scripted else None,
                resources=dict(script.resources),
            )
        )
