"""The search's pulse: the heartbeat and live samples a search writes to storage for readers in
other processes (the console and web UIs), on the fake executor."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import hypermax.pulse
from hypermax.events import EventKind, SearchEvent
from hypermax.search import Search
from hypermax.storage import SQLStorage
from tests.fake_executor import SAMPLE_RAM, FakeExecutor, result
from tests.test_search import NAME, make_config, square


@pytest.fixture
def storage() -> Iterator[SQLStorage]:
    with SQLStorage("sqlite://", NAME) as db:
        yield db


@pytest.fixture
def every_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beat on every turn of the loop: the fake's virtual clock runs faster than a second."""
    monkeypatch.setattr(hypermax.pulse, "INTERVAL", 0.0)


def test_a_finished_search_leaves_a_finished_heartbeat_and_no_samples(
    tmp_path: Path, storage: SQLStorage
) -> None:
    config = make_config(tmp_path, iterations=4)
    search = Search(config, executor=FakeExecutor(square), storage=storage, results_dir=tmp_path)
    search.run()
    beat = storage.heartbeat()
    assert beat is not None
    assert (beat.pid, beat.host, beat.state) == (os.getpid(), socket.gethostname(), "finished")
    assert beat.method == search.planner.optimizer.describe()
    assert beat.started_at <= beat.last_seen
    assert storage.samples() == {}


def test_running_trials_are_sampled_with_their_last_report(
    tmp_path: Path, storage: SQLStorage, every_loop: None
) -> None:
    config = make_config(tmp_path, iterations=6, parallel=2)
    reporting = FakeExecutor(lambda p: result(p["x"], reports=[(1, 0.9), (2, 0.8)]), capacity=2)
    heard: list[tuple[str, dict[int, dict]]] = []

    def watch(event: SearchEvent) -> None:
        if event.kind is EventKind.FINISHED:
            return  # the run has ended by then
        beat = storage.heartbeat()
        heard.append((beat.state if beat else "none", storage.samples()))

    Search(config, reporting, storage, tmp_path, listeners=[watch]).run()
    states = {state for state, _ in heard}
    assert states == {"running"}
    seen = [(number, sample) for _, samples in heard for number, sample in samples.items()]
    assert {number for number, _ in seen} == set(range(1, 7))
    for number, sample in seen:
        assert sample["ram_mib"] == SAMPLE_RAM * number
        assert sample["cpu_percent"] == 100.0 and sample["limits"] == {"time": 0.5}
        assert sample["elapsed"] >= 0 and sample["gpu_ram_mib"] is None
        assert sample["last_report"] in (None, [1, 0.9], [2, 0.8])
    reports = {tuple(sample["last_report"] or ()) for _, sample in seen}
    assert reports == {(), (1, 0.9), (2, 0.8)}
    assert storage.heartbeat().state == "finished" and storage.samples() == {}


@pytest.mark.parametrize(
    ("raised", "state"), [(KeyboardInterrupt, "stopped"), (RuntimeError, "failed")]
)
def test_a_run_that_ends_early_says_how(
    tmp_path: Path, storage: SQLStorage, raised: type[BaseException], state: str
) -> None:
    config = make_config(tmp_path, iterations=10)
    fake = FakeExecutor(square, interrupt_after=2, interrupt_with=raised)
    with pytest.raises(raised):
        Search(config, executor=fake, storage=storage, results_dir=tmp_path).run()
    assert storage.heartbeat().state == state
    assert storage.samples() == {}


def test_a_run_that_fails_fast_says_it_failed(tmp_path: Path, storage: SQLStorage) -> None:
    def broken(params: dict) -> float:
        raise ValueError("broken")

    config = make_config(tmp_path, iterations=10)
    with pytest.raises(Exception, match="failed"):
        Search(config, executor=FakeExecutor(broken), storage=storage, results_dir=tmp_path).run()
    assert storage.heartbeat().state == "failed"


def test_the_heartbeat_is_written_before_the_first_trial_starts(
    tmp_path: Path, storage: SQLStorage
) -> None:
    states: list[str] = []

    def first(event: SearchEvent) -> None:
        if event.kind is EventKind.TRIAL_STARTED:
            beat = storage.heartbeat()
            states.append(beat.state if beat else "none")

    config = make_config(tmp_path, iterations=2)
    Search(config, FakeExecutor(square), storage, tmp_path, listeners=[first]).run()
    assert states == ["running", "running"]
