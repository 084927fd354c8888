"""Search methods behind one ask/tell interface; ``search.method`` picks one by name.

The method classes load on first use (each module imports its own library: hyperopt,
scikit-learn, optuna, cmaes), so importing this package stays cheap.
"""

from __future__ import annotations

from hypermax._lazy import lazy_attributes
from hypermax.optimizers.base import (
    Optimizer,
    available_methods,
    canonical_method,
    create_optimizer,
    method_issue,
    optimizer_class,
    register,
)

_CLASSES = {
    "ATPE": "_hyperopt",
    "TPE": "_hyperopt",
    "RandomSearch": "_hyperopt",
    "Auto": "auto",
    "Bayesian": "bayesian",
    "Evolution": "evolution",
    "GridSearch": "grid",
    "Hyperband": "hyperband",
    "OptunaGP": "optuna_gp",
}


__getattr__ = lazy_attributes(
    __name__, {name: f"{__name__}.{module}" for name, module in _CLASSES.items()}
)


__all__ = [
    "ATPE",
    "TPE",
    "Auto",
    "Bayesian",
    "Evolution",
    "GridSearch",
    "Hyperband",
    "Optimizer",
    "OptunaGP",
    "RandomSearch",
    "available_methods",
    "canonical_method",
    "create_optimizer",
    "method_issue",
    "optimizer_class",
    "register",
]
