"""Headless progress output: a rich progress bar on a terminal, one plain line per trial else."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from hypermax.events import EventKind, SearchEvent
from hypermax.trial import Trial, TrialStatus

_COUNTED = (EventKind.TRIAL_FINISHED, EventKind.FINISHED)  # the events that move the bar


def _loss_text(trial: Trial) -> str:
    return f"{trial.loss:.6g}" if trial.loss is not None else "-"


def trial_line(event: SearchEvent) -> str:
    """One line about a finished trial, e.g. ``trial 3/30 ok loss 0.12 (best 0.1 @1) 1.2s``."""
    trial = event.trial
    assert trial is not None
    text = f"trial {trial.number:>4}  [{event.finished}/{event.total}]  {trial.status.value:<7}"
    text += f" loss {_loss_text(trial):<10}"
    if trial.measured_time is not None:
        text += f" {trial.measured_time:7.2f}s"
    if event.best is not None:
        text += f"   best {_loss_text(event.best)} (trial {event.best.number})"
    if trial.status is not TrialStatus.OK and trial.error:
        text += f"   {trial.error.splitlines()[-1][:120]}"
    return text


def best_summary(best: Trial | None) -> str:
    if best is None:
        return "No trial succeeded yet."
    return f"Best trial: {best.number}  loss {_loss_text(best)}\n" + json.dumps(
        best.params, indent=2, default=str, ensure_ascii=False
    )


def front_summary(front: list[dict[str, Any]]) -> str:
    """The Pareto front, one line per trial (``pareto_dicts`` entries)."""
    if not front:
        return "Pareto front: no trial with every metric yet."
    lines = [f"Pareto front: {len(front)} trial(s) no other trial beats on every metric"]
    for entry in front:
        values = ", ".join(f"{name} {value:.6g}" for name, value in entry["metrics"].items())
        lines.append(f"  trial {entry['trial']}: {values}")
    return "\n".join(lines)


def silence(stream: TextIO) -> None:
    """Send what is still written to ``stream`` nowhere: its reader went away (``| head``),
    and the search goes on without it (also when Python flushes the stream at exit)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class ProgressPrinter:
    """A search listener that prints progress to ``stream``; once nobody reads the stream
    (a closed pipe), it prints nothing more and the search goes on."""

    def __init__(self, stream: TextIO | None = None, header: str = ""):
        self.stream = stream or sys.stdout
        self.header = header  # printed as the search starts, above the trials done
        self.fancy = self.stream.isatty()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._reader_gone = False

    def __call__(self, event: SearchEvent) -> None:
        if self._reader_gone:
            return
        try:
            self._print(event)
        except BrokenPipeError:
            self._reader_gone = True
            silence(self.stream)

    def _print(self, event: SearchEvent) -> None:
        if self.fancy:
            self._rich(event)
        elif event.kind == "started":
            print(self._start_text(event), file=self.stream, flush=True)
        elif event.kind == "trial_finished":
            print(trial_line(event), file=self.stream, flush=True)

    def _rich(self, event: SearchEvent) -> None:
        if event.kind == "started":
            self._progress = Progress(
                TextColumn("[bold]search"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(file=self.stream),
                auto_refresh=False,  # no background thread: workers are forked from this process
            )
            self._progress.console.print(self._start_text(event), highlight=False)
            self._progress.start()
            self._task = self._progress.add_task("", total=event.total, completed=event.finished)
        elif event.kind in _COUNTED and self._progress is not None and self._task is not None:
            if event.kind == "trial_finished":
                self._progress.console.print(trial_line(event))
            best = f"best {_loss_text(event.best)}" if event.best else ""
            self._progress.update(self._task, completed=event.finished, description=best)
            self._progress.refresh()
            if event.kind == "finished":
                self._progress.stop()

    def _start_text(self, event: SearchEvent) -> str:
        done = f"search: {event.finished}/{event.total} trials done"
        return f"{self.header}\n{done}" if self.header else done

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
