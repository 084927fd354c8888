"""The JSON Schema of config files, readable without loading the validator or the search
space (``hypermax schema`` prints it at once)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def config_schema() -> dict[str, Any]:
    """The JSON Schema of a config file (what ``hypermax schema`` prints)."""
    text = resources.files("hypermax.config").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)
