"""Conditional and array spaces, and configs in the original Hypermax format, run whole."""

from __future__ import annotations

import json
import subprocess

from tests.e2e.conftest import HYPERMAX

CHECKING_MODEL = """
def train(p):
    model = p["model"]
    if model["kind"] == "svm":
        assert set(model) == {"kind", "C", "kernel"}, model
        assert model["kernel"] in ("rbf", "linear")
        loss = abs(model["C"] - 1.0)
    else:
        assert set(model) == {"kind", "trees", "depth"}, model
        assert isinstance(model["trees"], int) and 10 <= model["trees"] <= 200
        loss = 1.0 + 1.0 / model["depth"]
    layers = p["layers"]
    assert isinstance(layers, list) and 1 <= len(layers) <= 3, layers
    for layer in layers:
        assert set(layer) == {"units", "dropout"}, layer
        assert isinstance(layer["units"], int) and 8 <= layer["units"] <= 128
        assert 0.0 <= layer["dropout"] <= 0.5
    return loss + 0.01 * len(layers)
"""

CONDITIONAL_SPACE = {
    "type": "object",
    "properties": {
        "model": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "kind": {"constant": "svm"},
                        "C": {"type": "number", "min": 0.01, "max": 100, "scaling": "logarithmic"},
                        "kernel": {"type": "string", "enum": ["rbf", "linear"]},
                    },
                },
                {
                    "type": "object",
                    "properties": {
                        "kind": {"constant": "forest"},
                        "trees": {"type": "integer", "min": 10, "max": 200},
                        "depth": {"type": "number", "min": 2, "max": 12, "rounding": 1},
                    },
                },
            ]
        },
        "layers": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "units": {"type": "integer", "min": 8, "max": 128, "scaling": "logarithmic"},
                    "dropout": {"type": "number", "min": 0.0, "max": 0.5},
                },
            },
        },
    },
}


def test_conditional_and_array_space_runs_60_tpe_trials(write_search) -> None:
    config = write_search(
        CHECKING_MODEL,
        {
            "hyperparameters": CONDITIONAL_SPACE,
            "function": {"type": "python_function", "module": "model", "name": "train"},
            "search": {"name": "cond", "method": "tpe", "iterations": 60, "seed": 2},
        },
    )
    done = subprocess.run([HYPERMAX, str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    trials = json.loads(
        subprocess.run(
            [HYPERMAX, "export", str(config.parent / "hypermax_results/cond"), "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert len(trials) == 60
    assert {t["status"] for t in trials} == {"ok"}, [t["error"] for t in trials if t["error"]]
    kinds = {t["params"]["model"]["kind"] for t in trials}
    lengths = {len(t["params"]["layers"]) for t in trials}
    assert kinds == {"svm", "forest"}
    assert lengths == {1, 2, 3}
    best = json.loads((config.parent / "hypermax_results/cond/best.json").read_text())
    assert best["params"]["model"]["kind"] == "svm"


ORIGINAL_MODEL = """
def trainModel(params):
    loss = abs(params["neurons"] - 40) / 100 + params["layer_0"]["dropout"]
    if params["activation"] == "relu":
        loss -= 0.05
    return {"loss": loss, "time": 0.01}
"""

ORIGINAL_CONFIG = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "neurons": {
                "type": "number",
                "min": 10,
                "max": 1000,
                "scaling": "exponential",
                "rounding": 1,
            },
            "activation": {"type": "string", "enum": ["relu", "elu", "selu"]},
            "layer_0": {
                "type": "object",
                "properties": {"dropout": {"type": "number", "min": 0.0, "max": 0.5}},
            },
            "optimizer": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "enum": ["adam"]},
                            "lr": {
                                "type": "number",
                                "min": 0.0001,
                                "max": 0.1,
                                "scaling": "exponential",
                            },
                        },
                    },
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "enum": ["sgd"]},
                            "momentum": {"type": "number", "min": 0.0, "max": 0.99},
                        },
                    },
                ]
            },
        },
    },
    "function": {
        "type": "python_function",
        "module": "model",
        "name": "trainModel",
        "parallel": 2,
        "auto_kill_max_time": 120.0,
        "auto_kill_max_ram": 4096,
        "auto_kill_loss": 1.0,
    },
    "search": {"method": "tpe", "iterations": 20},
    "results": {"directory": "results", "graphs": True},
    "ui": {"enabled": False},
}


def test_original_hypermax_config_runs_unchanged(write_search) -> None:
    config = write_search(ORIGINAL_MODEL, ORIGINAL_CONFIG, name="original.json")
    done = subprocess.run([HYPERMAX, str(config)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    folder = config.parent / "results" / "original"
    rows = (folder / "trials.csv").read_text().splitlines()
    assert len(rows) == 21
    header = rows[0].split(",")
    assert header[:5] == ["trial", "status", "loss", "time", "error"]
    assert {"neurons", "activation", "layer_0.dropout", "optimizer.$branch"} <= set(header)
    best = json.loads((folder / "best.json").read_text())
    assert isinstance(best["params"]["neurons"], int)
    assert best["params"]["optimizer"]["name"] in ("adam", "sgd")


def test_peak_ram_as_a_metric_steers_the_search_to_lean_models() -> None:
    import hypermax

    def train(params: dict) -> float:
        block = bytearray(params["megabytes"] * 1024 * 1024)
        for index in range(0, len(block), 4096):
            block[index] = 1
        return 0.0 if params["megabytes"] > 100 else 0.1  # the big model is a bit "better"

    result = hypermax.optimize(
        train,
        {"type": "object", "properties": {"megabytes": {"enum": [10, 400]}}},
        metrics={"peak_ram": {"type": "ram", "max": 1024, "weight": 1.0}},
        method="random",
        iterations=6,
        seed=1,
    )
    big = [t for t in result.trials if t.params["megabytes"] == 400]
    assert big, "the seed must try the big model at least once"
    assert all(t.metrics["peak_ram"] > 400 for t in big)
    assert result.best_params == {"megabytes": 10}


def test_parallel_trials_overlap_and_differ() -> None:
    import itertools
    import time

    import hypermax

    def slow(params: dict) -> float:
        time.sleep(0.3)
        return params["x"]

    result = hypermax.optimize(
        slow,
        {"type": "object", "properties": {"x": {"type": "number", "min": 0, "max": 1}}},
        iterations=8,
        parallel=2,
        seed=0,
    )
    trials = result.trials
    assert len(trials) == 8
    overlapping = [
        (a.number, b.number) for a, b in itertools.pairwise(trials) if b.started_at < a.finished_at
    ]
    assert overlapping, "no two trials ran at the same time"
    assert len({t.params["x"] for t in trials}) == 8
