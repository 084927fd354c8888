"""Helpers for whole-search tests: write a model and a config into a folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

HYPERMAX = str(Path(sys.executable).parent / "hypermax")

BRANIN_MODEL = """
import math

def branin(p):
    x, y = p["x"], p["y"]
    a, b, c = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi
    return (y - b * x ** 2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
"""

BRANIN_SPACE = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 10},
        "y": {"type": "number", "min": 0, "max": 15},
    },
}


@pytest.fixture
def write_search(tmp_path: Path):
    """Write model.py and search.json into tmp_path; returns the config path."""

    def write(model: str, config: dict[str, Any], name: str = "search.json") -> Path:
        (tmp_path / "model.py").write_text(model)
        path = tmp_path / name
        path.write_text(json.dumps(config, indent=2))
        return path

    return write


def write_search_files(
    folder: Path,
    hyperparameters: dict[str, Any],
    search: dict[str, Any],
    model: str | None = None,
    function: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """model.py (when given) and search.json in ``folder``; returns the config's path. The
    function defaults to ``model.train``."""
    if model is not None:
        (folder / "model.py").write_text(model)
    data: dict[str, Any] = {
        "hyperparameters": hyperparameters,
        "function": function or {"module": "model", "name": "train"},
        "search": search,
    }
    if metrics is not None:
        data["metrics"] = metrics
    config = folder / "search.json"
    config.write_text(json.dumps(data, indent=2))
    return config
