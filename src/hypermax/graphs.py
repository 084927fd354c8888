"""``results.graphs``: the analysis report and charts, kept current in the results folder while
a search runs.

The runner only counts trials and starts a pass now and then; each pass is a separate process
(``python -m hypermax.graphs RESULTS_DIR``) that reads the results folder as any reader does and
writes ``analysis/`` (``report.html``, ``png/``, ``csv/``, as ``hypermax analyze`` does). So no
trial waits for a chart, nothing of the analysis (matplotlib, scikit-learn) is imported into the
search process, and a pass that fails is logged to ``logs/graphs.log`` and named in one line on
stderr, never ending the search.

A pass starts once at least ``every_trials`` trials have finished and ``every_seconds`` have
passed since the last one started (whichever comes later), never while one is running; the
last pass runs when the search ends, and the search waits for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from hypermax.execution.monitor import log_tail

EVERY_TRIALS = 10
EVERY_SECONDS = 60.0
FINAL_TIMEOUT = 600.0  # seconds the end of a search waits for its last pass
LOG_NAME = "graphs.log"  # in the results folder's logs/
ANALYSIS_FOLDER = "analysis"
NOTHING_YET = 3  # a pass's exit code when there is nothing to draw yet (too few successes)


class LiveGraphs:
    """Starts, watches and ends the graph passes of one search run (in the search process)."""

    def __init__(
        self,
        results_dir: Path,
        every_trials: int | None = None,
        every_seconds: float | None = None,
        stream: TextIO | None = None,
    ):
        self.results_dir = results_dir
        self.every_trials = EVERY_TRIALS if every_trials is None else every_trials
        self.every_seconds = EVERY_SECONDS if every_seconds is None else every_seconds
        self.stream = stream
        self.log_path = results_dir / "logs" / LOG_NAME
        self._process: subprocess.Popen[bytes] | None = None
        self._since = 0  # trials finished since the last pass started
        self._started = time.monotonic()  # of the last pass, or of the run
        self._shown: set[str] = set()  # problems already named on stderr

    @property
    def running(self) -> bool:
        """A pass is drawing now."""
        return self._process is not None and self._process.poll() is None

    def trial_finished(self) -> None:
        """Called for every finished trial: O(1), never waits."""
        self._since += 1
        self._collect()
        if (
            self._process is None
            and self._since >= self.every_trials
            and time.monotonic() - self._started >= self.every_seconds
        ):
            self._start()

    def finish(self) -> None:
        """The search ended: wait for the pass in flight, then draw the final state."""
        if self._process is not None:
            self._wait()
        if self._since or not (self.results_dir / ANALYSIS_FOLDER / "report.html").exists():
            stream = self.stream or sys.stderr
            with contextlib.suppress(OSError, ValueError):  # a closed stream
                if stream.isatty():  # the pause at the end is explained
                    self._show(f"writing the graphs into {self.results_dir / ANALYSIS_FOLDER}")
            self._start()
            if self._process is not None:
                self._wait(final=True)

    def stop(self) -> None:
        """The search was interrupted: end the pass in flight (the files of the last complete
        pass stay as they were: each file is replaced whole)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _start(self) -> None:
        self._since, self._started = 0, time.monotonic()
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "hypermax.graphs", str(self.results_dir)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C is the search's to handle, not the pass's
                    env={**os.environ, "MPLBACKEND": "Agg"},
                )
        except OSError as error:  # a full disk, no processes left: no graphs, the search goes on
            self._show(f"graphs not written: cannot start a pass ({error})")

    def _collect(self) -> None:
        """Note the end of the pass in flight, if it ended, without waiting."""
        if self._process is not None and self._process.poll() is not None:
            self._ended(self._process.returncode, final=False)

    def _wait(self, final: bool = False) -> None:
        assert self._process is not None
        try:
            code = self._process.wait(FINAL_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.stop()
            self._show(f"graphs not written: the last pass took over {FINAL_TIMEOUT:.0f} s")
            return
        self._ended(code, final)

    def _ended(self, code: int, final: bool) -> None:
        self._process = None
        if code == 0 or (code == NOTHING_YET and not final):
            return
        last = _last_line(self.log_path)
        if code == NOTHING_YET:
            self._show(f"no graphs written: {last}")
        else:
            self._show(f"graphs not written ({last}); see {self.log_path}")

    def _show(self, text: str) -> None:
        if text in self._shown:
            return
        self._shown.add(text)
        with contextlib.suppress(OSError, ValueError):  # stderr closed: the log has it anyway
            print(f"hypermax: {text}", file=self.stream or sys.stderr, flush=True)


def _last_line(path: Path) -> str:
    lines = log_tail(path, 4096).strip().splitlines()
    if not lines:
        return "no message"
    last = lines[-1]
    return last.split("] ", 1)[1] if last.startswith("[") and "] " in last else last


# --- the pass itself (in its own process) -------------------------------------------------


def write_graphs(results_dir: Path) -> Path:
    """Analyse the results folder and write ``analysis/``; returns the report's path.

    Every file is written beside its place and then renamed over the old one, so a reader
    (a browser reloading the report) never sees half a file; charts of an earlier pass that
    this one no longer draws are removed."""
    from hypermax.analysis import load_table
    from hypermax.analysis.report import analyse, write_report

    analysis = analyse(load_table(results_dir))
    target = results_dir / ANALYSIS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    scratch = target / f".writing-{os.getpid()}"
    try:
        write_report(analysis, scratch)
        written = {p.relative_to(scratch) for p in scratch.rglob("*") if p.is_file()}
        for relative in sorted(written):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(scratch / relative, target / relative)
        for kind in ("png", "csv"):
            for old in (target / kind).glob(f"*.{kind}"):
                if old.relative_to(target) not in written:
                    old.unlink(missing_ok=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / "report.html"


def main(argv: Sequence[str] | None = None) -> int:
    """One pass: ``python -m hypermax.graphs RESULTS_DIR``. Exit 0 written, 3 nothing to draw
    yet, 1 failed; the last line printed says why."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: python -m hypermax.graphs RESULTS_DIR", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):
        os.nice(10)  # trials come first
    stamp = f"[{datetime.now().isoformat(timespec='seconds')}] "
    try:
        from hypermax.analysis import AnalysisError

        try:
            page = write_graphs(Path(arguments[0]))
        except AnalysisError as error:
            print(f"{stamp}{error}", flush=True)
            return NOTHING_YET
    except Exception as error:  # logged with its traceback; the search goes on
        traceback.print_exc()
        print(f"{stamp}{type(error).__name__}: {error}", flush=True)
        return 1
    print(f"{stamp}wrote {page}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
