"""Models shaped like real training scripts: they fork workers of their own (a
multiprocessing Pool, a Process, PyTorch's DataLoader) and must run like any other trial, with
their memory measured once, not once per copy-on-write child."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypermax.execution.base import OutcomeKind, TrialOutcome
from hypermax.execution.local import Limits
from tests.execution.test_local import run_trial

FORKING_MODEL = """
import multiprocessing, os, time

def _square(x):
    return x * x

def pool(p):
    with multiprocessing.Pool(2) as workers:
        return float(sum(workers.map(_square, range(10))))

def _child(queue):
    queue.put(os.getpid())

def process(p):
    queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_child, args=(queue,))
    child.start()
    pid = queue.get(timeout=30)
    child.join(30)
    return {"loss": 0.0, "child_pid": pid, "exitcode": child.exitcode}

def data_loader(p):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    data = TensorDataset(torch.arange(64, dtype=torch.float32).reshape(32, 2))
    total = 0.0
    for (batch,) in DataLoader(data, batch_size=4, num_workers=2):
        total += float(batch.sum())
    return total

BALLAST = bytearray(200 * 1024 * 1024)
for _i in range(0, len(BALLAST), 4096):
    BALLAST[_i] = 1

def idle_children(p):
    children = [multiprocessing.Process(target=time.sleep, args=(3,)) for _ in range(4)]
    for child in children:
        child.start()
    time.sleep(2)
    for child in children:
        child.terminate()
        child.join()
    return 0.0
"""


@pytest.fixture
def forking_dir(tmp_path: Path) -> Path:
    (tmp_path / "model.py").write_text(FORKING_MODEL)
    return tmp_path


def _succeeded(outcome: TrialOutcome) -> TrialOutcome:
    assert outcome.kind is OutcomeKind.RESULT, (outcome.error, outcome.traceback)
    return outcome


def test_a_model_with_a_multiprocessing_pool_runs(forking_dir: Path) -> None:
    assert _succeeded(run_trial(forking_dir, "pool")).value == 285.0


def test_a_model_that_starts_a_process_runs(forking_dir: Path) -> None:
    value = _succeeded(run_trial(forking_dir, "process")).value
    assert value["exitcode"] == 0
    assert value["child_pid"] > 0


def test_a_model_with_a_torch_data_loader_of_two_workers_runs(forking_dir: Path) -> None:
    pytest.importorskip("torch")
    assert _succeeded(run_trial(forking_dir, "data_loader")).value == float(sum(range(64)))


def test_copy_on_write_children_are_not_counted_once_each(forking_dir: Path) -> None:
    """The model holds 200 MiB when the trial starts; four idle children share it. Counting
    resident memory per process would see 1 GiB and kill the trial at a 400 MiB limit (each
    child still copies the pages Python's reference counts write to)."""
    outcome = _succeeded(run_trial(forking_dir, "idle_children", limits=Limits(max_ram=400)))
    assert 190 < outcome.resources["peak_ram_mib"] < 400
