"""The commands that start a user off: init writes a working search, schema prints the
config format."""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

from hypermax.config.schema import config_schema
from hypermax.errors import ConfigError, ConfigIssue


def init(options: argparse.Namespace) -> int:
    target: Path = options.directory
    target.mkdir(parents=True, exist_ok=True)
    templates = resources.files("hypermax").joinpath("templates")
    names = ("search.json", "model.py")
    existing = [n for n in names if (target / n).exists()]
    if existing and not options.force:
        raise ConfigError(
            ConfigIssue(
                "init",
                f"{', '.join(existing)} already exist in {target}; use --force to overwrite",
            )
        )
    for name in names:
        (target / name).write_text(templates.joinpath(name).read_text("utf-8"), "utf-8")
    print(
        f"Wrote {target / 'search.json'} and {target / 'model.py'}. "
        f"Run: hypermax {target / 'search.json'}"
    )
    return 0


def schema(options: argparse.Namespace) -> int:
    print(json.dumps(config_schema(), indent=2))
    return 0
