"""The ``executable`` executor's settings: the program a trial runs and how it gets the
parameters. Cheap to import (the config loader reads them); the executor is ``executable.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypermax.errors import ConfigIssue
from hypermax.execution.base import ExecutorSettings
from hypermax.settings import spec


@dataclass(frozen=True)
class ExecutableSettings(ExecutorSettings):
    """A program in any language (command), one process per trial, run from the config's
    folder."""

    command: str | list[str] | None = field(
        default=None,
        metadata=spec(
            "The program and its arguments, run from the config's folder: a list, or one "
            "string split as a shell would.",
            minItems=1,
        ),
    )
    arguments: bool = field(
        default=False, metadata=spec("Also pass the parameters as --name=value arguments.")
    )

    def issues(self, where: str = "function") -> list[ConfigIssue]:
        if self.command:
            return []
        example = '["node", "model.js"]'
        return [ConfigIssue(f"{where}.command", f"missing: the program to run, e.g. {example}")]
