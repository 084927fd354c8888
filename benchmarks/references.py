"""Optuna's samplers as reference searches, driven define-by-run over our space tree (by
``hypermax.optimizers._optuna.ask_flat``), so the reference sees the same parameters (and the
same conditional structure) as hypermax."""

from __future__ import annotations

from typing import Any

from hypermax.optimizers._optuna import missing_modules


def optuna_sampler(kind: str, seed: int) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise ValueError(kind)


def optuna_available(kind: str) -> bool:
    return not missing_modules("optuna", *(("torch",) if kind == "gp" else ()))
