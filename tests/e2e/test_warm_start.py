"""Defaults and search.initial are tried first, once, and resuming does not repeat them."""

from __future__ import annotations

import pytest

import hypermax
from hypermax.cli import main

SPACE = {
    "type": "object",
    "properties": {
        "lr": {
            "type": "number",
            "min": 0.0001,
            "max": 1,
            "scaling": "logarithmic",
            "default": 0.01,
        },
        "layers": {"type": "integer", "min": 1, "max": 8, "default": 3},
        "act": {"enum": ["relu", "tanh"], "default": "tanh"},
    },
}


def loss(params: dict) -> float:
    return params["lr"] + params["layers"] / 10


def test_defaults_then_initial_sets_come_first(tmp_path) -> None:
    result = hypermax.optimize(
        loss,
        SPACE,
        iterations=6,
        seed=0,
        search={"initial": [{"lr": 0.5}, {"layers": 7, "act": "relu"}]},
    )
    first = [t.params for t in result.trials[:3]]
    assert first[0] == {"lr": 0.01, "layers": 3, "act": "tanh"}
    assert first[1] == {"lr": 0.5, "layers": 3, "act": "tanh"}  # missing values: the defaults
    assert first[2] == {"lr": 0.01, "layers": 7, "act": "relu"}
    assert len(result.trials) == 6


def test_warm_start_points_are_not_repeated_on_resume(tmp_path) -> None:
    options = {
        "name": "warm",
        "results_directory": tmp_path,
        "seed": 1,
        "search": {"initial": [{"lr": 0.5}]},
    }
    hypermax.optimize(loss, SPACE, iterations=1, **options)
    again = hypermax.optimize(loss, SPACE, iterations=5, **options)
    params = [t.params for t in again.trials]
    assert params.count({"lr": 0.01, "layers": 3, "act": "tanh"}) == 1
    assert params.count({"lr": 0.5, "layers": 3, "act": "tanh"}) == 1


@pytest.mark.parametrize(
    ("initial", "message"),
    [([{"lr": 5.0}], "out of range"), ([{"act": "gelu"}], "gelu"), (["nope"], "fit")],
)
def test_an_initial_set_that_does_not_fit_is_a_config_error(
    tmp_path, capsys, initial: list, message: str
) -> None:
    import json

    (tmp_path / "model.py").write_text("def train(p):\n    return 0.0\n")
    config = tmp_path / "search.json"
    config.write_text(
        json.dumps(
            {
                "hyperparameters": SPACE,
                "function": {"module": "model", "name": "train"},
                "search": {"initial": initial},
            }
        )
    )
    assert main(["validate", str(config)]) == 2
    error = capsys.readouterr().err
    assert "search.initial.0" in error and message in error
