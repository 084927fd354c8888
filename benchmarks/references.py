"""Optuna's samplers as reference searches, driven define-by-run over our space tree, so the
reference sees the same parameters (and the same conditional structure) as hypermax."""

from __future__ import annotations

from typing import Any

from hypermax.space import (
    ArrayNode,
    BranchNode,
    ChoiceNode,
    ConstantNode,
    Flat,
    Node,
    NumberNode,
    ObjectNode,
)


def optuna_flat(trial: Any, node: Node, flat: Flat) -> None:
    """Ask an Optuna trial for a value of every active parameter under ``node``."""
    if isinstance(node, NumberNode):
        if node.low is None or node.high is None or node.mode != "uniform":
            raise ValueError(f"{node.path}: the Optuna reference takes bounded uniform numbers")
        if node.integer:
            raw = trial.suggest_int(node.label, int(node.low), int(node.high), log=node.log)
        else:
            raw = trial.suggest_float(node.label, node.low, node.high, log=node.log)
        flat[node.path] = node.finish(raw)
    elif isinstance(node, ChoiceNode):
        position = trial.suggest_categorical(node.label, list(range(len(node.values))))
        flat[node.path] = node.values[position]
    elif isinstance(node, ConstantNode):
        flat[node.path] = node.value
    elif isinstance(node, ObjectNode):
        for child in node.properties.values():
            optuna_flat(trial, child, flat)
    elif isinstance(node, BranchNode):
        position = trial.suggest_categorical(node.label, list(range(len(node.branches))))
        flat[node.branch_key] = position
        optuna_flat(trial, node.branches[position], flat)
    elif isinstance(node, ArrayNode):
        length = trial.suggest_int(node.label, node.min_items, node.max_items)
        for item in node.items[:length]:
            optuna_flat(trial, item, flat)


def optuna_sampler(kind: str, seed: int) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if kind == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    raise ValueError(kind)


def optuna_available(kind: str) -> bool:
    try:
        import optuna  # noqa: F401

        if kind == "gp":
            import torch  # noqa: F401
    except ImportError:
        return False
    return True
