"""hypermax: hyperparameter optimization from one config file.

The public API: ``optimize`` for a search over a Python callable, ``Search`` and ``load_config``
for config-file searches.
"""

from hypermax.api import optimize
from hypermax.config import Config, load_config
from hypermax.errors import ConfigError
from hypermax.reporting import TrialPruned, report
from hypermax.search import Search, SearchResult

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Search",
    "SearchResult",
    "TrialPruned",
    "__version__",
    "load_config",
    "optimize",
    "report",
]
