"""Whole searches with trials killed for a limit: the kill is recorded (status ``killed``, the
reason, ``auto_kill_loss``) and the search method learns from it like from any other loss."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil

import hypermax
from hypermax.config import config_from_dict
from hypermax.execution import executor_for
from hypermax.search import Search
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import Trial, TrialStatus
from tests.method_spy import spy_on_method

KILL_LOSS = 9.5


def sleepy(params: dict) -> float:
    """Runs past any short time limit where ``x`` is large."""
    if params["x"] > 0.6:
        time.sleep(60)
    return params["x"]


def test_a_trial_killed_for_time_is_recorded_and_its_loss_informs_the_method(
    tmp_path: Path,
) -> None:
    data = {
        "hyperparameters": {"type": "object", "properties": {"x": {"type": "number"}}},
        "function": {
            "type": "python_function",
            "auto_kill_max_time": 1.0,
            "auto_kill_loss": KILL_LOSS,
        },
        "search": {"name": "kills", "method": "random", "iterations": 6, "seed": 2},
        "results": {"directory": str(tmp_path)},
    }
    data["hyperparameters"]["properties"]["x"].update({"min": 0, "max": 1})
    config = config_from_dict(data, require_function=False)
    search = Search(config, executor_for(config, function=sleepy))
    spy = spy_on_method(search)
    result = search.run()

    killed = [t for t in result.trials if t.status is TrialStatus.KILLED]
    assert killed, [t.params for t in result.trials]  # the seed draws some x above 0.6
    assert all(t.params["x"] > 0.6 for t in killed)
    for trial in killed:
        assert trial.loss == KILL_LOSS
        assert "auto_kill_max_time (1.0 s)" in (trial.error or "")
        assert 1.0 <= (trial.measured_time or 0) < 10
    assert all(t.status is TrialStatus.OK for t in result.trials if t not in killed)
    assert result.best_loss is not None and result.best_loss < KILL_LOSS

    # the method was asked again after each kill but the last, and saw the kill's loss
    told = {number for seen in spy.seen for number, state in seen.items()}
    assert [t.number for t in killed if t.number in told], "no suggestion after a kill"
    for trial in killed:
        later = [seen[trial.number] for seen in spy.seen if trial.number in seen]
        assert all(state == (TrialStatus.KILLED, KILL_LOSS) for state in later)

    # and so does the record on disk, which a resumed search starts from
    with SQLStorage(sqlite_url(tmp_path / "kills"), "kills", create=False) as storage:
        stored = {t.number: (t.status, t.loss) for t in storage.trials()}
    assert {stored[t.number] for t in killed} == {(TrialStatus.KILLED, KILL_LOSS)}


def hog(params: dict) -> float:
    """Holds 600 MiB (written, so the pages are really in use) where ``hog`` is true."""
    if params["hog"]:
        block = b"\x01" * (600 * 2**20)
        time.sleep(60)
        return float(len(block))
    return 1.0


def system_ram_used() -> float:
    memory = psutil.virtual_memory()
    return (memory.total - memory.available) / 2**20


def test_a_trial_that_pushes_the_machine_past_max_system_ram_is_killed() -> None:
    limit = round(system_ram_used() + 300)
    result = hypermax.optimize(
        hog,
        {"type": "object", "properties": {"hog": {"type": "boolean", "enum": [False, True]}}},
        method="grid",
        iterations=2,
        function_options={"auto_kill_max_system_ram": limit, "auto_kill_loss": KILL_LOSS},
    )
    by_hog: dict[Any, Trial] = {t.params["hog"]: t for t in result.trials}
    assert set(by_hog) == {False, True}
    assert by_hog[False].status is TrialStatus.OK and by_hog[False].loss == 1.0
    killed = by_hog[True]
    assert killed.status is TrialStatus.KILLED, killed.error
    assert killed.loss == KILL_LOSS
    assert f"past auto_kill_max_system_ram ({limit} MiB)" in (killed.error or "")
    assert (killed.measured_time or 0) < 30  # killed, not ended by its own sleep
