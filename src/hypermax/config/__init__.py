"""Loading and validating search configs.

The names load on first use: ``hypermax.config.schema`` alone is cheap, the loader brings the
validator and the search space.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypermax._lazy import lazy_attributes

if TYPE_CHECKING:
    from hypermax.config.loader import config_from_dict, load_config, read_document
    from hypermax.config.model import Config, FunctionConfig, SearchSettings
    from hypermax.config.schema import config_schema

_LAZY = {
    "config_from_dict": "hypermax.config.loader",
    "load_config": "hypermax.config.loader",
    "read_document": "hypermax.config.loader",
    "Config": "hypermax.config.model",
    "FunctionConfig": "hypermax.config.model",
    "SearchSettings": "hypermax.config.model",
    "config_schema": "hypermax.config.schema",
}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "Config",
    "FunctionConfig",
    "SearchSettings",
    "config_from_dict",
    "config_schema",
    "load_config",
    "read_document",
]
