"""The search space: parsing `hyperparameters`, nested <-> flat, cardinality, defaults."""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np
import pytest

from hypermax.errors import ConfigError
from hypermax.space import (
    ArrayNode,
    BranchNode,
    ChoiceNode,
    ConstantNode,
    NumberNode,
    ObjectNode,
    Space,
)


def obj(**properties: Any) -> dict[str, Any]:
    """An object schema with the given properties."""
    return {"type": "object", "properties": properties}


def leaf(space: Space, path: str) -> Any:
    """The parameter (number or choice) node at a flat path."""
    found = {node.path: node for node in space.parameters()}
    return found[path]


def issues_of(schema: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Space.from_schema(schema)
    return [str(issue) for issue in caught.value.issues]


MODEL_BRANCHES = {
    "anyOf": [
        obj(kind={"constant": "svm"}, c={"type": "number", "min": 0.1, "max": 10}),
        obj(kind={"constant": "forest"}, trees={"type": "integer", "min": 10, "max": 500}),
    ]
}
LAYERS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 3,
    "items": obj(
        units={"type": "integer", "min": 8, "max": 256},
        activation={"type": "string", "enum": ["relu", "tanh"]},
    ),
}


# --- parsing: every node kind -------------------------------------------------------------


def test_linear_number() -> None:
    space = Space.from_schema(obj(x={"type": "number", "min": -1.5, "max": 2.5}))
    node = leaf(space, "x")
    assert isinstance(node, NumberNode)
    assert (node.low, node.high, node.log, node.mode, node.integer) == (
        -1.5,
        2.5,
        False,
        "uniform",
        False,
    )
    assert isinstance(node.finish(0.3), float)


@pytest.mark.parametrize("scaling", ["logarithmic", "exponential"])
def test_log_scaling_including_the_originals_exponential(scaling: str) -> None:
    space = Space.from_schema(
        obj(lr={"type": "number", "min": 1e-5, "max": 1, "scaling": scaling})
    )
    assert leaf(space, "lr").log is True


def test_normal_mode_keeps_mean_and_stddev() -> None:
    space = Space.from_schema(
        obj(g={"type": "number", "mode": "normal", "mean": 3, "stddev": 0.5})
    )
    node = leaf(space, "g")
    assert (node.mode, node.mean, node.stddev) == ("normal", 3, 0.5)
    assert space.default() == {"g": 3.0}


def test_randint_mode_gives_ints() -> None:
    space = Space.from_schema(obj(k={"type": "number", "min": 2, "max": 9, "mode": "randint"}))
    node = leaf(space, "k")
    assert node.mode == "randint"
    assert node.integer is True
    assert type(node.finish(4.0)) is int
    assert space.cardinality() == 8


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        ({"type": "number", "min": 0, "max": 1, "rounding": 0.1}, 0.234, 0.2),
        ({"type": "number", "min": 0, "max": 1, "rounding": 0.25}, 0.38, 0.5),
        ({"type": "number", "min": 0, "max": 1, "rounding": 0.1}, 0.3000000004, 0.3),
        ({"type": "number", "min": 0, "max": 1000, "rounding": 5}, 12.6, 15),
        ({"type": "number", "min": 1, "max": 1000, "rounding": 1}, 41.7, 42),
        ({"type": "integer", "min": 1, "max": 10}, 6.6, 7),
        ({"type": "integer", "min": 1, "max": 10}, 0.2, 1),  # clipped into range
        ({"type": "number", "min": 0, "max": 1, "rounding": 0.1}, 1.04, 1.0),
        # a real parameter clipped to bounds written as whole numbers stays a float
        ({"type": "number", "min": -2, "max": 2}, -5.0, -2.0),
        (
            {"type": "number", "mode": "normal", "mean": 0, "stddev": 1, "min": -2, "max": 2},
            3.1,
            2.0,
        ),
    ],
)
def test_rounding_and_integer_values(spec: dict, raw: float, expected: float) -> None:
    node = leaf(Space.from_schema(obj(x=spec)), "x")
    value = node.finish(raw)
    assert value == pytest.approx(expected, abs=1e-12)
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "integer", "min": 1, "max": 100},
        {"type": "number", "min": 1, "max": 100, "rounding": 1},
        {"type": "integer", "min": 1, "max": 100, "scaling": "logarithmic"},
        {"type": "number", "min": 1, "max": 100, "mode": "randint"},
    ],
)
def test_integer_parameters_give_python_ints(spec: dict) -> None:
    space = Space.from_schema(obj(n=spec))
    node = leaf(space, "n")
    assert node.integer is True
    assert type(node.finish(37.4)) is int
    default = space.default()["n"]
    assert type(default) is int
    assert 1 <= default <= 100


@pytest.mark.parametrize(
    "values",
    [
        ["adam", "sgd", "rmsprop"],
        [1, 2.5, 10],
        [True, False],
        [None, "auto", 3],
        [0, False, 1, True],
    ],
)
def test_enum_values_reach_the_model_unchanged(values: list) -> None:
    space = Space.from_schema(obj(e={"enum": values}))
    node = leaf(space, "e")
    assert isinstance(node, ChoiceNode)
    assert node.values == values
    for value in values:
        nested = space.nested(space.flatten({"e": value}))
        assert nested == {"e": value}
        assert type(nested["e"]) is type(value)


@pytest.mark.parametrize("kind", ["string", "boolean"])
def test_typed_enum(kind: str) -> None:
    values = ["a", "b"] if kind == "string" else [True, False]
    space = Space.from_schema(obj(e={"type": kind, "enum": values}))
    assert leaf(space, "e").values == values


@pytest.mark.parametrize("value", ["fixed", 3, 0.5, True, None, [1, 2], {"a": 1}])
def test_constant(value: Any) -> None:
    space = Space.from_schema(obj(c={"constant": value}, x={"type": "number", "min": 0, "max": 1}))
    assert space.nested({"x": 0.5}) == {"c": value, "x": 0.5}
    assert [node.path for node in space.parameters()] == ["x"]  # not something to optimize


@pytest.mark.parametrize("value", ["fixed", 3, 0.5, False])
def test_bare_scalar_is_a_constant(value: Any) -> None:
    space = Space.from_schema(obj(c=value))
    assert isinstance(space.root.properties["c"], ConstantNode)
    assert space.nested({}) == {"c": value}


def test_nested_objects() -> None:
    schema = obj(
        model=obj(
            optimizer=obj(lr={"type": "number", "min": 0.001, "max": 0.1}),
            depth={"type": "integer", "min": 1, "max": 5},
        ),
        name={"constant": "net"},
    )
    space = Space.from_schema(schema)
    assert isinstance(space.root, ObjectNode)
    assert sorted(node.path for node in space.parameters()) == [
        "model.depth",
        "model.optimizer.lr",
    ]
    nested = {"model": {"optimizer": {"lr": 0.01}, "depth": 3}, "name": "net"}
    assert space.flatten(nested) == {"model.optimizer.lr": 0.01, "model.depth": 3, "name": "net"}
    assert space.nested(space.flatten(nested)) == nested


def test_object_without_type_but_with_properties() -> None:
    space = Space.from_schema({"properties": {"x": {"type": "number", "min": 0, "max": 1}}})
    assert isinstance(space.root, ObjectNode)


@pytest.mark.parametrize("keyword", ["anyOf", "oneOf"])
def test_branches(keyword: str) -> None:
    space = Space.from_schema(obj(model={keyword: MODEL_BRANCHES["anyOf"]}))
    node = space.root.properties["model"]
    assert isinstance(node, BranchNode)
    assert len(node.branches) == 2
    assert node.branch_key == "model.$branch"
    # a name reused across branches still has a unique label inside the optimizer
    labels = [n.label for n in space.nodes()]
    assert len(labels) == len(set(labels))


def test_array() -> None:
    space = Space.from_schema(obj(layers=LAYERS))
    node = space.root.properties["layers"]
    assert isinstance(node, ArrayNode)
    assert (node.min_items, node.max_items) == (1, 3)
    assert {n.path for n in space.parameters()} == {
        f"layers.{i}.{key}" for i in range(3) for key in ("units", "activation")
    }


def test_array_max_items_defaults_to_min_items() -> None:
    space = Space.from_schema(
        obj(w={"type": "array", "minItems": 2, "items": {"type": "number", "min": 0, "max": 1}})
    )
    node = space.root.properties["w"]
    assert (node.min_items, node.max_items) == (2, 2)


# --- nested <-> flat ------------------------------------------------------------------------

ROUND_TRIPS = [
    pytest.param(
        obj(a={"type": "number", "min": 0, "max": 1}, b={"enum": ["x", "y"]}),
        {"a": 0.25, "b": "y"},
        {"a": 0.25, "b": "y"},
        id="flat-object",
    ),
    pytest.param(
        obj(model=MODEL_BRANCHES),
        {"model": {"kind": "svm", "c": 1.5}},
        {"model.$branch": 0, "model.kind": "svm", "model.c": 1.5},
        id="branch-0",
    ),
    pytest.param(
        obj(model=MODEL_BRANCHES),
        {"model": {"kind": "forest", "trees": 120}},
        {"model.$branch": 1, "model.kind": "forest", "model.trees": 120},
        id="branch-1",
    ),
    pytest.param(
        obj(layers=LAYERS),
        {"layers": [{"units": 32, "activation": "relu"}]},
        {"layers.0.units": 32, "layers.0.activation": "relu"},
        id="array-length-1",
    ),
    pytest.param(
        obj(layers=LAYERS),
        {
            "layers": [
                {"units": 32, "activation": "relu"},
                {"units": 64, "activation": "tanh"},
                {"units": 8, "activation": "relu"},
            ]
        },
        {
            "layers.0.units": 32,
            "layers.0.activation": "relu",
            "layers.1.units": 64,
            "layers.1.activation": "tanh",
            "layers.2.units": 8,
            "layers.2.activation": "relu",
        },
        id="array-length-3",
    ),
    pytest.param(
        obj(w={"type": "array", "minItems": 0, "maxItems": 2, "items": {"enum": [1, 2]}}),
        {"w": []},
        {},
        id="empty-array",
    ),
    pytest.param(
        obj(
            layers={
                "type": "array",
                "minItems": 1,
                "maxItems": 2,
                "items": {
                    "oneOf": [
                        obj(
                            kind={"constant": "dense"},
                            units={"type": "integer", "min": 1, "max": 9},
                        ),
                        obj(
                            kind={"constant": "dropout"},
                            rate={"type": "number", "min": 0, "max": 1},
                        ),
                    ]
                },
            }
        ),
        {"layers": [{"kind": "dropout", "rate": 0.5}, {"kind": "dense", "units": 4}]},
        {
            "layers.0.$branch": 1,
            "layers.0.kind": "dropout",
            "layers.0.rate": 0.5,
            "layers.1.$branch": 0,
            "layers.1.kind": "dense",
            "layers.1.units": 4,
        },
        id="branches-inside-array",
    ),
    pytest.param(
        obj(
            model={
                "anyOf": [
                    obj(kind={"constant": "net"}, layers=LAYERS),
                    obj(kind={"constant": "linear"}),
                ]
            }
        ),
        {"model": {"kind": "net", "layers": [{"units": 16, "activation": "tanh"}] * 2}},
        {
            "model.$branch": 0,
            "model.kind": "net",
            "model.layers.0.units": 16,
            "model.layers.0.activation": "tanh",
            "model.layers.1.units": 16,
            "model.layers.1.activation": "tanh",
        },
        id="array-inside-branch",
    ),
    pytest.param(
        {"anyOf": [{"enum": ["off"]}, {"type": "number", "min": 0, "max": 1}]},
        "off",
        {"$branch": 0, "": "off"},
        id="root-branch-0",
    ),
    pytest.param(
        {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "integer", "min": 0, "max": 3},
        },
        [1, 2],
        {"0": 1, "1": 2},
        id="root-array",
    ),
]


@pytest.mark.parametrize(("schema", "nested", "flat"), ROUND_TRIPS)
def test_flatten_and_nested_are_inverses(schema: dict, nested: Any, flat: dict) -> None:
    space = Space.from_schema(schema)
    assert space.flatten(nested) == flat
    assert space.nested(flat) == nested


@pytest.mark.parametrize("letter", ["a", "b", "c"])
def test_branch_directly_inside_a_branch_round_trips(letter: str) -> None:
    # e.g. a `$ref` template that is itself an `anyOf`, used as one branch of another `anyOf`
    inner = {"anyOf": [obj(k={"constant": "a"}), obj(k={"constant": "b"})]}
    space = Space.from_schema(obj(m={"anyOf": [inner, obj(k={"constant": "c"})]}))
    nested = {"m": {"k": letter}}
    assert space.nested(space.flatten(nested)) == nested


# sklearn-style `max_depth`: a number, or None for "unlimited"
MAX_DEPTH = obj(
    max_depth={"anyOf": [{"type": "integer", "min": 1, "max": 20}, {"constant": None}]}
)
OFF_OR_RATE = obj(rate={"anyOf": [{"enum": ["off"]}, {"type": "number", "min": 0, "max": 1}]})


@pytest.mark.parametrize(
    ("schema", "value", "branch"),
    [
        (MAX_DEPTH, 7, 0),
        (MAX_DEPTH, None, 1),
        (OFF_OR_RATE, "off", 0),
        (OFF_OR_RATE, 0.5, 1),
    ],
)
def test_flatten_picks_the_branch_the_value_belongs_to(
    schema: dict, value: Any, branch: int
) -> None:
    space = Space.from_schema(schema)
    (name,) = schema["properties"]
    flat = space.flatten({name: value})
    assert flat[f"{name}.$branch"] == branch
    assert space.nested(flat) == {name: value}


def test_constant_is_kept_in_the_flat_form() -> None:
    space = Space.from_schema(obj(c={"constant": 7}, x={"type": "number", "min": 0, "max": 1}))
    assert space.flatten({"c": 7, "x": 0.5}) == {"c": 7, "x": 0.5}


@pytest.mark.parametrize(
    ("schema", "nested"),
    [
        (obj(model=MODEL_BRANCHES), {"model": {"kind": "boosting", "rounds": 3}}),
        (obj(layers=LAYERS), {"layers": []}),
        (obj(layers=LAYERS), {"layers": [{"units": 8, "activation": "relu"}] * 4}),
    ],
)
def test_flatten_rejects_values_outside_the_space(schema: dict, nested: Any) -> None:
    with pytest.raises(ValueError, match=r"^(model|layers): "):
        Space.from_schema(schema).flatten(nested)


def test_array_length_is_read_from_the_flat_form() -> None:
    space = Space.from_schema(obj(layers=LAYERS, other={"type": "number", "min": 0, "max": 1}))
    flat = {
        "layers.0.units": 8,
        "layers.0.activation": "relu",
        "layers.1.units": 9,
        "layers.1.activation": "tanh",
        "other": 0.1,
    }
    assert space.nested(flat)["layers"] == [
        {"units": 8, "activation": "relu"},
        {"units": 9, "activation": "tanh"},
    ]


# --- cardinality ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (obj(a={"enum": [1, 2]}, b={"enum": ["x", "y", "z"]}), 6),
        (obj(a={"enum": [1, 2]}, x={"type": "number", "min": 0, "max": 1}), math.inf),
        (obj(x={"type": "number", "mode": "normal", "mean": 0, "stddev": 1}), math.inf),
        (obj(n={"type": "integer", "min": 1, "max": 10}), 10),
        (obj(n={"type": "number", "min": 3, "max": 7, "mode": "randint"}), 5),
        (obj(r={"type": "number", "min": 0, "max": 1, "rounding": 0.1}), 11),
        (obj(r={"type": "number", "min": 0, "max": 1, "rounding": 0.25}), 5),
        (obj(a={"enum": [1, 2, 3]}, c={"constant": "k"}), 3),
        (obj(m={"anyOf": [obj(a={"enum": [1, 2]}), obj(b={"enum": [1, 2, 3]})]}), 5),
        # lengths 1..3 of a 2-valued item: 2 + 4 + 8
        (obj(w={"type": "array", "minItems": 1, "maxItems": 3, "items": {"enum": [0, 1]}}), 14),
        # the empty list counts once: 1 + 3 + 9
        (obj(w={"type": "array", "minItems": 0, "maxItems": 2, "items": {"enum": [0, 1, 2]}}), 13),
        (
            obj(
                w={"type": "array", "minItems": 1, "maxItems": 2, "items": {"enum": [0, 1]}},
                b={"enum": [True, False]},
            ),
            12,
        ),
    ],
)
def test_cardinality(schema: dict, expected: float) -> None:
    assert Space.from_schema(schema).cardinality() == expected


# --- defaults -------------------------------------------------------------------------------


def test_default_uses_given_defaults() -> None:
    schema = obj(
        lr={"type": "number", "min": 1e-4, "max": 1, "scaling": "logarithmic", "default": 0.01},
        n={"type": "integer", "min": 1, "max": 10, "default": 3},
        act={"enum": ["relu", "tanh"], "default": "tanh"},
    )
    assert Space.from_schema(schema).default() == {"lr": 0.01, "n": 3, "act": "tanh"}


def test_default_falls_back_to_central_values() -> None:
    schema = obj(
        x={"type": "number", "min": 2, "max": 4},
        lr={"type": "number", "min": 1e-4, "max": 1, "scaling": "exponential"},
        g={"type": "number", "mode": "normal", "mean": 7, "stddev": 2},
        n={"type": "integer", "min": 1, "max": 9},
        act={"enum": ["relu", "tanh"]},
        c={"constant": "k"},
        model=MODEL_BRANCHES,
        layers=LAYERS,
    )
    space = Space.from_schema(schema)
    default = space.default()
    assert default["x"] == 3.0
    assert default["lr"] == pytest.approx(0.01)  # geometric centre on a log scale
    assert default["g"] == 7.0
    assert default["n"] == 5 and type(default["n"]) is int
    assert default["act"] == "relu"
    assert default["model.$branch"] == 0
    assert space.nested(default) == {
        "x": 3.0,
        "lr": pytest.approx(0.01),
        "g": 7.0,
        "n": 5,
        "act": "relu",
        "c": "k",
        "model": {"kind": "svm", "c": pytest.approx(5.05)},
        "layers": [{"units": 132, "activation": "relu"}],  # minItems items
    }


# --- invalid definitions --------------------------------------------------------------------

P = "hyperparameters.properties"


def test_min_above_max_names_the_config_path() -> None:
    schema = obj(lr={"type": "number", "min": 1.0, "max": 0.1})
    assert issues_of(schema) == [f"{P}.lr: min (1.0) must be below max (0.1)"]
    with pytest.raises(ConfigError, match=r"hyperparameters\.properties\.lr: min \(1\.0\)"):
        Space.from_schema(schema)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "number", "min": 1, "max": 1}, f"{P}.x: min (1) must be below max (1)"),
        (
            {"type": "number", "min": 0, "max": 1, "scaling": "logarithmic"},
            f"{P}.x.min: logarithmic scaling needs min above 0, got 0",
        ),
        (
            {"type": "number", "min": -1, "max": 1, "scaling": "exponential"},
            f"{P}.x.min: logarithmic scaling needs min above 0, got -1",
        ),
        (
            {"type": "number", "min": 0, "max": 1, "mode": "gaussian"},
            f"{P}.x.mode: unknown mode 'gaussian'; use uniform, normal or randint",
        ),
        (
            {"type": "number", "min": 1, "max": 2, "scaling": "quadratic"},
            f"{P}.x.scaling: unknown scaling 'quadratic'; use linear or logarithmic",
        ),
        (
            {"type": "number", "min": 0},
            f"{P}.x: a number parameter needs max (or mode 'normal' with mean/stddev)",
        ),
        (
            {"type": "integer"},
            f"{P}.x: a number parameter needs min and max (or mode 'normal' with mean/stddev)",
        ),
        (
            {"type": "number", "mode": "normal", "mean": 0},
            f"{P}.x: mode 'normal' needs 'mean' and 'stddev'",
        ),
        (
            {"type": "number", "mode": "normal", "mean": 0, "stddev": 0},
            f"{P}.x.stddev: must be above 0, got 0",
        ),
        (
            {"type": "number", "min": 0, "max": 1, "rounding": -0.1},
            f"{P}.x.rounding: must be above 0, got -0.1",
        ),
        ({"type": "number", "min": "0", "max": 1}, f"{P}.x.min: must be a number, got '0'"),
        ({"type": "number", "min": 0, "max": True}, f"{P}.x.max: must be a number, got True"),
        (
            {"type": "number", "min": 0, "max": 1, "default": 2},
            f"{P}.x.default: 2 is outside [0, 1]",
        ),
        ({"enum": []}, f"{P}.x: 'enum' must be a non-empty list of the values to try"),
        ({"enum": "abc"}, f"{P}.x: 'enum' must be a non-empty list of the values to try"),
        (
            {"enum": ["a", "b"], "default": "c"},
            f"{P}.x: default 'c' is not one of the enum values ['a', 'b']",
        ),
        (
            {"type": "string"},
            f"{P}.x: a string parameter needs an 'enum' list of the values to try",
        ),
        (
            {"type": "float", "min": 0, "max": 1},
            f"{P}.x: unknown type 'float'; use number, integer, object, array or string",
        ),
        (
            {"min": 0, "max": 1},
            f"{P}.x: cannot tell what this parameter is: give 'type' (number, integer, object, "
            "array), an 'enum', a 'constant', or 'anyOf' branches",
        ),
        ({"anyOf": []}, f"{P}.x: 'anyOf' must be a non-empty list of branches"),
        ({"oneOf": {"a": 1}}, f"{P}.x: 'oneOf' must be a non-empty list of branches"),
        (
            {"type": "array"},
            f"{P}.x: an array parameter needs 'items' (the definition of one item)",
        ),
        (
            {"type": "array", "minItems": 3, "maxItems": 2, "items": {"enum": [1]}},
            f"{P}.x: minItems (3) must not exceed maxItems (2)",
        ),
        (
            {"type": "array", "minItems": -1, "maxItems": 2, "items": {"enum": [1]}},
            f"{P}.x: minItems and maxItems must be whole numbers, 0 or more",
        ),
        (
            {"type": "array", "minItems": 1, "maxItems": 65, "items": {"enum": [1]}},
            f"{P}.x.maxItems: at most 64 items are supported, got 65",
        ),
        ({"type": "object", "properties": [1, 2]}, f"{P}.x.properties: must be an object"),
        ([1, 2], f"{P}.x: expected a parameter definition (an object), got [1, 2]"),
    ],
)
def test_bad_definition_names_its_config_path(spec: Any, expected: str) -> None:
    assert issues_of(obj(x=spec)) == [expected]


@pytest.mark.parametrize("name", ["a.b", "$x"])
def test_bad_parameter_names(name: str) -> None:
    assert issues_of(obj(**{name: {"enum": [1]}})) == [
        f"{P}.{name}: parameter names may not contain '.' or start with '$'"
    ]


def test_problems_inside_branches_and_arrays_name_their_full_path() -> None:
    schema = obj(
        model={
            "oneOf": [
                obj(c={"type": "number", "min": 0.1, "max": 10}),
                obj(trees={"type": "integer", "min": 100, "max": 10}),
            ]
        },
        layers={
            "type": "array",
            "minItems": 1,
            "maxItems": 4,
            "items": obj(units={"type": "integer", "min": 8}),
        },
    )
    assert issues_of(schema) == [
        f"{P}.model.oneOf.1.properties.trees: min (100) must be below max (10)",
        # reported once, not once per possible item
        f"{P}.layers.items.properties.units: a number parameter needs max "
        "(or mode 'normal' with mean/stddev)",
    ]


def test_every_problem_is_reported_at_once() -> None:
    schema = obj(
        lr={"type": "number", "min": 1.0, "max": 0.1},
        momentum={"type": "number", "min": 0, "max": 1, "mode": "gaussian"},
        act={"type": "string"},
        ok={"type": "number", "min": 0, "max": 1},
        layers={"type": "array", "minItems": 5, "maxItems": 2, "items": {"enum": [1]}},
    )
    with pytest.raises(ConfigError) as caught:
        Space.from_schema(schema)
    issues = [str(issue) for issue in caught.value.issues]
    assert issues == [
        f"{P}.lr: min (1.0) must be below max (0.1)",
        f"{P}.momentum.mode: unknown mode 'gaussian'; use uniform, normal or randint",
        f"{P}.act: a string parameter needs an 'enum' list of the values to try",
        f"{P}.layers: minItems (5) must not exceed maxItems (2)",
    ]
    message = str(caught.value)
    assert "4 problems" in message
    assert all(issue in message for issue in issues)


def test_error_issue_carries_path_and_message_separately() -> None:
    with pytest.raises(ConfigError) as caught:
        Space.from_schema(obj(lr={"type": "number", "min": 1.0, "max": 0.1}))
    (issue,) = caught.value.issues
    assert issue.path == f"{P}.lr"
    assert issue.message == "min (1.0) must be below max (0.1)"


def test_sample_draws_points_of_the_space_from_the_prior() -> None:
    space = Space.from_schema(
        {
            "type": "object",
            "properties": {
                "lr": {"type": "number", "min": 1e-4, "max": 1.0, "scaling": "logarithmic"},
                "k": {"type": "number", "min": 2, "max": 4, "mode": "randint"},
                "model": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {"depth": {"type": "integer", "min": 1, "max": 3}},
                        },
                        {"constant": "linear"},
                    ]
                },
                "layers": {
                    "type": "array",
                    "minItems": 0,
                    "maxItems": 2,
                    "items": {"enum": ["a", "b"]},
                },
            },
        }
    )
    draws = space.sample(np.random.default_rng(0), 2000)
    assert all(space.fits(flat) for flat in draws)
    assert draws == space.sample(np.random.default_rng(0), 2000)
    assert 10**-2.2 < statistics.median(f["lr"] for f in draws) < 10**-1.8  # log-uniform
    assert {f["k"] for f in draws} == {2, 3, 4}
    assert {f["model.$branch"] for f in draws} == {0, 1}
    assert {len(space.nested(f)["layers"]) for f in draws} == {0, 1, 2}
