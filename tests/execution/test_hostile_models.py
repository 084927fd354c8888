"""Models that attack the worker's pipe to the search: whatever they write fails their own
trial, never the search, and never makes it wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypermax.execution.base import OutcomeKind, TrialRequest
from hypermax.execution.local import Limits, LocalExecutor
from hypermax.execution.python_function import FunctionSource
from tests.execution.conftest import next_outcome

HOSTILE_MODEL = """
import os, pickle, struct, time

def _pipes():
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                found.append(int(fd))
        except OSError:
            pass
    return found

def _write_all(data):
    for fd in _pipes():
        os.write(fd, data)

def garbage(p):
    _write_all(b"this is not a message at all")
    time.sleep(0.5)
    return 1.0

def pickle_bomb(p):
    payload = pickle.dumps(("result", p["n"], 1.0, 0.1, 1.0))
    _write_all(struct.pack("!i", len(payload)) + payload)
    time.sleep(0.5)
    return 1.0

def wrong_trial(p):
    payload = b'["result", 999, 0.0, 0.1, 1.0]'
    _write_all(struct.pack("!i", len(payload)) + payload)
    time.sleep(0.5)
    return 1.0

def half_a_frame(p):
    _write_all(struct.pack("!i", 1000) + b"[")
    time.sleep(60)

def huge_result(p):
    return list(range(20_000_000))

def fine(p):
    return 0.25

def closes_its_output(p):
    if p.get("calm"):
        return 0.25
    os.close(1)
    os.close(2)
    raise ValueError("the real cause")

KEPT = []

def leaks_descriptors(p):
    if p.get("calm"):
        return 0.25
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
    while True:
        KEPT.append(open(__file__))
"""


@pytest.fixture
def hostile_dir(tmp_path: Path) -> Path:
    (tmp_path / "model.py").write_text(HOSTILE_MODEL)
    return tmp_path


@pytest.mark.parametrize("name", ["garbage", "pickle_bomb", "wrong_trial"])
def test_garbage_in_the_pipe_fails_the_trial_and_the_next_one_runs(
    hostile_dir: Path, name: str
) -> None:
    source = FunctionSource(module="model", name=name, base_dir=str(hostile_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {"n": 1}, hostile_dir / "t1.log"))
        first = next_outcome(executor)
        executor.source = FunctionSource(module="model", name="fine", base_dir=str(hostile_dir))
        executor.submit(TrialRequest(2, {"n": 2}, hostile_dir / "t2.log"))
        second = next_outcome(executor)
    assert first.kind is OutcomeKind.ERROR
    assert "not a hypermax message" in (first.error or "")
    assert second.kind is OutcomeKind.RESULT
    assert second.value == 0.25


def test_half_a_message_does_not_block_the_time_limit(hostile_dir: Path) -> None:
    source = FunctionSource(module="model", name="half_a_frame", base_dir=str(hostile_dir))
    with LocalExecutor(source, limits=Limits(max_time=1.0)) as executor:
        executor.submit(TrialRequest(1, {}, hostile_dir / "t1.log"))
        outcome = next_outcome(executor, timeout=20)
    assert outcome.kind is OutcomeKind.KILLED


def test_a_result_too_large_to_send_fails_with_the_reason(hostile_dir: Path) -> None:
    source = FunctionSource(module="model", name="huge_result", base_dir=str(hostile_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, hostile_dir / "t1.log"))
        outcome = next_outcome(executor)
    assert outcome.kind is OutcomeKind.ERROR
    assert "MiB can go back to the search" in (outcome.error or "")


def _two_trials(folder: Path, first: str) -> list:
    """Trial 1 of ``first`` misbehaves, trial 2 of it returns at once."""
    source = FunctionSource(module="model", name=first, base_dir=str(folder))
    outcomes = []
    with LocalExecutor(source) as executor:
        for number, params in ((1, {}), (2, {"calm": True})):
            executor.submit(TrialRequest(number, params, folder / f"t{number}.log"))
            outcomes.append(next_outcome(executor))
    return outcomes


def test_a_model_that_closes_stdout_and_stderr_fails_with_its_own_error(
    hostile_dir: Path,
) -> None:
    first, second = _two_trials(hostile_dir, "closes_its_output")
    assert "ValueError: the real cause" in (first.error or "")
    assert second.kind is OutcomeKind.RESULT


def test_descriptors_leaked_by_a_trial_are_named_and_the_worker_replaced(
    hostile_dir: Path,
) -> None:
    first, second = _two_trials(hostile_dir, "leaks_descriptors")
    assert "Too many open files" in (first.error or "")
    assert second.kind is OutcomeKind.RESULT
