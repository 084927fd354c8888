"""The JSON Schema of config files.

``schema.json`` holds the config's own sections; each method's settings section
(``search.tpe``, ``search.grid`` ...) comes from the method's ``Settings`` declaration, and the
keys of each executor (``function`` with its ``type``) from the executor's. Reading the general
schema loads nothing else; a method's section imports that method's module only, an executor's
keys its (cheap) settings module only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from hypermax.execution import DEFAULT_EXECUTOR, available_executors, executor_settings
from hypermax.optimizers.base import ALIASES, available_methods, canonical_method, settings_class
from hypermax.settings import schema_of

SEARCH_PROPERTIES = ("$defs", "search", "properties")
FUNCTION = ("$defs", "function")
ANY_SECTION: dict[str, Any] = {"type": "object"}  # a section checked where it is given


@cache
def general_schema() -> dict[str, Any]:
    """``schema.json``: every section but the methods' settings. Shared: do not change it."""
    text = resources.files("hypermax.config").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a config file (what ``hypermax schema`` prints): the general schema
    with each method's settings section as the method declares it, and the ``function``
    section with each executor's keys as the executor declares them."""
    return replaced(with_method_sections(method_names()), FUNCTION, function_schema())


def method_names() -> list[str]:
    """Every name a ``search`` section may have for a method's settings (aliases too)."""
    return sorted(set(available_methods()) | set(ALIASES))


def method_schema(name: str) -> dict[str, Any]:
    """The schema of ``search.<name>``, made from the method's ``Settings``."""
    schema = schema_of(settings_class(name))
    if canonical_method(name) != name:
        schema["description"] = f"{name} is another name for {canonical_method(name)}: " + (
            schema.get("description") or "its settings."
        )
    return schema


def with_method_sections(detailed: Iterable[str]) -> dict[str, Any]:
    """The general schema with a section for every method name: the method's own schema for
    the names in ``detailed``, an object for the others (it imports only those methods)."""
    wanted = set(detailed)
    sections = {
        name: method_schema(name) if name in wanted else ANY_SECTION for name in method_names()
    }
    properties = nested(general_schema(), SEARCH_PROPERTIES)
    return replaced(general_schema(), SEARCH_PROPERTIES, {**properties, **sections})


def function_schema() -> dict[str, Any]:
    """``function`` as ``hypermax schema`` prints it: its ``type`` one of the executors, and
    for each type the keys it takes (``executor_schema``)."""
    shared = nested(general_schema(), FUNCTION)
    kinds = available_executors()
    return {
        "type": "object",
        "description": shared["description"],
        "properties": {"type": type_property(kinds)},
        "allOf": [{"if": _of_type(kind), "then": executor_schema(kind)} for kind in kinds],
    }


def _of_type(kind: str) -> dict[str, Any]:
    """A section of type ``kind`` (the default type: also a section that names none)."""
    condition: dict[str, Any] = {"properties": {"type": {"const": kind}}}
    if kind != DEFAULT_EXECUTOR:
        condition["required"] = ["type"]
    return condition


def type_property(kinds: Sequence[str]) -> dict[str, Any]:
    """``function.type``: one of ``kinds``."""
    shared = nested(general_schema(), (*FUNCTION, "properties", "type"))
    return {**shared, "enum": list(kinds), "default": DEFAULT_EXECUTOR}


def executor_schema(kind: str) -> dict[str, Any]:
    """The ``function`` section of type ``kind``: the keys every executor shares and those its
    ``Settings`` declares, and no other."""
    shared = nested(general_schema(), FUNCTION)
    own = schema_of(executor_settings(kind))
    kind_property = {**shared["properties"]["type"], "const": kind}
    properties = {**shared["properties"], "type": kind_property, **own["properties"]}
    schema = {
        "type": "object",
        "additionalProperties": False,
        "description": f"type {kind}: {own.get('description') or 'the keys every type takes.'}",
        "properties": properties,
    }
    if own.get("required"):
        schema["required"] = own["required"]
    return schema


def shared_function_schema(kinds: Sequence[str], closed: bool = True) -> dict[str, Any]:
    """The ``function`` section with only the keys every executor shares checked, its ``type``
    one of ``kinds``; not ``closed``: other keys let through."""
    shared = nested(general_schema(), FUNCTION)
    schema = {**shared, "properties": {**shared["properties"], "type": type_property(kinds)}}
    schema.pop("$comment")
    if not closed:
        schema.pop("additionalProperties")
    return schema


def executor_keys() -> dict[str, list[str]]:
    """Each key an executor declares, with the types that take it (imports every executor's
    settings module)."""
    found: dict[str, list[str]] = {}
    for kind in available_executors():
        for key in schema_of(executor_settings(kind))["properties"]:
            found.setdefault(key, []).append(kind)
    return found


def nested(schema: Mapping[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        schema = schema[key]
    return schema


def replaced(schema: Mapping[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    """A copy of ``schema`` with the value at ``path`` (keys of nested objects) replaced; the
    rest is shared, not copied."""
    head, *rest = path
    return {**schema, head: replaced(schema[head], rest, value) if rest else value}
