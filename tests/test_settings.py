"""Settings declared as a dataclass: the schema made from it, and the typed object built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator

from hypermax.errors import ConfigError
from hypermax.settings import build, parse, schema_of, spec


@dataclass(frozen=True)
class Inner:
    """A nested section."""

    depth: int = field(default=2, metadata=spec("How deep.", minimum=1))


@dataclass(frozen=True)
class Example:
    name: str  # no default: required
    share: float = field(default=0.5, metadata=spec("A share.", exclusiveMaximum=1))
    on: bool = True
    mode: Literal["fast", "slow"] = "fast"
    limit: int | None = field(default=None, metadata=spec(minimum=0))
    weights: Mapping[str, float] = field(default_factory=dict)
    tags: Sequence[str] = ()
    anything: Any = None
    inner: Inner = field(default_factory=Inner, metadata=spec(key="inner-section"))


def test_the_schema_follows_the_annotations_constraints_and_defaults() -> None:
    schema = schema_of(Example)
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False and schema["required"] == ["name"]
    assert "description" not in schema  # dataclass's own signature docstring is not one
    assert schema["properties"] == {
        "name": {"type": "string"},
        "share": {
            "type": "number",
            "exclusiveMaximum": 1,
            "description": "A share.",
            "default": 0.5,
        },
        "on": {"type": "boolean", "default": True},
        "mode": {"enum": ["fast", "slow"], "default": "fast"},
        "limit": {"type": "integer", "minimum": 0},  # None: not given; null is refused
        "weights": {"type": "object", "additionalProperties": {"type": "number"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "anything": {},
        "inner-section": {
            "type": "object",
            "additionalProperties": False,
            "description": "A nested section.",
            "properties": {
                "depth": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "How deep.",
                    "default": 2,
                }
            },
        },
    }


def test_a_type_without_a_json_form_is_refused() -> None:
    @dataclass(frozen=True)
    class Odd:
        when: complex = 1j

    with pytest.raises(TypeError, match="no JSON form"):
        schema_of(Odd)


def test_build_fills_the_defaults_and_builds_nested_sections() -> None:
    weights = {"a": 1.0}
    built = build(Example, {"name": "n", "weights": weights, "inner-section": {"depth": 4}})
    assert built == Example(name="n", weights={"a": 1.0}, inner=Inner(depth=4))
    assert built.weights is not weights  # the config's data is not shared


def test_parse_checks_a_mapping_and_names_each_problem_under_where() -> None:
    with pytest.raises(ConfigError) as caught:
        parse(Example, {"share": 1, "inner-section": {"depht": 3}}, "plugin.example")
    assert [str(issue) for issue in caught.value.issues] == [
        "plugin.example: missing required key 'name'",
        "plugin.example.inner-section.depht: unknown key 'depht'; did you mean 'depth'?",
        "plugin.example.share: 1 is greater than or equal to the maximum of 1",
    ]
    given = Example(name="n")
    assert parse(Example, given, "x") is given
    assert parse(Inner, None, "x") == Inner()
    with pytest.raises(ConfigError, match="x: must be Inner or a mapping, got 3"):
        parse(Inner, 3, "x")


@dataclass(frozen=True)
class Either:
    command: str | list[str] | None = field(default=None, metadata=spec(minItems=1))


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"command": 5}, "x.command: must be of type string or array, got int 5"),
        ({"command": ["a", 1]}, "x.command.1: must be of type string, got int 1"),
        ({"command": []}, "x.command: [] should be non-empty"),
    ],
)
def test_a_value_of_several_types_is_explained_by_the_type_it_has(
    given: dict[str, Any], problem: str
) -> None:
    """Not 'is not valid under any of the given schemas': the types it may have, or the
    problem inside the branch of its type, where it is."""
    with pytest.raises(ConfigError) as caught:
        parse(Either, given, "x")
    assert [str(issue) for issue in caught.value.issues] == [problem]
