"""Property-based fuzzing of the config loader: whatever the file holds, the answer is a config
or a ConfigError whose problems each name a path, in bounded time and text, and the command line
exits 0 or 2, never with a traceback."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hypermax.cli import main
from hypermax.config.loader import config_from_dict, load_config
from hypermax.errors import ConfigError

MODEL = "hm_fuzz_model"

VALID: dict[str, Any] = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "lr": {"type": "number", "min": 0.0001, "max": 0.1, "scaling": "logarithmic"},
            "units": {"type": "integer", "min": 8, "max": 256, "default": 32},
            "kind": {"type": "string", "enum": ["a", "b", "学"]},
            "model": {
                "anyOf": [
                    {"properties": {"name": {"constant": "svm"}, "c": {"$ref": "#/$defs/c"}}},
                    {
                        "properties": {
                            "name": {"constant": "tree"},
                            "depth": {"type": "integer", "min": 1, "max": 9},
                        }
                    },
                ]
            },
            "layers": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {"type": "number", "mode": "normal", "mean": 0, "stddev": 1},
            },
        },
    },
    "$defs": {"c": {"type": "number", "min": 0.1, "max": 10}},
    "metrics": {
        "auc": {"min": 0.5, "max": 1.0, "direction": "increase"},
        "time": {"type": "time", "target_time": 5, "max_time": 10, "penalty_at_max": 0.1},
    },
    "function": {"type": "python_function", "module": MODEL, "name": "train"},
    "search": {
        "name": "fuzz",
        "method": "tpe",
        "iterations": 20,
        "initial": [{"lr": 0.01}, {"units": 64, "kind": "b"}],
        "stages": [{"parameters": ["lr", "units"], "iterations": 5}],
    },
    "results": {"directory": "out"},
}

ODD_VALUES = [
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    5e-324,
    10**30,
    -(10**30),
    0,
    -1,
    "",
    "学习率",
    "\x00",
    "x" * 5000,
    None,
    True,
    [],
    {},
    [[[[[[[[[[[]]]]]]]]]]],
    {"$ref": "#/nowhere"},
    {"$ref": "#"},
    {"$ref": "no-such-file.json"},
    {"type": "object", "properties": {}},
]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from([v for v in ODD_VALUES if not isinstance(v, (dict, list))])
)
KEYS = st.sampled_from(
    [
        "hyperparameters",
        "type",
        "properties",
        "min",
        "max",
        "enum",
        "anyOf",
        "items",
        "metrics",
        "function",
        "search",
        "initial",
        "method",
        "name",
        "$ref",
        "constant",
        "default",
        "scaling",
        "mode",
        "mean",
        "stddev",
        "rounding",
        "minItems",
        "maxItems",
    ]
) | st.text(max_size=8)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=40,
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        path = Path(name)
        (path / f"{MODEL}.py").write_text("def train(params):\n    return 0.0\n", "utf-8")
        yield path


def places(document: Any) -> list[tuple[Any, ...]]:
    """Every path into a document (dict keys and list indexes), the top included."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        value, where = stack.pop()
        found.append(where)
        if isinstance(value, dict):
            stack += [(child, (*where, key)) for key, child in value.items()]
        elif isinstance(value, list):
            stack += [(child, (*where, index)) for index, child in enumerate(value)]
    return found


def mutated(document: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """The document with one to three random changes: a key removed, a value replaced by an
    odd one or a random document, a key added, or a value wrapped in deep nesting."""
    document = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(places(document)[1:]))
        parent: Any = document
        for part in where[:-1]:
            parent = parent[part]
        key = where[-1]
        action = data.draw(st.sampled_from(["delete", "odd", "random", "add", "deep"]))
        if action == "delete":
            del parent[key]
        elif action == "odd":
            parent[key] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
        elif action == "random":
            parent[key] = data.draw(DOCUMENTS)
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][data.draw(KEYS)] = data.draw(SCALARS)
        elif action == "deep":  # past the parameter limit (100), then the document's (250)
            for _ in range(data.draw(st.sampled_from([3, 110, 130]))):
                parent[key] = {"type": "object", "properties": {"a": parent[key]}}
            break  # deeper still would only test this test's own recursion
    return document


def refused(path: Path) -> bool:
    """Whether load_config refuses the file; if it does, every problem names a path, briefly."""
    try:
        load_config(path)
    except ConfigError as error:
        assert error.issues
        assert error.source == str(path)
        for issue in error.issues:
            assert isinstance(issue.path, str) and isinstance(issue.message, str)
            assert issue.message
            assert len(issue.path) <= 300 and len(issue.message) <= 300
        return True
    return False


def write(folder: Path, document: Any, as_yaml: bool) -> Path:
    if as_yaml:
        path = folder / "search.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    else:
        path = folder / "search.json"
        path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return path


FUZZ = settings(
    max_examples=200,
    deadline=20_000,  # generous: a loaded machine; a hang still fails the test
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_the_valid_example_is_valid(folder: Path) -> None:
    assert load_config(write(folder, VALID, as_yaml=False)).search.name == "fuzz"


@FUZZ
@given(document=DOCUMENTS, as_yaml=st.booleans())
@example(document={"": {"$ref": ""}}, as_yaml=False)  # a failed reference under the key ""
def test_random_documents(folder: Path, document: Any, as_yaml: bool) -> None:
    refused(write(folder, document, as_yaml))


@FUZZ
@given(data=st.data(), as_yaml=st.booleans())
@pytest.mark.slow
def test_mutated_configs_through_the_command_line(
    folder: Path, data: st.DataObject, as_yaml: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused config exits 2 with a bounded message (valid ones are left out here: starting
    their workers to validate would take most of the time)."""
    path = write(folder, mutated(VALID, data), as_yaml)
    if refused(path):
        assert main(["validate", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"hypermax: invalid config in {path}"), err
        assert all(len(line) < 1000 for line in err.splitlines())


@FUZZ
@given(document=st.dictionaries(KEYS, DOCUMENTS, max_size=6))
@pytest.mark.slow
def test_random_data_through_the_library(folder: Path, document: dict[str, Any]) -> None:
    try:
        config_from_dict(document, base_dir=folder)
    except ConfigError as error:
        assert error.issues
        assert all(isinstance(issue.path, str) for issue in error.issues)
