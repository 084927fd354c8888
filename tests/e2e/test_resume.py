"""Kill a running search at any moment (kill -9, Ctrl-C); running it again finishes the job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, select

from hypermax.storage import SQLStorage, sqlite_url
from hypermax.storage.sql import normalize_url, searches
from hypermax.trial import TrialStatus
from tests.e2e.conftest import HYPERMAX

ITERATIONS = 20

SLOW_MODEL = """
import json, os, time

def train(p):
    with open(os.path.join(os.path.dirname(__file__), "calls.jsonl"), "a") as log:
        log.write(json.dumps(p, sort_keys=True) + "\\n")
    time.sleep(0.15)
    return (p["x"] - 2) ** 2 + p["layers"]
"""

CONFIG = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": -5, "max": 5},
            "layers": {"type": "integer", "min": 1, "max": 4},
        },
    },
    "function": {"type": "python_function", "module": "model", "name": "train"},
    "search": {"name": "resume", "iterations": ITERATIONS, "seed": 5},
}


def finished_trials(results: Path, url: str | None = None, name: str = "resume") -> list:
    if url is None and not (results / "hypermax.db").exists():
        return []
    with SQLStorage(url or sqlite_url(results), name, create=False) as storage:
        return [t for t in storage.trials() if t.status.finished]


def start(config: Path, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [HYPERMAX, str(config), *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for(
    results: Path, count: int, timeout: float = 60, url: str | None = None, name: str = "resume"
) -> None:
    deadline = time.monotonic() + timeout
    while len(finished_trials(results, url, name)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} trials finished in {timeout} s"
        time.sleep(0.02)


@pytest.mark.parametrize("kill_after", [0, 1, 7, 13])
@pytest.mark.slow
def test_kill_9_then_resume_runs_exactly_the_iterations(write_search, kill_after: int) -> None:
    config = write_search(SLOW_MODEL, CONFIG)
    results = config.parent / "hypermax_results" / "resume"
    process = start(config)
    if kill_after:
        wait_for(results, kill_after)
    else:
        time.sleep(1.5)  # mid start-up: config checked, workers starting, maybe one trial
    workers = psutil.Process(process.pid).children(recursive=True)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    psutil.wait_procs(workers, timeout=5)
    before = {t.number: t for t in finished_trials(results)}

    done = subprocess.run([HYPERMAX, str(config)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    after = finished_trials(results)
    assert len(after) == ITERATIONS
    assert sorted(t.number for t in after) == list(range(1, ITERATIONS + 1))
    for trial in after:
        if trial.number in before:
            assert trial.flat == before[trial.number].flat
            assert trial.loss == before[trial.number].loss
            assert trial.finished_at == before[trial.number].finished_at
    calls = [json.loads(line) for line in (config.parent / "calls.jsonl").read_text().splitlines()]
    for trial in before.values():
        assert calls.count(trial.params) == 1, "a finished trial ran again"
    lines = (results / "trials.csv").read_text().splitlines()
    assert len(lines) == ITERATIONS + 1


@pytest.mark.slow
def test_workers_die_with_a_killed_search(write_search) -> None:
    config = write_search(SLOW_MODEL, CONFIG)
    process = start(config)
    wait_for(config.parent / "hypermax_results" / "resume", 1)
    workers = psutil.Process(process.pid).children(recursive=True)
    assert workers
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []


@pytest.mark.slow
def test_ctrl_c_records_interrupted_trials_and_leaves_no_process(write_search) -> None:
    config = write_search(SLOW_MODEL, {**CONFIG, "search": {**CONFIG["search"], "parallel": 2}})
    results = config.parent / "hypermax_results" / "resume"
    process = start(config)
    wait_for(results, 3)
    workers = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert b"resume" in stderr
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    with SQLStorage(sqlite_url(results), "resume", create=False) as storage:
        statuses = [t.status for t in storage.trials()]
    assert TrialStatus.RUNNING not in statuses
    assert TrialStatus.INTERRUPTED in statuses

    done = subprocess.run([HYPERMAX, str(config)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(finished_trials(results)) == ITERATIONS


@pytest.mark.slow
def test_a_second_run_of_a_running_search_is_refused(write_search) -> None:
    # long enough to still be running when a second hypermax has started up on a busy machine
    # random search: the method plays no part here, and a GP's suggestions would only add time
    search = {**CONFIG["search"], "iterations": 60, "method": "random"}
    config = write_search(SLOW_MODEL, {**CONFIG, "search": search})
    results = config.parent / "hypermax_results" / "resume"
    process = start(config)
    wait_for(results, 2)
    second = subprocess.run([HYPERMAX, str(config)], capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "already running" in second.stderr
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    finished = finished_trials(results)
    assert sorted(t.number for t in finished) == list(range(1, 61))


def refused(config: Path, *arguments: str) -> None:
    """Run hypermax beside the live search: it must be refused as a second run is."""
    second = subprocess.run(
        [HYPERMAX, str(config), *arguments], capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 1, second.stderr
    assert "is already running in another process" in second.stderr
    assert "Traceback" not in second.stderr


@pytest.mark.slow
def test_fresh_while_the_search_runs_is_refused_and_moves_nothing(write_search) -> None:
    # three refused runs start up one after another: on a busy machine that takes seconds
    search = {**CONFIG["search"], "iterations": 150, "method": "random"}
    config = write_search(SLOW_MODEL, {**CONFIG, "search": search})
    results = config.parent / "hypermax_results" / "resume"
    process = start(config, "--fresh")  # the live run is a --fresh one itself
    wait_for(results, 2)
    refused(config, "--fresh")
    refused(config, "--fresh")
    refused(config)
    assert sorted(p.name for p in results.parent.iterdir()) == [".resume.lock", "resume"]
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert sorted(t.number for t in finished_trials(results)) == list(range(1, 151))
    assert len((results / "trials.csv").read_text().splitlines()) == 151


@pytest.mark.postgres
def test_fresh_while_a_postgresql_search_runs_is_refused_and_renames_nothing(
    write_search, postgres_url: str, postgres_search: str
) -> None:
    search = {
        **CONFIG["search"],
        "iterations": 60,
        "method": "random",
        "name": postgres_search,
        "storage": postgres_url,
    }
    config = write_search(SLOW_MODEL, {**CONFIG, "search": search})
    results = config.parent / "hypermax_results" / postgres_search
    process = start(config)
    wait_for(results, 2, url=postgres_url, name=postgres_search)
    refused(config, "--fresh")
    refused(config, "--fresh")
    assert sorted(p.name for p in results.parent.iterdir()) == [postgres_search]
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    finished = finished_trials(results, postgres_url, postgres_search)
    assert sorted(t.number for t in finished) == list(range(1, 61))
    engine = create_engine(normalize_url(postgres_url))
    try:
        with engine.connect() as connection:
            names = connection.execute(
                select(searches.c.name).where(searches.c.name.startswith(postgres_search))
            ).scalars()
            assert list(names) == [postgres_search]
    finally:
        engine.dispose()


def test_sigterm_stops_like_ctrl_c(write_search) -> None:
    config = write_search(SLOW_MODEL, CONFIG)
    results = config.parent / "hypermax_results" / "resume"
    process = start(config)
    wait_for(results, 2)
    workers = psutil.Process(process.pid).children(recursive=True)
    process.terminate()
    process.communicate(timeout=30)
    assert process.returncode == 130
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    with SQLStorage(sqlite_url(results), "resume", create=False) as storage:
        assert TrialStatus.RUNNING not in [t.status for t in storage.trials()]
