"""The optimizer plug-in point: ask/tell over flat parameter sets.

An implementation promises:

- ``suggest(history, n)`` returns ``n`` flat parameter sets that fit the space; ``history`` holds
  every trial so far, finished and still running, and running ones must be taken into account so
  that parallel suggestions differ.
- The same ``seed`` and the same history give the same suggestions, across processes, so that a
  resumed search continues as it would have.
- It keeps no state that cannot be rebuilt from the history: the runner may create a fresh
  optimizer at any time (on resume, from ``hypermax sample``).
- It knows nothing of processes, files or UIs.

A method declares its settings (``search.<method>``) as a nested frozen dataclass ``Settings``
(see ``hypermax.settings``): the config loader checks a section against the schema made from
it, and the optimizer reads its typed ``settings``. A new method is its own module and its line
in ``BUILT_IN``; nothing else names its settings.
"""

from __future__ import annotations

import difflib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.settings import parse
from hypermax.space import Flat, Space
from hypermax.trial import Trial

_REGISTRY: dict[str, type[Optimizer]] = {}
ALIASES = {"abh": "hyperband"}  # the original Hypermax's names
# The built-in methods by the module that registers them, imported when a method is first
# used: naming or checking a method loads no optimizer library (start-up time).
BUILT_IN = {
    "atpe": "hypermax.optimizers._hyperopt",
    "auto": "hypermax.optimizers.auto",
    "bayesian": "hypermax.optimizers.bayesian",
    "evolution": "hypermax.optimizers.evolution",
    "grid": "hypermax.optimizers.grid",
    "hyperband": "hypermax.optimizers.hyperband",
    "optuna-gp": "hypermax.optimizers.optuna_gp",
    "random": "hypermax.optimizers._hyperopt",
    "tpe": "hypermax.optimizers._hyperopt",
}


@dataclass(frozen=True)
class MethodSettings:
    """A method's settings (``search.<method>``); this one takes none."""


SettingsInput = MethodSettings | Mapping[str, Any] | None


class Optimizer(ABC):
    """Suggests parameter sets given the trials so far.

    ``Settings`` declares the method's settings; ``settings`` holds this instance's.
    """

    name: ClassVar[str]
    uses_seed: ClassVar[bool] = True  # False for methods whose order does not depend on it
    Settings: ClassVar[type[MethodSettings]] = MethodSettings
    settings: MethodSettings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        """``settings``: a ``Settings`` object, or a mapping checked as a config section."""
        self.space = space
        entropy = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
        self.seed = entropy % 2**31 if seed is None else int(seed)
        where = f"search.{getattr(self, 'name', type(self).__name__)}"
        self.settings = parse(self.Settings, settings, where)

    @abstractmethod
    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        """Return ``n`` new flat parameter sets."""

    def describe(self) -> str:
        """The method as a user should read it when the search starts."""
        return self.name

    def prepare(self, flat: Flat) -> Flat:
        """A parameter set chosen outside the method (a default, ``search.initial``) as the
        model should run it: methods that schedule budgets add one."""
        return flat

    def stateless(self) -> None:
        """Told that this instance will not see one growing history (a wrapper creates it for
        one call, or rewrites earlier losses from call to call): a method that carries work
        from one call to the next stops doing so."""
        return None  # nothing is carried by default

    def seed_for(self, history: Sequence[Trial], offset: int = 0) -> int:
        """A seed that depends only on the base seed and how far the search has come."""
        sequence = np.random.SeedSequence([self.seed, len(history), offset])
        return int(sequence.generate_state(1)[0] % 2**31)


def register(name: str) -> Callable[[type[Optimizer]], type[Optimizer]]:
    """Class decorator that makes an optimizer available as ``search.method: name``."""

    def add(cls: type[Optimizer]) -> type[Optimizer]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def available_methods() -> list[str]:
    return sorted(set(_REGISTRY) | set(BUILT_IN))


def canonical_method(method: str) -> str:
    return ALIASES.get(method, method)


def method_issue(method: str) -> ConfigIssue | None:
    """The problem with ``search.method: method``, or None when it names an optimizer."""
    if canonical_method(method) in available_methods():
        return None
    hint = difflib.get_close_matches(method, available_methods(), n=1)
    advice = f"did you mean {hint[0]!r}? " if hint else ""
    return ConfigIssue(
        "search.method",
        f"unknown method {method!r}; {advice}available: {', '.join(available_methods())}",
    )


def create_optimizer(
    method: str, space: Space, seed: int | None = None, settings: SettingsInput = None
) -> Optimizer:
    """Instantiate the optimizer registered as ``method`` with ``settings`` (its ``Settings``,
    or a mapping checked like the config's ``search.<method>``; none: the defaults); a clear
    error names the choices."""
    issue = method_issue(method)
    if issue is not None:
        raise ConfigError(issue)
    try:
        return optimizer_class(method)(space, seed=seed, settings=settings)
    except ConfigError:
        raise
    except ValueError as error:  # settings that contradict each other
        raise ConfigError(ConfigIssue(f"search.{canonical_method(method)}", str(error))) from None


def settings_class(method: str) -> type[MethodSettings]:
    """The settings declaration of ``method`` (a name ``method_issue`` accepts)."""
    return optimizer_class(method).Settings


def optimizer_class(method: str) -> type[Optimizer]:
    """The class registered as ``method`` (a name ``method_issue`` accepts), its module
    imported on first use."""
    name = canonical_method(method)
    if name not in _REGISTRY:
        importlib.import_module(BUILT_IN[name])
    return _REGISTRY[name]
