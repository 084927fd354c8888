"""Malformed configs: each is refused with exit code 2, the config path and a useful message.

Every case writes its files into a fresh folder and runs ``hypermax validate`` in-process. The
cases start from one valid config (``BASE``) and break exactly one thing, so the reported
problem can only come from that change.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hypermax.cli import main

MODEL = "hm_malformed_model"
MODEL_SOURCE = "def train(params):\n    return 0.0\n"

BASE: dict[str, Any] = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "lr": {"type": "number", "min": 0.001, "max": 1.0, "scaling": "logarithmic"},
            "kind": {"type": "string", "enum": ["a", "b"]},
        },
    },
    "function": {"type": "python_function", "module": MODEL, "name": "train"},
    "search": {"name": "malformed", "method": "tpe", "iterations": 5},
}


@dataclass
class Case:
    """One malformed config: what to write, and what the error must say."""

    id: str
    config: str | dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    path: str = ""
    message: str = ""
    filename: str = "search.json"


def with_params(**specs: Any) -> dict[str, Any]:
    """BASE with these parameters added to (or replacing) the top-level properties."""
    config = copy.deepcopy(BASE)
    config["hyperparameters"]["properties"].update(specs)
    return config


def with_section(section: str, **values: Any) -> dict[str, Any]:
    """BASE with these keys set in one top-level section (a value of None removes the key)."""
    config = copy.deepcopy(BASE)
    target = config.setdefault(section, {})
    for key, value in values.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return config


def without(section: str) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    del config[section]
    return config


def with_top(**values: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    config.update(values)
    return config


P = "hyperparameters.properties"


def nested_objects(levels: int) -> dict[str, Any]:
    """A space whose one number sits ``levels`` objects below the top."""
    node: dict[str, Any] = {"type": "number", "min": 0, "max": 1}
    for _ in range(levels):
        node = {"type": "object", "properties": {"a": node}}
    return node


def nested_lists(levels: int) -> list[Any]:
    node: list[Any] = []
    for _ in range(levels):
        node = [node]
    return node


def billion_laughs() -> str:
    """Nine levels of ten aliases each: 10**9 values once expanded, 100 lines on disk."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join([*lines, "hyperparameters: *l9", ""])


def ref_laughs() -> dict[str, Any]:
    """The same through ``$ref``: each definition refers ten times to the next."""
    pieces: dict[str, Any] = {"l9": ["lol"] * 10}
    for i in range(9):
        pieces[f"l{i}"] = [{"$ref": f"#/definitions/l{i + 1}"}] * 10
    return pieces


CASES = [
    # --- syntax and shape -------------------------------------------------------------------
    Case(
        "json-syntax-error",
        '{\n  "hyperparameters": {"type": "object",}\n}\n',
        path="(config)",
        message="invalid JSON at line 2 column",
    ),
    Case(
        "json-truncated",
        '{"hyperparameters": {',
        path="(config)",
        message="invalid JSON at line 1 column",
    ),
    Case(
        "yaml-syntax-error",
        "hyperparameters:\n  type: object\n   properties: [unclosed\n",
        path="(config)",
        message="invalid YAML at line",
        filename="search.yaml",
    ),
    Case("empty-json-file", "", path="(config)", message="invalid JSON at line 1 column 1"),
    Case(
        "empty-yaml-file",
        "# nothing here\n",
        path="(config)",
        message="must be an object",
        filename="search.yaml",
    ),
    Case("top-level-list", "[1, 2, 3]", path="(config)", message="must be an object"),
    Case("top-level-string", '"hello"', path="(config)", message="must be an object"),
    Case(
        "yaml-top-level-scalar",
        "just a string\n",
        path="(config)",
        message="must be an object",
        filename="search.yml",
    ),
    Case(
        "unknown-top-level-key",
        {
            **{k: v for k, v in BASE.items() if k != "hyperparameters"},
            "hyperparameter": BASE["hyperparameters"],
        },
        path="hyperparameter",
        message="did you mean 'hyperparameters'?",
    ),
    Case(
        "missing-hyperparameters",
        without("hyperparameters"),
        path="(config)",
        message="missing required key 'hyperparameters'",
    ),
    # --- numbers ----------------------------------------------------------------------------
    Case(
        "min-above-max",
        with_params(depth={"type": "integer", "min": 10, "max": 2}),
        path=f"{P}.depth",
        message="min (10) must be below max (2)",
    ),
    Case(
        "min-equals-max",
        with_params(depth={"type": "number", "min": 3, "max": 3}),
        path=f"{P}.depth",
        message="min (3) must be below max (3)",
    ),
    Case(
        "unknown-scaling",
        with_params(depth={"type": "number", "min": 1, "max": 3, "scaling": "quadratic"}),
        path=f"{P}.depth.scaling",
        message="'quadratic' is not allowed",
    ),
    Case(
        "unknown-mode",
        with_params(depth={"type": "number", "min": 1, "max": 3, "mode": "gaussian"}),
        path=f"{P}.depth.mode",
        message="'gaussian' is not allowed",
    ),
    Case(
        "misspelt-parameter-key",
        with_params(depth={"type": "number", "min": 1, "max": 3, "scalling": "linear"}),
        path=f"{P}.depth.scalling",
        message="did you mean 'scaling'?",
    ),
    Case(
        "number-without-min-max",
        with_params(depth={"type": "number"}),
        path=f"{P}.depth",
        message="needs min and max",
    ),
    Case(
        "number-without-max",
        with_params(depth={"type": "number", "min": 1}),
        path=f"{P}.depth",
        message="needs max",
    ),
    Case(
        "min-not-a-number",
        with_params(depth={"type": "number", "min": "1", "max": 3}),
        path=f"{P}.depth.min",
        message="must be of type number",
    ),
    Case(
        "log-scaling-min-zero",
        with_params(depth={"type": "number", "min": 0, "max": 3, "scaling": "logarithmic"}),
        path=f"{P}.depth.min",
        message="logarithmic scaling needs min above 0",
    ),
    Case(
        "exponential-scaling-negative-min",
        with_params(depth={"type": "number", "min": -1, "max": 3, "scaling": "exponential"}),
        path=f"{P}.depth.min",
        message="logarithmic scaling needs min above 0",
    ),
    Case(
        "normal-without-mean-stddev",
        with_params(depth={"type": "number", "mode": "normal"}),
        path=f"{P}.depth",
        message="mode 'normal' needs 'mean' and 'stddev'",
    ),
    Case(
        "normal-stddev-zero",
        with_params(depth={"type": "number", "mode": "normal", "mean": 0, "stddev": 0}),
        path=f"{P}.depth.stddev",
        message="must be above 0",
    ),
    Case(
        "negative-rounding",
        with_params(depth={"type": "number", "min": 1, "max": 3, "rounding": -1}),
        path=f"{P}.depth.rounding",
        message="minimum of 0",
    ),
    Case(
        "default-outside-range",
        with_params(depth={"type": "number", "min": 1, "max": 3, "default": 5}),
        path=f"{P}.depth.default",
        message="outside [1, 3]",
    ),
    # --- types, enums, branches, arrays -----------------------------------------------------
    Case(
        "unknown-type",
        with_params(depth={"type": "float", "min": 1, "max": 3}),
        path=f"{P}.depth.type",
        message="'float' is not allowed",
    ),
    Case(
        "string-without-enum",
        with_params(optimizer={"type": "string"}),
        path=f"{P}.optimizer",
        message="needs an 'enum'",
    ),
    Case(
        "enum-empty",
        with_params(optimizer={"type": "string", "enum": []}),
        path=f"{P}.optimizer",
        message="'enum' must be a non-empty list",
    ),
    Case(
        "enum-not-a-list",
        with_params(optimizer={"type": "string", "enum": "adam"}),
        path=f"{P}.optimizer.enum",
        message="must be of type array",
    ),
    Case(
        "enum-default-not-listed",
        with_params(optimizer={"enum": ["adam", "sgd"], "default": "rmsprop"}),
        path=f"{P}.optimizer",
        message="default 'rmsprop' is not one of the enum values",
    ),
    Case(
        "no-type-at-all",
        with_params(depth={"min": 1, "max": 3}),
        path=f"{P}.depth",
        message="cannot tell what this parameter is",
    ),
    Case(
        "anyOf-empty",
        with_params(model={"anyOf": []}),
        path=f"{P}.model",
        message="'anyOf' must be a non-empty list",
    ),
    Case(
        "oneOf-branch-broken",
        with_params(
            model={"oneOf": [{"type": "object", "properties": {"c": {"type": "number"}}}]}
        ),
        path=f"{P}.model.oneOf.0.properties.c",
        message="needs min and max",
    ),
    Case(
        "array-minItems-above-maxItems",
        with_params(
            layers={
                "type": "array",
                "minItems": 3,
                "maxItems": 2,
                "items": {"type": "integer", "min": 1, "max": 8},
            }
        ),
        path=f"{P}.layers",
        message="minItems (3) must not exceed maxItems (2)",
    ),
    Case(
        "array-without-items",
        with_params(layers={"type": "array", "minItems": 1, "maxItems": 2}),
        path=f"{P}.layers",
        message="needs 'items'",
    ),
    Case(
        "parameter-name-with-dot",
        with_params(**{"model.c": {"type": "number", "min": 1, "max": 3}}),
        path=f"{P}.model.c",
        message="may not contain '.'",
    ),
    Case(
        "parameter-name-with-dollar",
        with_params(**{"$branch": {"type": "number", "min": 1, "max": 3}}),
        path=f"{P}.$branch",
        message="may not contain '.' or start with '$'",
    ),
    # --- $ref -------------------------------------------------------------------------------
    Case(
        "ref-to-nothing",
        with_params(depth={"$ref": "#/definitions/nope"}),
        path=f"{P}.depth.$ref",
        message="cannot resolve '#/definitions/nope'",
    ),
    Case(
        "ref-circular",
        {
            **with_params(depth={"$ref": "#/definitions/a"}),
            "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
        },
        path=f"{P}.depth.$ref",
        message="circular reference",
    ),
    Case(
        "ref-to-missing-file",
        with_params(depth={"$ref": "shared.json#/depth"}),
        path=f"{P}.depth.$ref",
        message="cannot load 'shared.json#/depth'",
    ),
    # --- function ---------------------------------------------------------------------------
    Case(
        "missing-function",
        without("function"),
        path="function",
        message="missing: say how to run the model",
    ),
    Case(
        "function-misspelt-key",
        with_section("function", module=None, modul=MODEL),
        path="function.modul",
        message="did you mean 'module'?",
    ),
    Case(
        "function-without-module-or-src",
        with_section("function", module=None),
        path="function",
        message="give 'module' (importable name) or 'src' (file)",
    ),
    Case(
        "function-with-module-and-src",
        with_section("function", src=f"{MODEL}.py"),
        path="function",
        message="either 'module' or 'src', not both",
    ),
    Case(
        "function-without-name",
        with_section("function", name=None),
        path="function.name",
        message="missing: the name of the function",
    ),
    Case(
        "function-unknown-type",
        with_section("function", type="shell"),
        path="function.type",
        message="'shell' is not allowed",
    ),
    Case(
        "function-auto-kill-time-zero",
        with_section("function", auto_kill_max_time=0),
        path="function.auto_kill_max_time",
        message="less than or equal to the minimum of 0",
    ),
    Case(
        "module-not-found",
        with_section("function", module="hm_no_such_module_anywhere"),
        path="function.module",
        message="cannot import module 'hm_no_such_module_anywhere'",
    ),
    Case(
        "module-not-found-says-where-it-looked",
        with_section("function", module="hm_no_such_module_anywhere"),
        path="function.module",
        message="(the config's folder), ",  # then the current directory and the Python path
    ),
    Case(
        "module-found-elsewhere-says-where",  # the original's cifar10.json met Python's 'test'
        with_section("function", module="json", name="train"),
        path="function.name",
        message="module 'json' (found at ",
    ),
    Case(
        "module-file-not-found",
        with_section("function", module="hm_no_such_model.py"),
        path="function.module",
        message="hm_no_such_model.py' does not exist",
    ),
    Case(
        "module-import-raises",
        with_section("function", module="hm_broken_model"),
        files={"hm_broken_model.py": "raise RuntimeError('no GPU here')\n"},
        path="function.module",
        message="RuntimeError: no GPU here",
    ),
    Case(
        "module-syntax-error",
        with_section("function", module="hm_syntax_model"),
        files={"hm_syntax_model.py": "def train(params)\n    return 0.0\n"},
        path="function.module",
        message="SyntaxError",
    ),
    Case(
        "module-without-function",
        with_section("function", module="hm_other_model", name="train"),
        files={"hm_other_model.py": "def fit(p):\n    return 1.0\n\ndef predict(p):\n    pass\n"},
        path="function.name",
        message="has no function 'train'; it has: fit, predict",
    ),
    Case(
        "src-does-not-exist",
        with_section("function", module=None, src="missing_model.py"),
        path="function.src",
        message="missing_model.py' does not exist",
    ),
    Case(
        "src-import-raises",
        with_section("function", module=None, src="hm_broken_src.py"),
        files={"hm_broken_src.py": "1 / 0\n"},
        path="function.src",
        message="ZeroDivisionError",
    ),
    # --- search -----------------------------------------------------------------------------
    Case(
        "search-misspelt-key",
        with_section("search", iterations=None, iteration=5),
        path="search.iteration",
        message="did you mean 'iterations'?",
    ),
    Case(
        "iterations-zero",
        with_section("search", iterations=0),
        path="search.iterations",
        message="less than the minimum of 1",
    ),
    Case(
        "iterations-not-an-integer",
        with_section("search", iterations=12.5),
        path="search.iterations",
        message="must be of type integer",
    ),
    Case(
        "iterations-a-string",
        with_section("search", iterations="100"),
        path="search.iterations",
        message="must be of type integer",
    ),
    Case(
        "unknown-method",
        with_section("search", method="tpee"),
        path="search.method",
        message="unknown method 'tpee'; did you mean 'tpe'?",
    ),
    Case(
        "parallel-zero",
        with_section("search", parallel=0),
        path="search.parallel",
        message="less than the minimum of 1",
    ),
    Case(
        "function-parallel-zero",
        with_section("function", parallel=0),
        path="function.parallel",
        message="less than the minimum of 1",
    ),
    Case(
        "search-name-with-slash",
        with_section("search", name="runs/one"),
        path="search.name",
        message="'runs/one'",
    ),
    Case(
        "search-name-dot-dot",
        with_section("search", name=".."),
        path="search.name",
        message="'..'",
    ),
    Case(
        "search-name-dot",
        with_section("search", name="."),
        path="search.name",
        message="'.'",
    ),
    Case(
        "search-name-empty",
        with_section("search", name=""),
        path="search.name",
        message="should be non-empty",
    ),
    Case(
        "tpe-gamma-out-of-range",
        with_section("search", tpe={"gamma": 1.5}),
        path="search.tpe.gamma",
        message="maximum of 1",
    ),
    # --- metrics ----------------------------------------------------------------------------
    Case(
        "metric-min-above-max",
        with_top(metrics={"auc": {"min": 1.0, "max": 0.5, "direction": "increase"}}),
        path="metrics.auc",
        message="min (1.0) must be below max (0.5)",
    ),
    Case(
        "metric-unknown-direction",
        with_top(metrics={"auc": {"min": 0.5, "max": 1.0, "direction": "up"}}),
        path="metrics.auc.direction",
        message="'up' is not allowed; use one of 'decrease', 'increase'",
    ),
    Case(
        "metric-misspelt-key",
        with_top(metrics={"auc": {"min": 0.5, "max": 1.0, "directon": "increase"}}),
        path="metrics.auc.directon",
        message="did you mean 'direction'?",
    ),
    Case(
        "metric-log-scaling-min-zero",
        with_top(metrics={"loss": {"min": 0, "max": 1.0, "scaling": "exponential"}}),
        path="metrics.loss.min",
        message="logarithmic scaling needs min above 0",
    ),
    Case(
        "time-target-not-below-max",
        with_top(metrics={"time": {"type": "time", "target_time": 10, "max_time": 5}}),
        path="metrics.time",
        message="target_time (10) must be below max_time (5)",
    ),
    Case(
        "time-target-equals-max",
        with_top(metrics={"time": {"type": "time", "target_time": 5, "max_time": 5}}),
        path="metrics.time",
        message="target_time (5) must be below max_time (5)",
    ),
    Case(
        "time-target-without-max",
        with_top(metrics={"time": {"type": "time", "target_time": 5}}),
        path="metrics.time",
        message="give both target_time and max_time",
    ),
    # no metric setting may count for nothing
    Case(
        "penalty-key-on-an-ordinary-metric",
        with_top(metrics={"auc": {"min": 0.5, "max": 1.0, "target_time": 5, "max_time": 9}}),
        path="metrics.auc.target_time",
        message="target_time shapes the penalty of a time metric; this metric is of type 'metric'",
    ),
    Case(
        "penalty-key-on-a-memory-metric",
        with_top(metrics={"peak": {"type": "ram", "max": 512, "penalty_at_max": 0.1}}),
        path="metrics.peak.penalty_at_max",
        message='make the metric "type": "time"',
    ),
    Case(
        "penalty-at-max-without-target-time",
        with_top(metrics={"time": {"min": 0.0, "penalty_at_max": 0.1}}),
        path="metrics.time.penalty_at_max",
        message="a time penalty needs target_time and max_time too",
    ),
    Case(
        "bounds-beside-a-time-penalty",
        with_top(metrics={"time": {"target_time": 5, "max_time": 10, "max": 60}}),
        path="metrics.time.max",
        message="applies to a time metric without target_time",
    ),
    Case(
        "weight-beside-a-time-penalty",
        with_top(metrics={"slow": {"type": "time", "target_time": 5, "max_time": 9, "weight": 2}}),
        path="metrics.slow.weight",
        message="with target_time the time adds the penalty",
    ),
    # --- keys of the original Hypermax ------------------------------------------------------
    Case(
        "hypermax-results-misspelt-key",
        with_top(hypermax_results={"name": "m", "autor": "me"}),
        path="hypermax_results.autor",
        message="unknown key 'autor'; did you mean 'author'?",
    ),
    Case(
        "hypermax-results-upload-frequency-zero",
        with_top(hypermax_results={"name": "m", "upload_frequency": 0}),
        path="hypermax_results.upload_frequency",
        message="0 is less than the minimum of 1",
    ),
    Case(
        "hypermax-results-metrics-not-strings",
        with_top(hypermax_results={"metrics": ["accuracy", 3]}),
        path="hypermax_results.metrics.1",
        message="must be of type string",
    ),
    Case(
        "hypermax-results-not-an-object",
        with_top(hypermax_results="cifar"),
        path="hypermax_results",
        message="must be of type object",
    ),
    Case(
        "kill-loss-differs-from-auto-kill-loss",
        with_section("function", kill_loss=1.0, auto_kill_loss=2.0),
        path="function.kill_loss",
        message="1.0 differs from auto_kill_loss (2.0); kill_loss is another name for it",
    ),
    Case(
        "budgets-beside-another-method",
        with_section("search", min_budget=1, max_budget=30),
        path="search.min_budget",
        message="min_budget is a setting of the hyperband method; search.method is 'tpe'",
    ),
    Case(
        "eta-beside-the-default-method",
        with_section("search", method=None, eta=3),
        path="search.eta",
        message="search.method is 'auto' (the default), which has no budgets",
    ),
    Case(
        "budget-beside-and-inside-abh",
        with_section("search", method="abh", max_budget=30, abh={"max_budget": 27}),
        path="search.max_budget",
        message="given both here and as search.abh.max_budget: give it once",
    ),
    Case(
        "budget-beside-and-inside-hyperband",
        with_section("search", method="abh", eta=3, hyperband={"eta": 3}),
        path="search.eta",
        message="given both here and as search.hyperband.eta",
    ),
    Case(
        "abh-and-hyperband-sections",
        with_section("search", method="hyperband", hyperband={"eta": 3}, abh={"eta": 2}),
        path="search.abh",
        message="given both as search.abh and as search.hyperband",
    ),
    Case(
        "eta-one",
        with_section("search", method="abh", eta=1),
        path="search.eta",
        message="1 is less than or equal to the minimum of 1",
    ),
    Case(
        "eta-one-in-abh",
        with_section("search", method="abh", abh={"eta": 0.5}),
        path="search.abh.eta",
        message="less than or equal to the minimum of 1",
    ),
    Case(
        "budgets-the-wrong-way-round-beside-method",
        with_section("search", method="abh", min_budget=30, max_budget=3),
        path="search",
        message="hyperband needs 0 < min_budget <= max_budget",
    ),
    Case(
        "eta-too-small-for-whole-budgets",
        with_section("search", method="abh", abh={"max_budget": 3, "eta": 1.2}),
        path="search.abh",
        message="gives two rounds the same budget (1, 1, 1, 2, 2, 2, 3)",
    ),
    # --- results / ui -----------------------------------------------------------------------
    Case(
        "results-misspelt-key",
        with_top(results={"dir": "out"}),
        path="results.dir",
        message="unknown key 'dir'",
    ),
    Case(
        "ui-enabled-not-boolean",
        with_top(ui={"enabled": "yes"}),
        path="ui.enabled",
        message="must be of type boolean",
    ),
    Case(
        "log-normal-mean-not-positive",
        with_params(
            w={
                "type": "number",
                "mode": "normal",
                "mean": 0,
                "stddev": 1,
                "scaling": "logarithmic",
            }
        ),
        path="hyperparameters.properties.w.mean",
        message="logarithmic scaling needs mean above 0",
    ),
    Case(
        "hyperband-budgets-reversed",
        with_section("search", method="hyperband", hyperband={"min_budget": 9, "max_budget": 3}),
        path="search.hyperband",
        message="min_budget <= max_budget",
    ),
    Case(
        "grid-too-large",
        with_section("search", method="grid", grid={"resolution": 100, "max_points": 50}),
        path="search.grid",
        message="max_points",
    ),
    Case(
        "stage-parameter-misspelt",
        with_section("search", stages=[{"parameters": ["lrr"], "iterations": 3}]),
        path="search.stages.0.parameters.0",
        message="did you mean 'lr'?",
    ),
    Case(
        "stage-parameter-inside-a-branch",
        with_params(
            model={
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {"depth": {"type": "integer", "min": 1, "max": 3}},
                    },
                    {"constant": "linear"},
                ]
            }
        )
        | {"search": {"stages": [{"parameters": ["model.depth"], "iterations": 3}]}},
        path="search.stages.0.parameters.0",
        message="'model.depth' is not a parameter that can be tuned on its own",
    ),
    Case(
        "stage-method-unknown",
        with_section("search", stages=[{"parameters": ["lr"], "iterations": 3, "method": "tpee"}]),
        path="search.stages.0.method",
        message="did you mean 'tpe'?",
    ),
    Case(
        "stage-without-iterations",
        with_section("search", stages=[{"parameters": ["lr"]}]),
        path="search.stages.0",
        message="missing required key 'iterations'",
    ),
    Case(
        "incremental-group-unknown",
        with_section("search", incremental={"groups": [["lr"], ["kinds"]]}),
        path="search.incremental.groups.1.0",
        message="did you mean 'kind'?",
    ),
    Case(
        "executable-without-command",
        with_section("function", type="executable", module=None, name=None),
        path="function.command",
        message="missing: the program to run",
    ),
    Case(
        "executable-program-not-found",
        with_section(
            "function", type="executable", command=["no-such-program-hm"], module=None, name=None
        ),
        path="function.command",
        message="cannot find the program",
    ),
    # --- hostile or odd files (issue 10): a clear message, never a traceback ----------------
    Case(
        "empty-space",
        with_top(hyperparameters={"type": "object", "properties": {}}),
        path="hyperparameters.properties",
        message="the space has no parameter to search",
    ),
    Case(
        "space-of-constants-only",
        with_top(hyperparameters={"type": "object", "properties": {"c": {"constant": 1}}}),
        path="hyperparameters.properties",
        message="the space has no parameter to search",
    ),
    Case(
        "max-infinity",
        with_params(lr={"type": "number", "min": 0.001, "max": float("inf")}),
        path=f"{P}.lr.max",
        message="must be a finite number, got inf",
    ),
    Case(
        "min-nan",
        with_params(lr={"type": "number", "min": float("nan"), "max": 1.0}),
        path=f"{P}.lr.min",
        message="must be a finite number, got nan",
    ),
    Case(
        "metric-max-infinity",
        with_top(metrics={"auc": {"min": 0, "max": float("inf"), "direction": "increase"}}),
        path="metrics.auc.max",
        message="must be a finite number",
    ),
    Case(
        "yaml-infinity",
        "hyperparameters:\n  properties:\n    x: {type: number, min: 0, max: .inf}\n"
        f"function: {{module: {MODEL}, name: train}}\n",
        path=f"{P}.x.max",
        message="must be a finite number, got inf",
        filename="search.yaml",
    ),
    Case(
        "range-too-wide",
        with_params(lr={"type": "number", "min": -1e308, "max": 1e308}),
        path=f"{P}.lr",
        message="too wide to draw numbers from",
    ),
    Case(
        "randint-beyond-64-bits",
        with_params(depth={"type": "integer", "mode": "randint", "min": 0, "max": 2**63}),
        path=f"{P}.depth",
        message="mode 'randint' needs min and max between -2**62 and 2**62",
    ),
    Case(
        "integer-bound-beyond-float",
        with_params(depth={"type": "integer", "min": 0, "max": 10**400}),
        path=f"{P}.depth.max",
        message="must be a finite number",
    ),
    Case(
        "space-nested-too-deep",
        with_top(hyperparameters=nested_objects(101)),
        path=".a.properties.a",
        message="parameters nested more than 100 levels deep",
    ),
    Case(
        "document-nested-too-deep",
        "[" * 100_000 + "]" * 100_000,
        path="(config)",
        message="nested more than 250 levels deep",
    ),
    Case(
        "yaml-nested-too-deep",
        "hyperparameters: " + "[" * 100_000 + "]" * 100_000 + "\n",
        path="(config)",
        message="nested more than 250 levels deep",
        filename="search.yaml",
    ),
    Case(
        "definitions-nested-too-deep",
        with_top(definitions={"deep": nested_lists(300)}),
        path="definitions.deep.0.0",
        message="nested more than 250 levels deep",
    ),
    Case(
        "yaml-billion-laughs",
        billion_laughs(),
        path="(config)",
        message="values; at most 100,000 are allowed",
        filename="search.yaml",
    ),
    Case(
        "yaml-alias-inside-itself",
        f"hyperparameters: &a {{x: [*a]}}\nfunction: {{module: {MODEL}, name: train}}\n",
        path="(config)",
        message="refers to a value that contains it",
        filename="search.yaml",
    ),
    Case(
        "ref-billion-laughs",
        with_top(definitions=ref_laughs()),
        path="definitions.l0.0.",
        message='"$ref"s would add more than 100,000 values',
    ),
    Case(
        "yaml-duplicate-key",
        "hyperparameters:\n  properties:\n    x: {type: number, min: 0, max: 1}\n"
        "    x: {type: number, min: 0, max: 2}\n"
        f"function: {{module: {MODEL}, name: train}}\n",
        path=f"{P}.x",
        message="duplicate key 'x' on line 4 (first on line 3)",
        filename="search.yaml",
    ),
    Case(
        "enum-too-large",
        with_params(kind={"enum": [f"v{i}" for i in range(10_001)]}),
        path=f"{P}.kind.enum",
        message="10,001 values; at most 10,000 are supported",
    ),
    Case(
        "initial-unknown-key",
        with_section("search", initial=[{"lr": 0.1, "knd": "a"}]),
        path="search.initial.0.knd",
        message="unknown parameter 'knd'; did you mean 'kind'?",
    ),
    Case(
        "initial-unknown-nested-key",
        {
            **with_params(net={"properties": {"width": {"type": "integer", "min": 1, "max": 9}}}),
            "search": {**BASE["search"], "initial": [{}, {"net": {"width": 3, "widht": 2}}]},
        },
        path="search.initial.1.net.widht",
        message="unknown parameter 'widht'; did you mean 'width'?",
    ),
    Case(
        "json-integer-of-5000-digits",
        '{"hyperparameters": {"properties": {"x": {"type": "integer", "min": 0, "max": '
        + "9" * 5000
        + "}}}}",
        path="(config)",
        message="a number has more than 4300 digits",
    ),
    Case(
        "yaml-integer-of-5000-digits",
        "hyperparameters: {properties: {x: {type: integer, min: 0, max: " + "9" * 5000 + "}}}\n",
        path="(config)",
        message="a number has more than 4300 digits",
        filename="search.yaml",
    ),
    Case(
        "unicode-name-shown-as-is",
        with_params(学习率={"type": "number", "min": 1, "max": 0}),
        path=f"{P}.学习率",
        message="min (1) must be below max (0)",
    ),
]


def write_case(case: Case, folder: Path) -> Path:
    (folder / f"{MODEL}.py").write_text(MODEL_SOURCE, "utf-8")
    for name, text in case.files.items():
        (folder / name).write_text(text, "utf-8")
    path = folder / case.filename
    text = case.config if isinstance(case.config, str) else json.dumps(case.config, indent=2)
    path.write_text(text, "utf-8")
    return path


def validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_base_config_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The starting point of every case validates, so each case fails for its own change only."""
    path = write_case(Case("base", BASE), tmp_path)
    code, out, err = validate(path, capsys)
    assert code == 0, err
    assert "valid" in out


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_malformed_config_is_refused(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_case(case, tmp_path)
    code, out, err = validate(path, capsys)
    assert code == 2, f"exit code {code}; stdout: {out!r}; stderr: {err!r}"
    assert "Traceback" not in err
    assert err.startswith("hypermax: invalid config"), err
    assert case.path in err, f"config path {case.path!r} not named in: {err}"
    assert case.message in err, f"message {case.message!r} not in: {err}"
    lines = [line for line in err.splitlines() if case.path in line and case.message in line]
    assert lines, f"path and message are not reported together in: {err}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_malformed_config_names_its_file(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Documented format: ``hypermax: invalid config in <file>: <path>: <message>``."""
    path = write_case(case, tmp_path)
    code, _, err = validate(path, capsys)
    assert code == 2
    assert err.startswith(f"hypermax: invalid config in {path}"), err


def test_several_problems_are_reported_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = with_params(
        depth={"type": "integer", "min": 10, "max": 2},
        layers={"type": "array", "minItems": 3, "maxItems": 1, "items": {"constant": 1}},
        optimizer={"type": "string"},
    )
    config["search"]["method"] = "tpee"
    config["function"].pop("name")
    config["metrics"] = {"time": {"type": "time", "target_time": 9, "max_time": 3}}
    path = write_case(Case("several", config), tmp_path)
    code, _, err = validate(path, capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "6 problems" in err
    for expected in (
        f"{P}.depth: min (10) must be below max (2)",
        f"{P}.layers: minItems (3) must not exceed maxItems (1)",
        f"{P}.optimizer: a string parameter needs an 'enum'",
        "search.method: unknown method 'tpee'",
        "function.name: missing",
        "metrics.time: target_time (9) must be below max_time (3)",
    ):
        assert expected in err


def test_several_schema_problems_are_reported_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = with_params(depth={"type": "number", "min": 1, "max": 3, "scalling": "linear"})
    config["search"]["iterations"] = 0
    config["search"]["parallel"] = "4"
    config["metrics"] = {"auc": {"direction": "up"}}
    config["hyperparameter"] = {}
    path = write_case(Case("several-schema", config), tmp_path)
    code, _, err = validate(path, capsys)
    assert code == 2
    assert "Traceback" not in err
    assert "5 problems" in err
    for expected in (
        f"{P}.depth.scalling: unknown key 'scalling'; did you mean 'scaling'?",
        "search.iterations:",
        "search.parallel: must be of type integer",
        "metrics.auc.direction: 'up' is not allowed",
        "hyperparameter: unknown key 'hyperparameter'; did you mean 'hyperparameters'?",
    ):
        assert expected in err


def test_schema_semantic_and_direction_problems_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong type in one section hides no problem of another."""
    config = with_params(depth={"type": "integer", "min": 10, "max": 2})
    config["search"]["parallel"] = "4"
    config["metrics"] = {"auc": {"direction": "upward"}}
    path = write_case(Case("three", config), tmp_path)
    code, _, err = validate(path, capsys)
    assert code == 2
    assert "3 problems" in err
    for expected in (
        "search.parallel: must be of type integer",
        f"{P}.depth: min (10) must be below max (2)",
        "metrics.auc.direction: 'upward' is not allowed",
    ):
        assert expected in err


@pytest.mark.parametrize("section", ["metrics", "function", "results"])
def test_a_schema_error_elsewhere_hides_no_check_of_search_against_the_space(
    section: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stages, warm-start sets and method settings are checked against the space even where
    another section is broken."""
    config = copy.deepcopy(BASE)
    broken = {
        "metrics": {"auc": {"direction": "upward"}},
        "function": {**BASE["function"], "auto_kill_max_time": "soon"},
        "results": {"directory": 3},
    }
    config[section] = broken[section]
    config["search"]["stages"] = [{"parameters": ["lrr"], "iterations": 3}]
    config["search"]["initial"] = [{"kind": "c"}]
    path = write_case(Case("elsewhere", config), tmp_path)
    code, _, err = validate(path, capsys)
    assert code == 2
    assert "3 problems" in err, err
    assert f"{section}." in err
    assert "search.stages.0.parameters.0: 'lrr' is not a parameter" in err
    assert "search.initial.0:" in err


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.json"
    code, _, err = validate(path, capsys)
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith(f"hypermax: invalid config in {path}: ")
    assert "cannot read the file: No such file or directory" in err


def test_console_script_exits_2_with_the_message(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "hypermax"
    assert script.exists(), f"console script not installed at {script}"
    config = with_params(depth={"type": "number", "min": 5, "max": 1})
    path = write_case(Case("subprocess", config), tmp_path)
    completed = subprocess.run(
        [str(script), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith(f"hypermax: invalid config in {path}: ")
    assert f"{P}.depth: min (5) must be below max (1)" in completed.stderr
    assert completed.stdout == ""
