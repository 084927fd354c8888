"""Editing the space of a search and resuming: old trials are kept, those that still fit
inform the method, and new trials follow the new space."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypermax.cli import main
from hypermax.space import Space
from hypermax.storage import SQLStorage, sqlite_url

MODEL = "def train(p):\n    return (p['x'] - 0.7) ** 2 + p.get('y', 0.0)\n"


def write(folder: Path, properties: dict, method: str, iterations: int) -> Path:
    search: dict = {"name": "edit", "method": method, "iterations": iterations, "seed": 0}
    if method == "bayesian":
        search["bayesian"] = {"candidates": 100}  # keeps the test quick
    config = folder / "search.json"
    config.write_text(
        json.dumps(
            {
                "hyperparameters": {"type": "object", "properties": properties},
                "function": {"module": "model", "name": "train"},
                "search": search,
            }
        )
    )
    return config


@pytest.mark.parametrize("method", ["tpe", "evolution", "bayesian", "random"])
def test_new_bounds_and_a_new_parameter_apply_on_resume(tmp_path: Path, method: str) -> None:
    (tmp_path / "model.py").write_text(MODEL)
    before = {"x": {"type": "number", "min": 0, "max": 1}}
    assert main([str(write(tmp_path, before, method, 12))]) == 0
    after = {
        "x": {"type": "number", "min": 0.5, "max": 1},
        "y": {"type": "number", "min": 0, "max": 0.1},
    }
    assert main([str(write(tmp_path, after, method, 24))]) == 0
    folder = tmp_path / "hypermax_results" / "edit"
    with SQLStorage(sqlite_url(folder), "edit", create=False) as storage:
        trials = storage.trials()
    assert len(trials) == 24
    old, new = trials[:12], trials[12:]
    assert all(set(t.flat) == {"x"} for t in old)  # nothing recorded is lost
    space = Space.from_schema({"type": "object", "properties": after})
    assert all(space.fits(t.flat) for t in new)
    assert all(0.5 <= t.params["x"] <= 1 and 0 <= t.params["y"] <= 0.1 for t in new)


def test_fits_tells_points_of_the_space_from_others() -> None:
    space = Space.from_schema(
        {
            "type": "object",
            "properties": {
                "x": {"type": "number", "min": 0.5, "max": 1},
                "k": {"enum": ["a", "b"]},
            },
        }
    )
    assert space.fits({"x": 0.75, "k": "a"})
    assert not space.fits({"x": 0.25, "k": "a"})  # out of the new bounds
    assert not space.fits({"x": 0.75})  # a parameter added since
    assert not space.fits({"x": 0.75, "k": "c"})  # an enum value removed since
    assert not space.fits({"x": 0.75, "k": "a", "old": 1})  # a parameter removed since
