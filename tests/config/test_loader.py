"""Valid configs load to typed objects: defaults, JSON/YAML, ``$ref``, the original format."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from hypermax.cli import main
from hypermax.config import (
    Config,
    FunctionConfig,
    SearchSettings,
    config_from_dict,
    config_schema,
    load_config,
)
from hypermax.errors import ConfigError
from hypermax.execution.python_function import PythonFunctionSettings
from hypermax.loss import MetricSpec
from hypermax.optimizers import TPE, Auto, Hyperband, RandomSearch
from hypermax.space import ArrayNode, BranchNode, ChoiceNode, ConstantNode, NumberNode

REPO = Path(__file__).resolve().parents[2]

MINIMAL: dict[str, Any] = {
    "hyperparameters": {
        "type": "object",
        "properties": {"x": {"type": "number", "min": -1.0, "max": 1.0}},
    },
    "function": {"module": "model", "name": "train"},
}

FULL: dict[str, Any] = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "lr": {"type": "number", "min": 1e-4, "max": 1.0, "scaling": "logarithmic"},
            "depth": {"type": "integer", "min": 2, "max": 16, "default": 4},
            "kind": {"type": "string", "enum": ["gini", "entropy"]},
            "fixed": {"constant": 7},
            "layers": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {"units": {"type": "integer", "min": 8, "max": 64}},
                },
            },
            "model": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {
                            "kind": {"constant": "svm"},
                            "c": {"type": "number", "min": 0.1, "max": 10},
                        },
                    },
                    {"type": "object", "properties": {"kind": {"constant": "tree"}}},
                ]
            },
        },
    },
    "metrics": {
        "auc": {"min": 0.5, "max": 1.0, "direction": "increase", "weight": 2},
        "time": {"target_time": 5, "max_time": 10, "penalty_at_max": 0.2},
    },
    "function": {
        "type": "python_function",
        "src": "model.py",
        "name": "train",
        "auto_kill_max_time": 30,
        "auto_kill_max_ram": 2048,
    },
    "search": {
        "name": "full",
        "method": "random",
        "iterations": 12,
        "seed": 3,
        "parallel": 2,
        "storage": "sqlite:///elsewhere.db",
    },
    "results": {"directory": "out"},
}


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2), "utf-8")
    return path


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return path


def comparable(config: Config) -> Config:
    """The config with its file name dropped, to compare configs read from different files."""
    return dataclasses.replace(config, source=None)


# --- defaults and typed objects --------------------------------------------------------------


def test_minimal_config_gets_the_defaults(tmp_path: Path) -> None:
    path = write_json(tmp_path / "my_search.json", MINIMAL)
    config = load_config(path)
    assert isinstance(config, Config)
    assert isinstance(config.search, SearchSettings)
    assert isinstance(config.function, FunctionConfig)
    assert config.search.method == "auto"  # the benchmark's best
    assert config.search.iterations == 100
    assert config.search.parallel == 1
    assert config.search.seed is None
    assert config.search.storage is None
    assert config.search.method_settings == Auto.Settings()  # every default
    assert config.search.name == "my_search"
    assert config.results_directory == "hypermax_results"
    assert config.results_dir == (tmp_path / "hypermax_results" / "my_search").resolve()
    assert config.metrics == {}
    assert config.function.type == "python_function"
    assert config.function.settings == PythonFunctionSettings(module="model", name="train")
    assert config.function.auto_kill_max_time is None
    assert config.function.auto_kill_max_ram is None
    assert config.function.auto_kill_loss is None
    assert config.base_dir == tmp_path.resolve()
    assert config.source == path


def test_search_name_defaults_to_the_yaml_file_stem(tmp_path: Path) -> None:
    config = load_config(write_yaml(tmp_path / "night-run.yaml", MINIMAL))
    assert config.search.name == "night-run"


def test_full_config_loads_every_section(tmp_path: Path) -> None:
    config = load_config(write_json(tmp_path / "search.json", FULL))
    assert config.search == SearchSettings(
        name="full",
        method="random",
        iterations=12,
        seed=3,
        parallel=2,
        storage="sqlite:///elsewhere.db",
        method_settings=RandomSearch.Settings(),
    )
    assert config.function == FunctionConfig(
        type="python_function",
        settings=PythonFunctionSettings(src="model.py", name="train"),
        auto_kill_max_time=30,
        auto_kill_max_ram=2048,
    )
    assert config.results_directory == "out"
    assert config.results_dir == (tmp_path / "out" / "full").resolve()
    assert config.metrics["auc"] == MetricSpec(
        name="auc", type="metric", min=0.5, max=1.0, direction="increase", weight=2
    )
    assert config.metrics["time"] == MetricSpec(
        name="time", type="time", target_time=5, max_time=10, penalty_at_max=0.2
    )
    space = config.space
    nodes = {node.label: node for node in space.nodes()}
    assert isinstance(nodes["lr"], NumberNode) and nodes["lr"].log
    assert isinstance(nodes["depth"], NumberNode) and nodes["depth"].integer
    assert isinstance(nodes["kind"], ChoiceNode)
    assert isinstance(nodes["fixed"], ConstantNode)
    assert isinstance(nodes["layers"], ArrayNode)
    assert isinstance(nodes["model"], BranchNode)
    default = space.nested(space.default())
    assert default["depth"] == 4
    assert default["fixed"] == 7
    assert default["model"]["kind"] == "svm"


def test_method_settings_come_from_the_methods_own_section(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL)
    data["search"] = {"method": "tpe", "tpe": {"gamma": 0.3, "startup_trials": 5}, "random": {}}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.search.method == "tpe"
    assert config.search.method_settings == TPE.Settings(gamma=0.3, startup_trials=5)


def test_config_from_dict_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_from_dict(MINIMAL)
    assert config.search.name == "search"
    assert config.source is None
    assert config.base_dir == Path.cwd()


def test_function_may_be_left_out_when_not_required(tmp_path: Path) -> None:
    data = {"hyperparameters": MINIMAL["hyperparameters"]}
    config = load_config(write_json(tmp_path / "search.json", data), require_function=False)
    assert config.function is None


def test_loading_does_not_change_the_given_data() -> None:
    data = copy.deepcopy(FULL)
    data["definitions"] = {"x": {"type": "number", "min": 0, "max": 1}}
    data["hyperparameters"]["properties"]["ref"] = {"$ref": "#/definitions/x"}
    before = copy.deepcopy(data)
    config_from_dict(data, base_dir=Path("."))
    assert data == before


@pytest.mark.parametrize("key", ["iterations", "parallel", "seed"])
def test_whole_number_floats_in_integer_settings_are_accepted_as_ints(
    tmp_path: Path, key: str
) -> None:
    """JSON Schema calls 10.0 an integer (and YAML or a generator may write one), so it is
    accepted; the typed settings then hold the int 10, never the float."""
    data = {**copy.deepcopy(MINIMAL), "search": {key: 10.0}}
    config = load_config(write_json(tmp_path / "search.json", data))
    value = getattr(config.search, key)
    assert value == 10
    assert type(value) is int, f"search.{key} is {value!r}"


@pytest.mark.parametrize("key", ["iterations", "parallel", "seed"])
def test_fractional_numbers_in_integer_settings_are_refused(tmp_path: Path, key: str) -> None:
    data = {**copy.deepcopy(MINIMAL), "search": {key: 10.5}}
    with pytest.raises(ConfigError) as error:
        load_config(write_json(tmp_path / "search.json", data))
    assert f"search.{key}" in str(error.value)


# --- JSON and YAML ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_json_and_yaml_give_equal_configs(tmp_path: Path, suffix: str) -> None:
    from_json = load_config(write_json(tmp_path / "search.json", FULL))
    from_yaml = load_config(write_yaml(tmp_path / f"search{suffix}", FULL))
    assert comparable(from_json) == comparable(from_yaml)
    assert from_json.space.cardinality() == from_yaml.space.cardinality()


def test_handwritten_yaml(tmp_path: Path) -> None:
    path = tmp_path / "search.yaml"
    path.write_text(
        """
# a comment, which JSON cannot have
hyperparameters:
  type: object
  properties:
    x: {type: number, min: -1.0, max: 1.0}
function:
  module: model
  name: train
search:
  iterations: 7
""",
        "utf-8",
    )
    config = load_config(path)
    assert config.search.iterations == 7
    assert comparable(config) == comparable(
        load_config(write_json(tmp_path / "search.json", {**MINIMAL, "search": {"iterations": 7}}))
    )


# --- $ref ------------------------------------------------------------------------------------


def _with_ref(ref: dict[str, Any], **top: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data["hyperparameters"]["properties"]["y"] = ref
    data.update(top)
    return data


def test_ref_to_definitions(tmp_path: Path) -> None:
    lr = {"type": "number", "min": 0.001, "max": 0.1, "scaling": "logarithmic"}
    data = _with_ref({"$ref": "#/definitions/lr"}, definitions={"lr": lr})
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"] == lr
    node = next(n for n in config.space.parameters() if n.path == "y")
    assert isinstance(node, NumberNode) and node.log and node.high == 0.1


def test_ref_to_dollar_defs(tmp_path: Path) -> None:
    data = _with_ref({"$ref": "#/$defs/opt"}, **{"$defs": {"opt": {"enum": ["adam", "sgd"]}}})
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"] == {"enum": ["adam", "sgd"]}


def test_ref_chain_and_nested_refs(tmp_path: Path) -> None:
    data = _with_ref(
        {"$ref": "#/definitions/layer"},
        definitions={
            "units": {"type": "integer", "min": 8, "max": 64},
            "layer": {"type": "object", "properties": {"units": {"$ref": "#/definitions/units"}}},
        },
    )
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"] == {
        "type": "object",
        "properties": {"units": {"type": "integer", "min": 8, "max": 64}},
    }


def test_the_same_ref_used_twice_is_not_circular(tmp_path: Path) -> None:
    data = _with_ref({"$ref": "#/definitions/u"}, definitions={"u": {"enum": [1, 2]}})
    data["hyperparameters"]["properties"]["z"] = {"$ref": "#/definitions/u"}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.space.cardinality() == float("inf")
    assert config.hyperparameters["properties"]["z"] == {"enum": [1, 2]}


def test_ref_to_another_file(tmp_path: Path) -> None:
    write_json(
        tmp_path / "shared.json",
        {"definitions": {"lr": {"type": "number", "min": 0.01, "max": 1.0}}},
    )
    write_yaml(tmp_path / "whole.yaml", {"enum": ["relu", "tanh"]})
    data = _with_ref({"$ref": "shared.json#/definitions/lr"})
    data["hyperparameters"]["properties"]["act"] = {"$ref": "whole.yaml"}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"] == {"type": "number", "min": 0.01, "max": 1.0}
    assert config.hyperparameters["properties"]["act"] == {"enum": ["relu", "tanh"]}


def test_ref_to_another_file_is_relative_to_the_config_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    write_json(folder / "shared.json", {"u": {"enum": [1, 2, 3]}})
    path = write_json(folder / "search.json", _with_ref({"$ref": "shared.json#/u"}))
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("project/search.json"))
    assert config.hyperparameters["properties"]["y"] == {"enum": [1, 2, 3]}
    assert config.base_dir == path.parent.resolve()


def test_refs_inside_another_file_resolve_against_that_file(tmp_path: Path) -> None:
    """A ``#/...`` reference written in shared.json means shared.json (JSON Reference rules)."""
    write_json(
        tmp_path / "shared.json",
        {
            "definitions": {
                "units": {"type": "integer", "min": 8, "max": 64},
                "layer": {
                    "type": "object",
                    "properties": {"units": {"$ref": "#/definitions/units"}},
                },
            }
        },
    )
    data = _with_ref({"$ref": "shared.json#/definitions/layer"})
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"]["properties"]["units"] == {
        "type": "integer",
        "min": 8,
        "max": 64,
    }


def test_sibling_keys_beside_ref_win(tmp_path: Path) -> None:
    base = {"type": "number", "min": 0.001, "max": 1.0, "scaling": "logarithmic"}
    data = _with_ref(
        {"$ref": "#/definitions/lr", "max": 0.5, "default": 0.01}, definitions={"lr": base}
    )
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"] == {**base, "max": 0.5, "default": 0.01}
    assert config.raw["definitions"]["lr"] == base  # the definition itself is untouched


def test_sibling_keys_beside_a_file_ref_win(tmp_path: Path) -> None:
    write_json(tmp_path / "shared.json", {"x": {"type": "integer", "min": 1, "max": 9}})
    data = _with_ref({"$ref": "shared.json#/x", "min": 3})
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hyperparameters["properties"]["y"] == {"type": "integer", "min": 3, "max": 9}


def test_ref_in_sections_other_than_hyperparameters(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL)
    data["definitions"] = {"fn": {"module": "model", "name": "fit"}}
    data["function"] = {"$ref": "#/definitions/fn", "auto_kill_max_time": 5}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.function == FunctionConfig(
        settings=PythonFunctionSettings(module="model", name="fit"), auto_kill_max_time=5
    )


# --- metrics and parallel --------------------------------------------------------------------


def test_exponential_metric_scaling_becomes_logarithmic(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL)
    data["metrics"] = {
        "error": {"min": 0.001, "max": 1.0, "scaling": "exponential"},
        "auc": {"direction": "increase"},
        "time": {"target_time": 1, "max_time": 2},
    }
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.metrics["error"].scaling == "logarithmic"
    assert config.metrics["auc"].scaling == "linear"
    assert config.metrics["auc"].type == "metric"
    assert config.metrics["auc"].weight == 1.0
    assert config.metrics["time"].type == "time"
    assert config.metrics["time"].penalty_at_max == 0.1


def test_exponential_parameter_scaling_is_logarithmic(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL)
    data["hyperparameters"]["properties"]["n"] = {
        "type": "number",
        "min": 1,
        "max": 1000,
        "scaling": "exponential",
        "rounding": 1,
    }
    config = load_config(write_json(tmp_path / "search.json", data))
    node = next(n for n in config.space.parameters() if n.path == "n")
    assert isinstance(node, NumberNode)
    assert node.log and node.integer


def test_function_parallel_sets_search_parallel(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL)
    data["function"]["parallel"] = 4
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.search.parallel == 4
    assert not hasattr(config.function, "parallel")


def test_search_parallel_wins_over_function_parallel(tmp_path: Path) -> None:
    data = copy.deepcopy(MINIMAL)
    data["function"]["parallel"] = 4
    data["search"] = {"parallel": 2}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.search.parallel == 2


# --- the original Hypermax format ------------------------------------------------------------

ORIGINAL = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "layer_0_size": {
                "type": "number",
                "min": 10,
                "max": 1000,
                "scaling": "exponential",
                "rounding": 1,
            },
            "dropout": {
                "type": "number",
                "min": 0.0,
                "max": 0.5,
                "mode": "uniform",
                "scaling": "linear",
                "rounding": 0.05,
            },
            "learning_rate": {
                "type": "number",
                "min": 1e-5,
                "max": 1e-2,
                "scaling": "exponential",
            },
            "activation": {"type": "string", "enum": ["relu", "elu", "selu"]},
            "optimizer": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "enum": ["adam"]},
                            "beta_1": {"type": "number", "min": 0.8, "max": 0.99},
                        },
                    },
                    {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "enum": ["sgd"]},
                            "momentum": {"type": "number", "min": 0, "max": 0.9, "rounding": 0.1},
                        },
                    },
                ]
            },
        },
    },
    "function": {
        "type": "python_function",
        "module": "hm_original_model",
        "name": "trainModel",
        "parallel": 3,
        "auto_kill_max_time": 120.0,
        "auto_kill_max_ram": 512,
        "auto_kill_loss": 1.0,
    },
    "search": {"method": "tpe", "iterations": 250},
    "results": {"directory": "results", "graphs": True},
    "ui": {"enabled": False},
}


def test_original_hypermax_config_loads_unchanged(tmp_path: Path) -> None:
    config = load_config(write_json(tmp_path / "original.json", ORIGINAL))
    assert config.function == FunctionConfig(
        type="python_function",
        settings=PythonFunctionSettings(module="hm_original_model", name="trainModel"),
        auto_kill_max_time=120.0,
        auto_kill_max_ram=512,
        auto_kill_loss=1.0,
    )
    assert config.search.method == "tpe"
    assert config.search.iterations == 250
    assert config.search.parallel == 3
    assert config.search.name == "original"
    assert config.results_directory == "results"
    assert config.results_dir == (tmp_path / "results" / "original").resolve()
    assert config.raw["ui"] == {"enabled": False}
    assert config.raw["results"]["graphs"] is True
    assert config.hyperparameters == ORIGINAL["hyperparameters"]

    nodes = {node.label: node for node in config.space.nodes()}
    size = nodes["layer_0_size"]
    assert isinstance(size, NumberNode) and size.integer and size.log
    dropout = nodes["dropout"]
    assert isinstance(dropout, NumberNode) and not dropout.integer
    assert dropout.finish(0.123) == pytest.approx(0.1)
    assert isinstance(size.finish(123.4), int) and size.finish(123.4) == 123
    assert isinstance(nodes["activation"], ChoiceNode)
    assert isinstance(nodes["optimizer"], BranchNode)
    assert len(nodes["optimizer"].branches) == 2

    params = config.space.nested(config.space.default())
    assert set(params) == {"layer_0_size", "dropout", "learning_rate", "activation", "optimizer"}
    assert isinstance(params["layer_0_size"], int)
    assert params["optimizer"]["name"] == "adam"
    assert set(params["optimizer"]) == {"name", "beta_1"}


def test_original_hypermax_config_validates_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hm_original_model.py").write_text(
        "def trainModel(params):\n    return {'loss': 0.5}\n", "utf-8"
    )
    path = write_json(tmp_path / "original.json", ORIGINAL)
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "valid" in out
    assert "method tpe, 250 iterations" in out


HYPERMAX_RESULTS = {  # as the original's cifar10.json described its search
    "name": "cifar_resnet",
    "upload_frequency": 10,
    "author": "Bradley Arsenault",
    "contact": "brad@electricbrain.io",
    "date": "2018-11-16",
    "description": "A ResNet on CIFAR-10",
    "algorithm": "ResNet",
    "input_types": ["image"],
    "output_types": ["classification"],
    "metrics": ["accuracy"],
}


def test_hypermax_results_is_kept_as_the_description_of_the_search(tmp_path: Path) -> None:
    data = {**copy.deepcopy(MINIMAL), "hypermax_results": HYPERMAX_RESULTS}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.hypermax_results == HYPERMAX_RESULTS
    assert config.raw["hypermax_results"] == HYPERMAX_RESULTS  # saved in config.json with it
    assert load_config(write_json(tmp_path / "plain.json", MINIMAL)).hypermax_results == {}


@pytest.mark.parametrize(
    ("function", "expected"),
    [({"kill_loss": 2.5}, 2.5), ({"kill_loss": 2.5, "auto_kill_loss": 2.5}, 2.5)],
    ids=["alone", "both-equal"],
)
def test_kill_loss_is_auto_kill_loss(tmp_path: Path, function: dict, expected: float) -> None:
    data = copy.deepcopy(MINIMAL)
    data["function"].update(function, auto_kill_max_time=60)
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.function is not None and config.function.auto_kill_loss == expected


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        # the original's place for the budgets, beside "method"
        (
            {"method": "abh", "min_budget": 1, "max_budget": 20, "eta": 1.643167673},
            {"min_budget": 1, "max_budget": 20, "eta": 1.643167673, "sampler": "atpe"},
        ),
        ({"method": "hyperband", "eta": 2}, {"eta": 2}),  # hyperband keeps random sampling
        ({"method": "abh", "abh": {"eta": 2.71}}, {"eta": 2.71, "sampler": "atpe"}),
        ({"method": "abh", "abh": {"sampler": "random"}}, {"sampler": "random"}),
        (
            {"method": "abh", "max_budget": 9, "abh": {"eta": 2}},
            {"max_budget": 9, "eta": 2, "sampler": "atpe"},
        ),
    ],
    ids=["flat", "hyperband", "nested-abh", "abh-random", "flat-and-nested"],
)
def test_hyperband_settings_where_the_original_put_them(
    tmp_path: Path, search: dict, expected: dict
) -> None:
    data = {**copy.deepcopy(MINIMAL), "search": search}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.search.method == "hyperband"
    assert config.search.method_settings == Hyperband.Settings(**expected)


def test_keys_the_original_read_nowhere_are_accepted_and_ignored(tmp_path: Path) -> None:
    """``name`` on a parameter (the original's Hyperopt label) and ``search.budget`` (in its
    schema, read nowhere)."""
    data = copy.deepcopy(MINIMAL)
    data["hyperparameters"]["properties"]["x"]["name"] = "x_label"
    data["search"] = {"method": "tpe", "budget": 100}
    config = load_config(write_json(tmp_path / "search.json", data))
    assert config.search.method_settings == TPE.Settings()
    assert config.space.nested(config.space.default()).keys() == {"x"}


# --- the schema ------------------------------------------------------------------------------


def test_config_schema_is_valid_json_schema() -> None:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "example", ["examples/quickstart/search.json", "src/hypermax/templates/search.json"]
)
def test_shipped_configs_validate_against_the_schema(example: str) -> None:
    data = json.loads((REPO / example).read_text("utf-8"))
    errors = list(Draft202012Validator(config_schema()).iter_errors(data))
    assert errors == []
    config = load_config(REPO / example)
    assert config.function is not None
    assert isinstance(config.function.settings, PythonFunctionSettings)
    assert config.function.settings.name == "train"


@pytest.mark.parametrize("data", [MINIMAL, FULL, ORIGINAL], ids=["minimal", "full", "original"])
def test_valid_configs_validate_against_the_schema(data: dict[str, Any]) -> None:
    Draft202012Validator(config_schema()).validate(data)


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == config_schema()
    assert err == ""


def test_a_metric_may_carry_a_description(tmp_path: Path) -> None:
    path = tmp_path / "search.json"
    path.write_text(
        json.dumps(
            {
                "hyperparameters": {"type": "number", "min": 0, "max": 1},
                "metrics": {"auc": {"description": "area under the curve", "min": 0.5, "max": 1}},
            }
        )
    )
    config = load_config(path, require_function=False)
    assert config.metrics["auc"].max == 1


def test_keys_beside_a_file_ref_resolve_in_the_referring_file(tmp_path: Path) -> None:
    (tmp_path / "shared.json").write_text(json.dumps({"base": {"type": "object"}}))
    path = tmp_path / "search.json"
    path.write_text(
        json.dumps(
            {
                "definitions": {"lr": {"type": "number", "min": 0.1, "max": 1}},
                "hyperparameters": {
                    "$ref": "shared.json#/base",
                    "properties": {"lr": {"$ref": "#/definitions/lr"}},
                },
            }
        )
    )
    config = load_config(path, require_function=False)
    assert config.hyperparameters["properties"]["lr"]["max"] == 1
