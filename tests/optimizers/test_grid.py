"""Grid search enumerates exactly the expected points, each once, and refuses huge grids."""

from __future__ import annotations

import math

import pytest

import hypermax
from hypermax.errors import ConfigError
from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus

SPACE = {
    "type": "object",
    "properties": {
        "kind": {"enum": ["a", "b"]},
        "n": {"type": "integer", "min": 1, "max": 3},
        "lr": {"type": "number", "min": 0.001, "max": 1, "scaling": "logarithmic"},
        "model": {
            "anyOf": [
                {"type": "object", "properties": {"c": {"type": "number", "min": 0, "max": 1}}},
                {"constant": "off"},
            ]
        },
    },
}


def test_the_grid_holds_exactly_the_expected_points() -> None:
    space = Space.from_schema(SPACE)
    grid = create_optimizer("grid", space, settings={"resolution": 3})
    points = [space.nested(flat) for flat in grid.points()]
    expected = [
        {"kind": kind, "n": n, "lr": lr, "model": model}
        for kind in ("a", "b")
        for n in (1, 2, 3)
        for lr in (0.001, 0.0316, 1.0)
        for model in ({"c": 0.0}, {"c": 0.5}, {"c": 1.0}, "off")
    ]
    assert len(points) == grid.size == 72
    for point, want in zip(points, expected, strict=True):
        assert point["kind"] == want["kind"] and point["n"] == want["n"]
        assert point["lr"] == pytest.approx(want["lr"], rel=1e-2)
        if isinstance(want["model"], dict):
            assert point["model"] == pytest.approx(want["model"])
        else:
            assert point["model"] == want["model"]
    assert all(isinstance(point["n"], int) for point in points)


def test_per_parameter_resolution() -> None:
    space = Space.from_schema(SPACE)
    grid = create_optimizer("grid", space, settings={"resolution": 3, "resolutions": {"lr": 5}})
    assert grid.size == 2 * 3 * 5 * 4


def test_a_grid_larger_than_the_limit_is_refused() -> None:
    space = Space.from_schema(SPACE)
    with pytest.raises(ConfigError) as caught:
        create_optimizer("grid", space, settings={"resolution": 50, "max_points": 1000})
    assert caught.value.issues[0].path == "search.grid"
    assert "max_points" in caught.value.issues[0].message


def test_suggestions_skip_what_the_history_holds() -> None:
    space = Space.from_schema(SPACE)
    grid = create_optimizer("grid", space, settings={"resolution": 3})
    first = grid.suggest([], 5)
    history = [
        Trial(i + 1, flat, space.nested(flat), TrialStatus.OK, loss=1.0)
        for i, flat in enumerate(first)
    ]
    following = create_optimizer("grid", space, settings={"resolution": 3}).suggest(history, 5)
    assert following == list(grid.points())[5:10]


def test_a_grid_search_tries_every_point_once_then_stops() -> None:
    def loss(params: dict) -> float:
        c = params["model"]["c"] if isinstance(params["model"], dict) else 2.0
        return (params["n"] - 2) ** 2 + abs(math.log10(params["lr"])) + c

    result = hypermax.optimize(
        loss, SPACE, method="grid", iterations=500, search={"grid": {"resolution": 3}}
    )
    assert len(result.trials) == 72
    assert len({repr(sorted(t.flat.items())) for t in result.trials}) == 72
    assert result.best_params["n"] == 2 and result.best_params["lr"] == pytest.approx(1.0)
