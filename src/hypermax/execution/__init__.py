"""Executors: where and how trials run, one plug-in per ``function.type``.

Each executor module registers a factory under its type with ``register_executor``, and each
type declares its own keys of the ``function`` section as an ``ExecutorSettings`` subclass. This
registry names, for each built-in type, the module of its executor and the (cheap) module of
its settings, so that checking a config imports only its type's settings, running it only its
executor (and a model's ``import hypermax`` neither). Adding an executor is its module(s), its
tests and one line in ``EXECUTOR_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution.base import (
    Executor,
    ExecutorSettings,
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


class BuiltIn(NamedTuple):
    """Where a built-in executor lives: ``executor`` is the module that registers its factory
    (imported when a search runs), ``settings`` its ``ExecutorSettings`` as ``module:Class``
    in a module cheap to import (read when a config is checked)."""

    executor: str
    settings: str


DEFAULT_EXECUTOR = "python_function"  # function.type when a config gives none
# function.type -> its modules
EXECUTOR_MODULES = {
    "python_function": BuiltIn(
        "hypermax.execution.local", "hypermax.execution.python_function:PythonFunctionSettings"
    ),
    "executable": BuiltIn(
        "hypermax.execution.executable", "hypermax.execution.program:ExecutableSettings"
    ),
}

# (config, the Python callable the API was given or None, the trials' process ledger)
ExecutorFactory = Callable[["Config", "Callable[[Any], Any] | None", "Ledger"], Executor]

_FACTORIES: dict[str, ExecutorFactory] = {}
_SETTINGS: dict[str, type[ExecutorSettings]] = {}


def register_executor(
    kind: str, settings: type[ExecutorSettings] | None = None
) -> Callable[[ExecutorFactory], ExecutorFactory]:
    """Make ``factory`` the executor of configs whose ``function.type`` is ``kind``, taking the
    keys ``settings`` declares (a built-in's are named in ``EXECUTOR_MODULES``; none: only
    the keys every executor shares)."""

    def add(factory: ExecutorFactory) -> ExecutorFactory:
        _FACTORIES[kind] = factory
        if settings is not None:
            _SETTINGS[kind] = settings
        return factory

    return add


def available_executors() -> list[str]:
    """Every ``function.type`` a config may name."""
    return sorted(set(_FACTORIES) | set(EXECUTOR_MODULES))


def executor_settings(kind: str) -> type[ExecutorSettings]:
    """The settings declaration of the executor ``kind`` (one of ``available_executors``),
    loaded without the executor itself."""
    if kind not in _SETTINGS:
        if kind not in EXECUTOR_MODULES:
            return ExecutorSettings
        module, _, name = EXECUTOR_MODULES[kind].settings.partition(":")
        _SETTINGS[kind] = getattr(importlib.import_module(module), name)
    return _SETTINGS[kind]


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
            known = ", ".join(available_executors())
            raise ConfigError(ConfigIssue("function.type", f"{kind!r} is not one of {known}"))
        importlib.import_module(EXECUTOR_MODULES[kind].executor)
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
    "DEFAULT_EXECUTOR",
    "EXECUTOR_MODULES",
    "BuiltIn",
    "Executor",
    "ExecutorSettings",
    "OutcomeKind",
    "Report",
    "Sample",
    "TrialOutcome",
    "TrialRequest",
    "available_executors",
    "executor_for",
    "executor_settings",
    "limits_for",
    "register_executor",
]
