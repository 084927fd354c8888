"""Settings declared once: a frozen dataclass whose field defaults are the defaults and whose
field metadata (``spec(...)``) holds the description and the JSON-Schema constraints.

From such a class come the JSON-Schema fragment that checks a config section (``schema_of``)
and the typed object built from the section (``build``, ``parse``), so a plug-in declares its
settings in one place and the config loader keeps no copy of them::

    @dataclass(frozen=True)
    class Settings:
        gamma: float = field(default=0.25, metadata=spec("Share of good trials.", maximum=1))

A field's JSON type comes from its annotation: ``bool``, ``int``, ``float``, ``str``, a
``Literal``, ``Mapping[str, X]``, ``Sequence[X]``/``list[X]``/``tuple[X, ...]``, another settings
dataclass (a nested section), and ``X | None``, where ``None`` is the default meaning "not given"
(a config cannot write null). Validating imports jsonschema only when a plain mapping is
checked, so declaring settings costs nothing at start-up.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from hypermax.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

T = TypeVar("T")


def spec(description: str = "", *, key: str | None = None, **constraints: Any) -> dict[str, Any]:
    """A settings field's metadata: its description, JSON-Schema ``constraints`` on its value
    (``minimum=1``, ``exclusiveMaximum=1``, ...; they override what the annotation gives) and,
    where the config's key is no Python name (``optuna-gp``), that key."""
    return {"description": description, "key": key, "constraints": constraints}


def key_of(item: dataclasses.Field[Any]) -> str:
    """The config key of a settings field."""
    return item.metadata.get("key") or item.name


def schema_of(cls: type) -> dict[str, Any]:
    """The JSON-Schema fragment of a settings dataclass: an object of its fields' keys (each
    typed from its annotation, with its constraints, description and plain default), and no
    other key; fields without a default are required."""
    hints = get_type_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for item in dataclasses.fields(cls):
        fragment = {**_type_schema(hints[item.name]), **item.metadata.get("constraints", {})}
        if item.metadata.get("description"):
            fragment["description"] = item.metadata["description"]
        if isinstance(item.default, (bool, int, float, str)):
            fragment["default"] = item.default
        if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            required.append(key_of(item))
        properties[key_of(item)] = fragment
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False}
    doc = cls.__doc__ or ""
    if doc and not doc.startswith(f"{cls.__name__}("):  # not the signature dataclass writes
        schema["description"] = " ".join(doc.split())
    schema["properties"] = properties
    if required:
        schema["required"] = required
    return schema


def _type_schema(annotation: Any) -> dict[str, Any]:
    origin, arguments = get_origin(annotation), get_args(annotation)
    if annotation is Any:
        return {}
    if origin in (Union, types.UnionType):
        present = [argument for argument in arguments if argument is not type(None)]
        if len(present) == 1:  # None: not given
            return _type_schema(present[0])
        return {"anyOf": [_type_schema(argument) for argument in present]}
    if origin is Literal:
        return {"enum": list(arguments)}
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return schema_of(annotation)
    plain = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if annotation in plain:
        return {"type": plain[annotation]}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _type_schema(arguments[1])}
    if origin in (list, tuple, Sequence):
        return {"type": "array", "items": _type_schema(arguments[0])}
    raise TypeError(f"a settings field cannot be of type {annotation!r}: it has no JSON form")


def build(cls: type[T], data: Mapping[str, Any]) -> T:
    """The settings object of a section that ``schema_of(cls)`` accepts: the values given
    (nested sections built in turn, containers copied), the defaults for the rest."""
    hints = get_type_hints(cls)
    values = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        if key_of(item) not in data:
            continue
        value = data[key_of(item)]
        nested = hints[item.name]
        if isinstance(nested, type) and dataclasses.is_dataclass(nested):
            values[item.name] = build(nested, value)
        else:
            values[item.name] = copy.deepcopy(value)
    return cls(**values)


def parse(cls: type[T], data: object, where: str) -> T:
    """Settings of ``cls`` from what a caller gave: the object itself, nothing (the defaults),
    or a mapping, checked against ``schema_of(cls)``; anything else, or a problem, raises a
    ConfigError whose paths start at ``where`` (``search.tpe``)."""
    if isinstance(data, cls):
        return data
    if data is None:
        return cls()
    if not isinstance(data, Mapping):
        raise ConfigError(
            ConfigIssue(where, f"must be {cls.__qualname__} or a mapping, got {data!r:.200}")
        )
    issues = validation_issues(data, schema_of(cls), where.split(".") if where else [])
    if issues:
        raise ConfigError(issues)
    return build(cls, data)


def validation_issues(
    instance: Any, schema: Mapping[str, Any], prefix: Sequence[str | int] = ()
) -> list[ConfigIssue]:
    """Every way ``instance`` breaks ``schema``, ordered by where, each a message that says what
    to change; paths start with ``prefix``."""
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(instance)
    ordered = sorted(errors, key=lambda error: list(map(str, error.absolute_path)))
    return [issue for error in ordered for issue in explain(error, prefix)]


def _dotted(parts: Any) -> str:
    return ".".join(str(part) for part in parts)


def explain(error: ValidationError, prefix: Sequence[str | int] = ()) -> Iterator[ConfigIssue]:
    """Turn a jsonschema error into messages that say what to change."""
    from hypermax.space import shown  # numpy with it: settings are declared without either

    where = [*prefix, *error.absolute_path]
    path = _dotted(where)
    schema: Any = error.schema
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = list(schema.get("properties", {}))
        for key in error.instance:
            if key in allowed:
                continue
            hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            if hint:
                advice = f"did you mean {hint[0]!r}?"
            else:
                advice = f"known keys: {', '.join(allowed)}" if allowed else "it takes no keys"
            yield ConfigIssue(_dotted([*where, key]), f"unknown key {shown(key)}; {advice}")
    elif error.validator == "required":
        yield ConfigIssue(path, f"missing required key {error.message.split(chr(39))[1]!r}")
    elif error.validator == "enum":
        options = ", ".join(repr(value) for value in error.validator_value)  # type: ignore[union-attr]
        yield ConfigIssue(path, f"{shown(error.instance)} is not allowed; use one of {options}")
    elif error.validator == "pattern" and where and where[-1] == "name":
        yield ConfigIssue(
            path,
            f"{shown(error.instance)} cannot name a folder: use letters, digits, '_', '-' and "
            "'.', and not '.' or '..' alone",
        )
    elif error.validator in ("anyOf", "oneOf") and error.context:
        # a value of no branch's type: say which types fit; else the problems in the branch
        # (or branches) of its type, named where they are (command.0, not command)
        mismatched: list[ValidationError] = []
        inside: list[ValidationError] = []
        for sub in error.context:
            wrong_type = sub.validator == "type" and len(sub.relative_schema_path) == 2
            (mismatched if wrong_type else inside).append(sub)
        if inside:
            for sub in inside:
                yield from explain(sub, prefix)
        else:
            kinds = " or ".join(str(sub.validator_value) for sub in mismatched)
            yield ConfigIssue(
                path,
                f"must be of type {kinds}, got {type(error.instance).__name__} "
                f"{shown(error.instance)}",
            )
    elif error.validator == "type":
        yield ConfigIssue(
            path,
            f"must be of type {error.validator_value}, got {type(error.instance).__name__} "
            f"{shown(error.instance)}",
        )
    else:
        yield ConfigIssue(path, error.message)
