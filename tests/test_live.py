"""Following searches from outside the search process (hypermax.live): finding them, polling
only what changed, and telling a running search from a finished, stopped or dead one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hypermax.errors import NotAResultsFolder
from hypermax.live import STALE_AFTER, Follower, SearchRef, find_searches, run_state
from hypermax.search import Search
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.storage.base import Heartbeat
from hypermax.trial import TrialStatus
from tests.fake_executor import FakeExecutor, error, killed
from tests.test_search import make_config, square

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def run_search(tmp_path: Path, name: str, iterations: int = 6) -> Path:
    """A finished search in ``tmp_path/hypermax_results/name`` (its SQLite and config.json)."""
    config = make_config(tmp_path, iterations=iterations, name=name)
    scripts = {2: error("ValueError: bad"), 3: killed("too slow")}
    Search(config, executor=FakeExecutor(square, scripts=scripts)).run()
    return config.results_dir


def test_a_results_folder_is_one_search(tmp_path: Path) -> None:
    folder = run_search(tmp_path, "first")
    assert find_searches(folder) == [SearchRef("first", sqlite_url(folder), folder)]


def test_a_folder_of_results_folders_lists_each_search(tmp_path: Path) -> None:
    run_search(tmp_path, "first")
    run_search(tmp_path, "second")
    found = find_searches(tmp_path / "hypermax_results")
    assert [ref.name for ref in found] == ["first", "second"]


def test_a_database_url_lists_every_search_in_it(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    for name in ("b", "a"):
        SQLStorage(url, name).close()
    assert find_searches(url) == [SearchRef("a", url), SearchRef("b", url)]


def test_a_folder_without_searches_is_refused_with_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(NotAResultsFolder, match="holds no search: give a results folder"):
        find_searches(tmp_path)


def test_a_follower_polls_every_trial_once_then_only_changes(tmp_path: Path) -> None:
    folder = run_search(tmp_path, "followed")
    with Follower(find_searches(folder)[0]) as follower:
        first = follower.poll()
        assert [t.number for t in first] == [1, 2, 3, 4, 5, 6]
        assert follower.poll() == []
        with SQLStorage(sqlite_url(folder), "followed") as writer:
            writer.mark_interrupted()  # nothing running: nothing changes
            later = first[-1]
            later.number = 7
            later.status = TrialStatus.RUNNING
            writer.save_trial(later)
        assert [t.number for t in follower.poll()] == [7]
        assert sorted(follower.trials) == [1, 2, 3, 4, 5, 6, 7]


def test_the_status_of_a_finished_search(tmp_path: Path) -> None:
    folder = run_search(tmp_path, "done")
    with Follower(find_searches(folder)[0]) as follower:
        follower.poll()
        status = follower.status()
    assert status.state == "finished" and status.name == "done"
    assert status.counts == {TrialStatus.OK: 4, TrialStatus.FAILED: 1, TrialStatus.KILLED: 1}
    assert (status.finished, status.total) == (6, 6)
    best = min(
        (t for t in follower.trials.values() if t.status is TrialStatus.OK), key=lambda t: t.loss
    )
    assert status.best == best
    assert follower.samples() == {}


def beat(**changes: object) -> Heartbeat:
    values: dict = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "method": "tpe",
        "iterations": 10,
        "started_at": NOW,
        "last_seen": NOW,
        **changes,
    }
    return Heartbeat(**values)


def test_a_run_beating_recently_is_running() -> None:
    assert run_state(beat(), NOW + timedelta(seconds=2)) == "running"
    assert run_state(beat(host="elsewhere"), NOW + timedelta(seconds=2)) == "running"


def test_a_run_silent_too_long_is_dead() -> None:
    late = NOW + timedelta(seconds=STALE_AFTER + 1)
    assert run_state(beat(host="elsewhere"), late) == "dead"


def test_a_run_whose_process_is_gone_from_this_machine_is_dead_at_once() -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    gone = int(ended.stdout)
    assert run_state(beat(pid=gone), NOW) == "dead"


def test_an_ended_run_says_how_it_ended_and_none_is_not_started() -> None:
    for state in ("finished", "stopped", "failed"):
        assert run_state(beat(state=state), NOW + timedelta(days=1)) == state
    assert run_state(None) == "not started"
