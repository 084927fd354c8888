"""Search methods behind one ask/tell interface; ``search.method`` picks one by name."""

from hypermax.optimizers._hyperopt import ATPE, TPE, RandomSearch
from hypermax.optimizers.auto import Auto
from hypermax.optimizers.base import (
    Optimizer,
    available_methods,
    canonical_method,
    create_optimizer,
    method_issue,
    register,
)
from hypermax.optimizers.bayesian import Bayesian
from hypermax.optimizers.evolution import Evolution
from hypermax.optimizers.grid import GridSearch
from hypermax.optimizers.hyperband import Hyperband
from hypermax.optimizers.optuna_gp import OptunaGP

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
    "register",
]
