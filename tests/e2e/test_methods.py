"""Every search method through the whole runner: a search stopped halfway and resumed from
storage tries exactly what an uninterrupted one tries."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypermax.cli import main
from hypermax.optimizers import available_methods
from hypermax.storage import SQLStorage, sqlite_url
from tests.e2e.conftest import write_search_files

MODEL = """
def train(p):
    budget = p.get("$budget", 1)
    return (p["x"] - 0.3) ** 2 + (0.0 if p["kind"] == "b" else 0.5) + 1.0 / budget
"""
SPACE = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": 0, "max": 1},
        "kind": {"enum": ["a", "b"]},
    },
}
SETTINGS = {
    "bayesian": {"candidates": 100, "startup_trials": 5},
    "hyperband": {"max_budget": 9},
    "abh": {"max_budget": 9},
}


def run(folder: Path, method: str, iterations: int) -> list[dict]:
    folder.mkdir(exist_ok=True)
    search = {"name": "s", "method": method, "iterations": iterations, "seed": 3}
    if method in SETTINGS:
        search[method] = SETTINGS[method]
    config = write_search_files(folder, SPACE, search, MODEL)
    assert main([str(config), "--no-ui"]) == 0
    with SQLStorage(sqlite_url(folder / "hypermax_results" / "s"), "s", create=False) as storage:
        return [t.flat for t in storage.trials()]


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.slow
def test_stopping_and_resuming_changes_nothing(tmp_path: Path, method: str) -> None:
    whole = run(tmp_path / "whole", method, 14)
    run(tmp_path / "halves", method, 7)
    assert run(tmp_path / "halves", method, 14) == whole
    assert len(whole) == (10 if method == "grid" else 14)  # a grid of 5 x 2 points ends early


def test_the_model_receives_the_budget_and_the_original_abh_name_works(tmp_path: Path) -> None:
    flats = run(tmp_path, "abh", 13)
    budgets = [flat["$budget"] for flat in flats]
    assert budgets == [1] * 9 + [3] * 3 + [9]


def test_staged_search_runs_its_stages_then_stops(tmp_path: Path) -> None:
    model = (
        "def train(p):\n"
        "    assert '$stage' not in p  # the stage is the search's business\n"
        "    return (p['x'] - 0.3) ** 2 + (p['kind'] != 'b')\n"
    )
    stages = [
        {"parameters": ["kind"], "iterations": 4, "method": "random"},
        {"parameters": ["x"], "iterations": 6, "method": "tpe"},
    ]
    search = {"name": "s", "seed": 1, "stages": stages}
    config = write_search_files(tmp_path, SPACE, search, model)
    assert main([str(config), "--no-ui"]) == 0
    folder = tmp_path / "hypermax_results" / "s"
    with SQLStorage(sqlite_url(folder), "s", create=False) as storage:
        trials = storage.trials()
    assert [t.flat["$stage"] for t in trials] == [0] * 4 + [1] * 6
    assert all(t.status.name == "OK" for t in trials)
    assert len({t.flat["x"] for t in trials[:4]}) == 1  # x held at its default while kind varies


def test_hyperband_runs_warm_start_sets_at_the_full_budget(tmp_path: Path) -> None:
    search = {
        "name": "s",
        "method": "hyperband",
        "hyperband": {"max_budget": 9},
        "iterations": 3,
        "initial": [{"x": 0.3, "kind": "b"}],
    }
    config = write_search_files(tmp_path, SPACE, search, MODEL)
    assert main([str(config), "--no-ui"]) == 0
    with SQLStorage(sqlite_url(tmp_path / "hypermax_results" / "s"), "s", create=False) as db:
        trials = db.trials()
    assert trials[0].params == {"x": 0.3, "kind": "b", "$budget": 9}
    assert [t.flat["$budget"] for t in trials[1:]] == [1, 1]
