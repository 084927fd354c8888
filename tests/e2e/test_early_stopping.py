"""Intermediate values: the model reports them with hypermax.report, they are saved, and with
search.early_stopping poor trials stop early (their worker survives: the model is told through
the next report, not killed)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import hypermax
from hypermax import reporting
from hypermax.cli import main
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import TrialStatus
from tests.e2e.conftest import HYPERMAX, write_search_files

# A trial goes on only once the search has saved (and so judged) its last report: a fixed pause
# for the search to catch up would let a loaded machine finish a trial before it was judged.
WAIT_SAVED = """
import json
import sqlite3
import time

def wait_saved(step):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection = sqlite3.connect(DATABASE, timeout=5)
        try:
            rows = connection.execute(
                "select intermediate from hypermax_trials where status = 'running'"
            ).fetchall()
        except sqlite3.OperationalError:  # busy: try again
            rows = []
        finally:
            connection.close()
        saved = [json.loads(row[0] or "[]") for row in rows]
        if any(steps and steps[-1][0] >= step for steps in saved):
            return
        time.sleep(0.01)
    raise RuntimeError(f"the search did not save the report of step {step} within 60 s")
"""

MODEL = """
import os
import time

import hypermax

def train(p):
    for epoch in range(8):
        value = (p["x"] - 0.3) ** 2 + 1.0 / (epoch + 1)
        hypermax.report(value, step=epoch)
        wait_saved(epoch)
        time.sleep(PAUSE)
    return {"loss": value, "pid": os.getpid()}
"""


def model(folder: Path, pause: float = 0.0) -> str:
    """MODEL for a search named ``es`` in ``folder``, pausing ``pause`` s after each report."""
    database = folder / "hypermax_results" / "es" / "hypermax.db"
    return f"DATABASE = {str(database)!r}\nPAUSE = {pause!r}\n{WAIT_SAVED}{MODEL}"


SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": 0, "max": 1}}}


def run(folder: Path, early_stopping: dict | None) -> list:
    search: dict = {"name": "es", "method": "random", "iterations": 24, "seed": 4}
    if early_stopping is not None:
        search["early_stopping"] = early_stopping
    config = write_search_files(folder, SPACE, search, model(folder))
    assert main([str(config), "--no-ui"]) == 0
    with SQLStorage(sqlite_url(folder / "hypermax_results" / "es"), "es", create=False) as db:
        return db.trials()


def test_reports_are_saved_with_each_trial(tmp_path: Path) -> None:
    trials = run(tmp_path, None)
    assert all(t.status is TrialStatus.OK for t in trials)
    for trial in trials:
        assert [step for step, _ in trial.intermediate] == list(range(8))
        assert trial.intermediate[-1][1] == trial.loss


def test_poor_trials_stop_early_and_keep_their_last_value(tmp_path: Path) -> None:
    trials = run(tmp_path, {"min_trials": 3, "warmup_steps": 1})
    assert len(trials) == 24
    pruned = [t for t in trials if t.status is TrialStatus.PRUNED]
    finished = [t for t in trials if t.status is TrialStatus.OK]
    assert pruned and finished, [(t.status.value, len(t.intermediate)) for t in trials]
    assert all(t.status is TrialStatus.OK for t in trials[:3])  # nothing to compare with yet
    for trial in pruned:
        assert len(trial.intermediate) < 8
        assert trial.loss == trial.intermediate[-1][1]
    pids = {t.metadata["pid"] for t in finished}
    assert len(pids) == 1, f"one warm worker throughout, not {pids}"
    distance = statistics.mean
    assert distance(abs(t.params["x"] - 0.3) for t in pruned) > distance(
        abs(t.params["x"] - 0.3) for t in finished
    )


def test_report_outside_a_search_does_nothing() -> None:
    """The model run by hand: no error, nothing sent, nothing counted for a later trial."""
    before = reporting._reports
    assert reporting._channel is None
    assert hypermax.report(0.5, step=1) is None
    assert hypermax.report(float("nan")) is None
    assert reporting._reports == before
    assert reporting._channel is None


PROGRAM = """
import json
import sys

x = json.load(sys.stdin)["x"]
for epoch in range(8):
    value = (x - 0.3) ** 2 + 1.0 / (epoch + 1)
    print(f"hypermax-report {epoch} {value}", flush=True)
    wait_saved(epoch)  # a poor trial is ended once judged, whatever it does next
print(value)
"""


@pytest.mark.slow
def test_programs_report_with_a_line_and_are_stopped_early(tmp_path: Path) -> None:
    database = tmp_path / "hypermax_results" / "es" / "hypermax.db"
    (tmp_path / "train.py").write_text(f"DATABASE = {str(database)!r}\n{WAIT_SAVED}{PROGRAM}")
    search = {
        "name": "es",
        "method": "random",
        "iterations": 12,
        "seed": 4,
        "early_stopping": {"min_trials": 3, "warmup_steps": 1},
    }
    function = {"type": "executable", "command": [sys.executable, "train.py"]}
    config = write_search_files(tmp_path, SPACE, search, function=function)
    assert main([str(config), "--no-ui"]) == 0
    with SQLStorage(sqlite_url(tmp_path / "hypermax_results" / "es"), "es", create=False) as db:
        trials = db.trials()
    finished = [t for t in trials if t.status is TrialStatus.OK]
    assert finished
    assert all(len(t.intermediate) == 8 and t.loss == t.intermediate[-1][1] for t in finished)
    pruned = [t for t in trials if t.status is TrialStatus.PRUNED]
    assert pruned and all(len(t.intermediate) < 8 for t in pruned)


@pytest.mark.slow
def test_a_trial_cut_short_reports_afresh_when_it_runs_again(tmp_path: Path) -> None:
    search = {"name": "es", "method": "random", "iterations": 3, "seed": 4}
    config = write_search_files(tmp_path, SPACE, search, model(tmp_path, pause=0.2))
    results = tmp_path / "hypermax_results" / "es"
    process = subprocess.Popen([HYPERMAX, str(config)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(len(t.intermediate) >= 2 for t in stored(results)):
        assert time.monotonic() < deadline, "no trial reported twice in 60 s"
        time.sleep(0.05)
    workers = psutil.Process(process.pid).children(recursive=True)
    process.kill()  # kill -9: the trial stays 'running' with part of its reports saved
    process.wait()
    psutil.wait_procs(workers, timeout=5)  # they die with the search, holding its lock till then
    assert main([str(config), "--no-ui"]) == 0
    trials = stored(results)
    assert [t.status for t in trials] == [TrialStatus.OK] * 3
    assert all([step for step, _ in t.intermediate] == list(range(8)) for t in trials)


def stored(results: Path) -> list:
    if not (results / "hypermax.db").exists():
        return []
    with SQLStorage(sqlite_url(results), "es", create=False) as db:
        return db.trials()
