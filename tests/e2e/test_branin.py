"""A whole TPE search finds Branin's optimum region (global minimum 0.398)."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

import hypermax
from tests.e2e.conftest import BRANIN_MODEL, BRANIN_SPACE, HYPERMAX

SEEDS = [0, 1, 2, 3, 4]


def branin(params: dict) -> float:
    namespace: dict = {}
    exec(BRANIN_MODEL, namespace)
    return namespace["branin"](params)


@pytest.mark.parametrize("seed", SEEDS)
def test_optimize_finds_the_branin_optimum(seed: int) -> None:
    result = hypermax.optimize(branin, BRANIN_SPACE, method="tpe", iterations=100, seed=seed)
    assert len(result.trials) == 100
    assert result.best_loss < 1.0
    assert set(result.best_params) == {"x", "y"}
    assert branin(result.best_params) == pytest.approx(result.best_loss)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.slow
def test_cli_finds_the_branin_optimum(write_search, seed: int) -> None:
    config = write_search(
        BRANIN_MODEL,
        {
            "hyperparameters": BRANIN_SPACE,
            "function": {"type": "python_function", "module": "model", "name": "branin"},
            "search": {"name": "branin", "method": "tpe", "iterations": 100, "seed": seed},
        },
    )
    done = subprocess.run([HYPERMAX, str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((config.parent / "hypermax_results/branin/trials.csv").open()))
    assert len(rows) == 100
    assert min(float(row["loss"]) for row in rows) < 1.0
    assert "Best trial" in done.stdout


@pytest.mark.slow
def test_same_seed_same_search() -> None:
    first = hypermax.optimize(branin, BRANIN_SPACE, iterations=25, seed=7)
    second = hypermax.optimize(branin, BRANIN_SPACE, iterations=25, seed=7)
    assert [t.flat for t in first.trials] == [t.flat for t in second.trials]


def test_named_search_resumes(tmp_path: Path) -> None:
    options = {"name": "lib", "results_directory": tmp_path, "seed": 3}
    first = hypermax.optimize(branin, BRANIN_SPACE, iterations=10, **options)
    again = hypermax.optimize(branin, BRANIN_SPACE, iterations=15, **options)
    assert len(again.trials) == 15
    assert [t.flat for t in again.trials[:10]] == [t.flat for t in first.trials]
    assert (tmp_path / "lib" / "trials.csv").exists()
