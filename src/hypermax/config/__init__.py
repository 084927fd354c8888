"""Loading and validating search configs."""

from hypermax.config.loader import config_from_dict, config_schema, load_config, read_document
from hypermax.config.model import Config, FunctionConfig, SearchSettings

__all__ = [
    "Config",
    "FunctionConfig",
    "SearchSettings",
    "config_from_dict",
    "config_schema",
    "load_config",
    "read_document",
]
