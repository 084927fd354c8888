"""auto_kill_max_system_ram: past it the trial using the most memory goes, and only that one."""

from __future__ import annotations

from pathlib import Path

import psutil

from hypermax.execution.base import OutcomeKind, TrialRequest
from hypermax.execution.local import Limits, LocalExecutor
from hypermax.execution.python_function import FunctionSource
from tests.execution.conftest import every_outcome

MODEL = """
import time

def train(p):
    if p["hog"]:  # grows until it is killed, whatever else the machine is doing
        held = []
        for _ in range(40):
            held.append(bytearray(100 * 1024 * 1024))
            for i in range(0, len(held[-1]), 4096):
                held[-1][i] = 1
        time.sleep(30)
    time.sleep(3)
    return 1.0
"""


def test_only_the_trial_that_pushed_the_machine_past_the_limit_is_killed(
    tmp_path: Path,
) -> None:
    """Two idle trials run beside one that allocates up to 4 GiB: killing one trial per sample
    while the first one's memory was still being freed used to kill all three."""
    (tmp_path / "model.py").write_text(MODEL)
    memory = psutil.virtual_memory()
    limit = (memory.total - memory.available) / 2**20 + 800  # wide: memory in use drifts
    source = FunctionSource(module="model", name="train", base_dir=str(tmp_path))
    with LocalExecutor(source, capacity=3, limits=Limits(max_system_ram=limit)) as executor:
        for number, hog in ((1, False), (2, True), (3, False)):
            executor.submit(TrialRequest(number, {"hog": hog}, tmp_path / f"{number}.log"))
        outcomes = every_outcome(executor, 3)
    kinds = {outcome.number: outcome.kind for outcome in outcomes}
    assert kinds == {1: OutcomeKind.RESULT, 2: OutcomeKind.KILLED, 3: OutcomeKind.RESULT}
    (killed,) = [outcome for outcome in outcomes if outcome.number == 2]
    assert "auto_kill_max_system_ram" in (killed.error or "")
