"""Executors: where and how trials run, one plug-in per ``function.type``.

Each executor module registers a factory under its type with ``register_executor``; this
registry names the module of each built-in type, so that a config imports only the executor it
uses (and a model's ``import hypermax`` none). Adding an executor is its module, its tests and
one line in ``EXECUTOR_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution.base import (
    Executor,
    OutcomeKind,
    Report,
    Sample,
    TrialOutcome,
    TrialRequest,
)

if TYPE_CHECKING:
    from hypermax.config import Config, FunctionConfig
    from hypermax.execution.monitor import Limits
    from hypermax.execution.processes import Ledger

# function.type -> the module that registers it
EXECUTOR_MODULES = {
    "python_function": "hypermax.execution.local",
    "executable": "hypermax.execution.executable",
}

# (config, the Python callable the API was given or None, the trials' process ledger)
ExecutorFactory = Callable[["Config", "Callable[[Any], Any] | None", "Ledger"], Executor]

_FACTORIES: dict[str, ExecutorFactory] = {}


def register_executor(kind: str) -> Callable[[ExecutorFactory], ExecutorFactory]:
    """Make ``factory`` the executor of configs whose ``function.type`` is ``kind``."""

    def add(factory: ExecutorFactory) -> ExecutorFactory:
        _FACTORIES[kind] = factory
        return factory

    return add


def executor_for(
    config: Config,
    function: Callable[[Any], Any] | None = None,
    results_dir: Path | None = None,
) -> Executor:
    """The executor of a config's ``function`` section; a Python callable (``function``, from
    the API) always runs in local workers. It lists the processes of trials in
    ``results_dir`` (the config's by default), for a resumed search to end those a killed one
    left running."""
    from hypermax.execution.processes import LEDGER_NAME, Ledger

    kind = "python_function" if function is not None or config.function is None else None
    kind = kind or config.function.type  # type: ignore[union-attr]
    if kind not in _FACTORIES:
        if kind not in EXECUTOR_MODULES:
            known = ", ".join(sorted(EXECUTOR_MODULES))
            raise ConfigError(ConfigIssue("function.type", f"{kind!r} is not one of {known}"))
        importlib.import_module(EXECUTOR_MODULES[kind])
    ledger = Ledger((results_dir or config.results_dir) / LEDGER_NAME)
    return _FACTORIES[kind](config, function, ledger)


def limits_for(spec: FunctionConfig) -> Limits:
    """The kill limits and log cap a ``function`` section sets."""
    from hypermax.execution.monitor import Limits

    return Limits(
        max_time=spec.auto_kill_max_time,
        max_ram=spec.auto_kill_max_ram,
        max_system_ram=spec.auto_kill_max_system_ram,
        max_gpu_ram=spec.auto_kill_max_gpu_ram,
        max_log=spec.max_log_size,
    )


__all__ = [
    "EXECUTOR_MODULES",
    "Executor",
    "OutcomeKind",
    "Report",
    "Sample",
    "TrialOutcome",
    "TrialRequest",
    "executor_for",
    "limits_for",
    "register_executor",
]
