"""Searches under attack: kill -9 at random moments, and trials that kill their own search."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import Trial, TrialStatus
from tests.e2e.conftest import HYPERMAX, write_search_files

SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": -1, "max": 1}}}

# each trial leaves a process of its own running (as careless training scripts do)
CHILD_MODEL = """
import subprocess, time

def train(p):
    subprocess.Popen(["sleep", "987"])
    time.sleep(0.3)
    return p["x"] ** 2
"""


def _trials(results: Path, name: str) -> list[Trial]:
    if not (results / "hypermax.db").exists():
        return []
    with SQLStorage(sqlite_url(results), name, create=False) as storage:
        return storage.trials()


def _leftover_sleepers() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["cmdline"] == ["sleep", "987"] and process.info["status"] != "zombie":
            found.append(process)
    return found


def _run_to_the_end(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HYPERMAX, str(config), "--no-ui"], capture_output=True, text=True, timeout=240
    )


@pytest.mark.slow
def test_kill_9_at_ten_random_moments_of_a_parallel_search(tmp_path: Path) -> None:
    iterations = 30
    config = write_search_files(
        tmp_path,
        SPACE,
        {"name": "chaos", "iterations": iterations, "parallel": 2, "method": "random"},
        CHILD_MODEL,
    )
    results = tmp_path / "hypermax_results" / "chaos"
    moments = random.Random(7).sample([0.4 + 0.25 * i for i in range(16)], 10)
    finished: dict[int, Trial] = {}
    for moment in moments:
        process = subprocess.Popen(
            [HYPERMAX, str(config), "--no-ui"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(moment)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        for trial in _trials(results, "chaos"):
            if trial.status.finished:
                earlier = finished.setdefault(trial.number, trial)
                assert (earlier.status, earlier.loss, earlier.flat) == (
                    trial.status,
                    trial.loss,
                    trial.flat,
                ), f"finished trial {trial.number} changed"
    completed = _run_to_the_end(config)
    assert completed.returncode == 0, completed.stderr
    trials = _trials(results, "chaos")
    assert sum(t.status.finished for t in trials) == iterations
    for number, earlier in finished.items():
        assert trials[number - 1].loss == earlier.loss
    time.sleep(0.5)
    assert _leftover_sleepers() == []


POISON_MODEL = """
import os, signal

def train(p):
    if p["x"] == -1:  # the first trial (a warm start) ends the search that runs it
        os.kill(os.getppid(), signal.{signal})
    return p["x"] ** 2
"""


@pytest.mark.slow
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_a_trial_that_kills_its_search_runs_three_times_then_fails(
    tmp_path: Path, signal_name: str
) -> None:
    config = write_search_files(
        tmp_path,
        SPACE,
        {"name": "poison", "iterations": 3, "method": "random", "initial": [{"x": -1}]},
        POISON_MODEL.replace("{signal}", signal_name),
    )
    codes = []
    for _ in range(6):
        codes.append(_run_to_the_end(config).returncode)
        if codes[-1] == 0:
            break
    expected = -signal.SIGKILL if signal_name == "SIGKILL" else 130
    assert codes == [expected, expected, expected, 0]
    trials = _trials(tmp_path / "hypermax_results" / "poison", "poison")
    assert trials[0].status is TrialStatus.FAILED
    assert "interrupted the search 3 times" in (trials[0].error or "")
    assert [t.status for t in trials[1:]] == [TrialStatus.OK, TrialStatus.OK]


@pytest.mark.slow
def test_stopping_by_hand_is_never_held_against_a_trial(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) while the same long trial runs, again and again: it stays due."""
    config = write_search_files(
        tmp_path,
        SPACE,
        {"name": "patient", "iterations": 3, "method": "random", "initial": [{"x": -1}]},
        POISON_MODEL.replace("{signal}", "SIGINT"),
    )
    codes = [_run_to_the_end(config).returncode for _ in range(4)]
    assert codes == [130] * 4
    (trial, *_) = _trials(tmp_path / "hypermax_results" / "patient", "patient")
    assert (trial.status, trial.interruptions) == (TrialStatus.INTERRUPTED, 0)
