"""The JSON Schema of config files.

``schema.json`` holds the config's own sections; each method's settings section
(``search.tpe``, ``search.grid`` ...) comes from the method's ``Settings`` declaration. Reading the
general schema loads nothing else; a method's section imports that method's module only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from hypermax.optimizers.base import ALIASES, available_methods, canonical_method, settings_class
from hypermax.settings import schema_of

SEARCH_PROPERTIES = ("$defs", "search", "properties")
ANY_SECTION: dict[str, Any] = {"type": "object"}  # a section checked where it is given


@cache
def general_schema() -> dict[str, Any]:
    """``schema.json``: every section but the methods' settings. Shared: do not change it."""
    text = resources.files("hypermax.config").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a config file (what ``hypermax schema`` prints): the general schema
    with each method's settings section as the method declares it."""
    return with_method_sections(method_names())


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


def nested(schema: Mapping[str, Any], path: Sequence[str]) -> Any:
    for key in path:
        schema = schema[key]
    return schema


def replaced(schema: Mapping[str, Any], path: Sequence[str], value: Any) -> dict[str, Any]:
    """A copy of ``schema`` with the value at ``path`` (keys of nested objects) replaced; the
    rest is shared, not copied."""
    head, *rest = path
    return {**schema, head: replaced(schema[head], rest, value) if rest else value}
