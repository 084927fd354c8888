"""The test problems of the quality benchmark: a space, a loss of the nested parameters, and
the best value known (None where only the benchmark's own runs can tell)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from hypermax.space import Space


@dataclass
class Problem:
    name: str
    schema: dict[str, Any]
    loss: Callable[[dict[str, Any]], float]
    optimum: float | None  # None: regret is measured from the best any run found
    noise: float = 0.0  # standard deviation of Gaussian noise the optimizer sees
    space: Space = field(init=False)

    def __post_init__(self) -> None:
        self.space = Space.from_schema(self.schema)

    def observed(self, params: dict[str, Any], rng: np.random.Generator) -> tuple[float, float]:
        """(what the optimizer is told, the true value) for one trial."""
        true = self.loss(params)
        return true + (rng.normal(0.0, self.noise) if self.noise else 0.0), true


def box(names: list[str], low: float, high: float) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {n: {"type": "number", "min": low, "max": high} for n in names},
    }


def branin(p: dict[str, Any]) -> float:
    x, y = p["x"], p["y"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
)
_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(x: np.ndarray, a: np.ndarray, p: np.ndarray) -> float:
    return float(-np.sum(_HARTMANN_ALPHA * np.exp(-np.sum(a * (x - p) ** 2, axis=1))))


def hartmann6(p: dict[str, Any]) -> float:
    return _hartmann(np.array([p[f"x{i}"] for i in range(6)]), _H6_A, _H6_P)


def hartmann3(p: dict[str, Any]) -> float:
    return _hartmann(np.array([p[f"x{i}"] for i in range(3)]), _H3_A, _H3_P)


def rosenbrock(p: dict[str, Any]) -> float:
    x = [p[f"x{i}"] for i in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def ackley(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(5)])
    first = -20 * math.exp(-0.2 * math.sqrt(float(np.mean(x**2))))
    return first - math.exp(float(np.mean(np.cos(2 * math.pi * x)))) + 20 + math.e


MIXED_SCHEMA = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 5},
        "lr": {"type": "number", "min": 1e-5, "max": 1.0, "scaling": "logarithmic"},
        "units": {"type": "integer", "min": 1, "max": 64},
        "activation": {"enum": ["relu", "tanh", "sigmoid", "linear"]},
        "model": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "kind": {"constant": "linear"},
                        "alpha": {"type": "number", "min": 0, "max": 1},
                    },
                },
                {
                    "type": "object",
                    "properties": {
                        "kind": {"constant": "tree"},
                        "depth": {"type": "integer", "min": 1, "max": 16},
                        "leaf": {
                            "type": "number",
                            "min": 0.001,
                            "max": 0.5,
                            "scaling": "logarithmic",
                        },
                    },
                },
            ]
        },
    },
}


def mixed(p: dict[str, Any]) -> float:
    """Optimum 0: x 1.2, lr 10^-2.5, 40 units, relu, a tree of depth 7 with leaf 0.02."""
    value = (p["x"] - 1.2) ** 2 / 10 + (math.log10(p["lr"]) + 2.5) ** 2 / 4
    value += ((p["units"] - 40) / 20) ** 2
    value += {"relu": 0.0, "tanh": 0.3, "sigmoid": 0.6, "linear": 1.0}[p["activation"]]
    model = p["model"]
    if model["kind"] == "linear":
        return value + 0.5 + (model["alpha"] - 0.3) ** 2
    return value + (model["depth"] - 7) ** 2 / 20 + (math.log10(model["leaf"]) + 1.7) ** 2 / 4


@lru_cache(maxsize=1)
def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    return load_digits(return_X_y=True)


def _cv_error(model: Any, data: tuple[np.ndarray, np.ndarray]) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    return 1.0 - float(np.mean(cross_val_score(model, *data, cv=folds)))


SVM_SCHEMA = {
    "type": "object",
    "properties": {
        "C": {"type": "number", "min": 1e-3, "max": 1e3, "scaling": "logarithmic"},
        "gamma": {"type": "number", "min": 1e-5, "max": 10, "scaling": "logarithmic"},
        "kernel": {"enum": ["rbf", "sigmoid"]},
    },
}


def svm(p: dict[str, Any]) -> float:
    """3-fold CV error of an SVM on scikit-learn's breast-cancer data."""
    from sklearn.svm import SVC

    return _cv_error(SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"]), _breast_cancer())


TREE_SCHEMA = {
    "type": "object",
    "properties": {
        "max_depth": {"type": "integer", "min": 1, "max": 30},
        "min_samples_split": {"type": "integer", "min": 2, "max": 40},
        "min_samples_leaf": {"type": "integer", "min": 1, "max": 20},
        "max_features": {"type": "number", "min": 0.05, "max": 1.0},
        "criterion": {"enum": ["gini", "entropy", "log_loss"]},
    },
}


def tree(p: dict[str, Any]) -> float:
    """3-fold CV error of a decision tree on scikit-learn's digits."""
    from sklearn.tree import DecisionTreeClassifier

    model = DecisionTreeClassifier(random_state=0, **p)
    return _cv_error(model, _digits())


BRANIN_SCHEMA = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 10},
        "y": {"type": "number", "min": 0, "max": 15},
    },
}

PROBLEMS = {
    problem.name: problem
    for problem in [
        Problem("branin", BRANIN_SCHEMA, branin, 0.397887),
        Problem("hartmann6", box([f"x{i}" for i in range(6)], 0.0, 1.0), hartmann6, -3.32237),
        Problem("rosenbrock4", box([f"x{i}" for i in range(4)], -2.048, 2.048), rosenbrock, 0.0),
        Problem("ackley5", box([f"x{i}" for i in range(5)], -32.768, 32.768), ackley, 0.0),
        Problem("mixed-conditional", MIXED_SCHEMA, mixed, 0.0),
        Problem(
            "noisy-hartmann3", box([f"x{i}" for i in range(3)], 0.0, 1.0), hartmann3, -3.86278, 0.2
        ),
        Problem("svm-breast-cancer", SVM_SCHEMA, svm, None),
        Problem("tree-digits", TREE_SCHEMA, tree, None),
    ]
}
