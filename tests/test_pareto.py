"""Multi-objective searches: the Pareto front, random scalarization, and its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypermax.cli import main
from hypermax.loss import MetricSpec
from hypermax.pareto import pareto_front
from hypermax.trial import Trial, TrialStatus
from tests.e2e.conftest import write_search_files

METRICS = {
    "accuracy": MetricSpec("accuracy", direction="increase"),
    "cost": MetricSpec("cost"),
}


def scored(number: int, accuracy: float, cost: float, status=TrialStatus.OK) -> Trial:
    return Trial(
        number, {}, {}, status, loss=0.0, metrics={"accuracy": accuracy, "cost": cost}, time=1.0
    )


def test_the_front_holds_exactly_the_undominated_trials() -> None:
    trials = [
        scored(1, 0.90, 5.0),
        scored(2, 0.80, 1.0),
        scored(3, 0.85, 6.0),  # worse than 1 on both
        scored(4, 0.95, 9.0),
        scored(5, 0.80, 1.0),  # equal to 2: neither dominates
        scored(6, 0.99, 0.1, TrialStatus.FAILED),  # failed trials are not candidates
    ]
    assert [t.number for t in pareto_front(trials, METRICS)] == [4, 1, 2, 5]


MODEL = """
def train(p):
    x, y = p["x"], p["y"]
    return {"error": x + y * y, "cost": 100 * (1 - x ** 0.5 + y * y)}
"""


def write(folder: Path, objective: str, metrics: dict) -> Path:
    space = {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": 0, "max": 1},
            "y": {"type": "number", "min": -1, "max": 1},
        },
    }
    search = {"name": "mo", "iterations": 40, "seed": 0, "objective": objective}
    return write_search_files(folder, space, search, MODEL, metrics=metrics)


def hypervolume(front: list[dict], reference: tuple[float, float] = (2.0, 200.0)) -> float:
    """Area dominated by the front up to ``reference``: larger is a better front."""
    points = sorted((e["metrics"]["error"], e["metrics"]["cost"]) for e in front)
    area, ceiling = 0.0, reference[1]
    for error, cost in points:
        if cost < ceiling:
            area += (reference[0] - error) * (ceiling - cost)
            ceiling = cost
    return area


def front_of(folder: Path, objective: str) -> list[dict]:
    folder.mkdir()
    config = write(folder, objective, {"error": {}, "cost": {}})
    assert main([str(config), "--no-ui"]) == 0
    out = folder / "front.json"
    results = str(folder / "hypermax_results" / "mo")
    assert main(["export", results, "--what", "pareto", "--format", "json", "-o", str(out)]) == 0
    return json.loads(out.read_text())


def test_a_pareto_search_covers_the_front_better_than_one_loss(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pareto = front_of(tmp_path / "pareto", "pareto")
    assert "Pareto front:" in capsys.readouterr().out
    saved = tmp_path / "pareto" / "hypermax_results" / "mo" / "pareto.json"
    assert json.loads(saved.read_text()) == pareto
    xs = [entry["params"]["x"] for entry in pareto]
    assert max(xs) - min(xs) > 0.5  # both ends of the trade-off, not one compromise
    # one summed loss is dominated by the larger metric and explores one end of the front
    assert hypervolume(pareto) > hypervolume(front_of(tmp_path / "scalar", "scalar")) + 10


def test_pareto_needs_two_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "pareto", {"error": {}})
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert "search.objective" in err and "two or more entries under 'metrics'" in err
