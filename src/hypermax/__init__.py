"""hypermax: hyperparameter optimization from one config file.

The public API: ``optimize`` for a search over a Python callable, ``Search`` and ``load_config``
for config-file searches, and the types they hand back (``SearchResult``, ``Trial``,
``TrialStatus``, the ``SearchEvent`` listeners hear, the ``Executor`` plug-in point). They load
on first use, so that ``hypermax --version`` and a model that only calls ``hypermax.report`` do
not import the search machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypermax._lazy import lazy_attributes
from hypermax.errors import ConfigError
from hypermax.reporting import TrialPruned, report

if TYPE_CHECKING:
    from hypermax.api import optimize
    from hypermax.config import Config, load_config
    from hypermax.events import EventKind, SearchEvent
    from hypermax.execution import Executor
    from hypermax.result import SearchResult, TrialsFailing
    from hypermax.search import Search
    from hypermax.trial import Trial, TrialStatus

__version__ = "0.1.0"

_LAZY = {
    "optimize": "hypermax.api",
    "Config": "hypermax.config",
    "load_config": "hypermax.config",
    "Search": "hypermax.search",
    "SearchResult": "hypermax.result",
    "TrialsFailing": "hypermax.result",
    "Trial": "hypermax.trial",
    "TrialStatus": "hypermax.trial",
    "SearchEvent": "hypermax.events",
    "EventKind": "hypermax.events",
    "Executor": "hypermax.execution",
}

__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "Config",
    "ConfigError",
    "EventKind",
    "Executor",
    "Search",
    "SearchEvent",
    "SearchResult",
    "Trial",
    "TrialPruned",
    "TrialStatus",
    "TrialsFailing",
    "__version__",
    "load_config",
    "optimize",
    "report",
]
