"""hypermax: hyperparameter optimization from one config file."""

__version__ = "0.1.0"
