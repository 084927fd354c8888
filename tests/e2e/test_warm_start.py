"""Defaults and search.initial are tried first, once, and resuming does not repeat them."""

from __future__ import annotations

import json

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


def write_config(folder, search: dict):
    """A search.json (and a trivial model.py) in ``folder`` with this ``search`` section."""
    (folder / "model.py").write_text("def train(p):\n    return 0.0\n")
    config = folder / "search.json"
    config.write_text(
        json.dumps(
            {
                "hyperparameters": SPACE,
                "function": {"module": "model", "name": "train"},
                "search": search,
            }
        )
    )
    return config


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
    [([{"lr": 5.0}], "lr: 5.0 is outside"), ([{"act": "gelu"}], "gelu"), (["nope"], "fit")],
)
def test_an_initial_set_that_does_not_fit_is_a_config_error(
    tmp_path, capsys, initial: list, message: str
) -> None:
    config = write_config(tmp_path, {"initial": initial})
    assert main(["validate", str(config)]) == 2
    error = capsys.readouterr().err
    assert "search.initial.0" in error and message in error


def test_an_earlier_search_informs_a_new_one_without_running_again(tmp_path) -> None:
    def bowl(params: dict) -> float:
        return (params["lr"] - 0.3) ** 2 + (params["layers"] - 5) ** 2 / 50

    space = {
        "type": "object",
        "properties": {
            "lr": {"type": "number", "min": 0.0001, "max": 1},
            "layers": {"type": "integer", "min": 1, "max": 8},
        },
    }
    common = {"results_directory": tmp_path, "seed": 3, "method": "tpe"}
    earlier = hypermax.optimize(bowl, space, iterations=30, name="earlier", **common)
    informed = hypermax.optimize(
        bowl,
        space,
        iterations=3,
        name="informed",
        search={"seed_from": str(tmp_path / "earlier")},
        **common,
    )
    fresh = hypermax.optimize(bowl, space, iterations=3, name="fresh", **common)
    assert len(informed.trials) == 3  # the earlier trials informed it; none ran again
    assert [t.flat for t in informed.trials] != [t.flat for t in fresh.trials]
    # with 30 trials behind it TPE models the bowl from the first suggestion on
    assert informed.best_loss < 4 * earlier.best_loss + 0.01


def test_seed_from_a_folder_that_is_not_a_search_is_a_config_error(tmp_path, capsys) -> None:
    config = write_config(tmp_path, {"seed_from": "nowhere"})
    assert main(["validate", str(config)]) == 2
    assert "search.seed_from" in capsys.readouterr().err


def test_sample_shows_the_warm_start_sets_a_run_would_try_first(tmp_path, capsys) -> None:
    config = write_config(tmp_path, {"initial": [{"lr": 0.5}], "seed": 0})
    assert main(["sample", str(config), "-n", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"lr": 0.01, "layers": 3, "act": "tanh"}
    assert lines[1] == {"lr": 0.5, "layers": 3, "act": "tanh"}
    assert len(lines) == 3
