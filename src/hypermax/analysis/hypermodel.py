"""The hyper-model: a surrogate fitted on the trials that predicts loss (and trial time).

It reports its own cross-validated accuracy, predicts any parameter set, runs a simulated
extension of the search on itself to say whether better regions are likely left unexplored,
and finds the best values of some parameters while others are held fixed. Parameter importance
is measured on it by permutation.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from hypermax.analysis.table import MISSING, AnalysisError, Column, TrialTable
from hypermax.space import ValueProblem

MIN_TRIALS = 8


class Encoder:
    """Flat parameters -> feature matrix: numbers (log10 when log-scaled), categories one-hot,
    NaN where a parameter is missing."""

    def __init__(self, columns: list[Column]):
        self.columns = columns
        self.slots: list[tuple[Column, Any]] = []  # (column, category or None for numbers)
        for column in columns:
            if column.numeric:
                self.slots.append((column, None))
            else:
                self.slots += [(column, category) for category in column.categories()]
        self.groups: dict[str, list[int]] = {}
        for position, (column, _) in enumerate(self.slots):
            self.groups.setdefault(column.name, []).append(position)

    def row(self, flat: dict[str, Any]) -> list[float]:
        values = []
        for column, category in self.slots:
            value = flat.get(column.name, MISSING)
            if value is MISSING:
                values.append(math.nan)
            elif column.categorical:
                values.append(float(value == category))
            else:
                number = float(value)
                values.append(math.log10(number) if column.log and number > 0 else number)
        return values

    def matrix(self, flats: list[dict[str, Any]]) -> np.ndarray:
        return np.array([self.row(flat) for flat in flats], dtype=float)


GP_MAX_TRIALS = 300  # a Gaussian process costs O(n³); past this only the forest is tried


def _candidates(has_missing: bool, trials: int) -> dict[str, Any]:
    forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=0)
    if has_missing or trials > GP_MAX_TRIALS:
        return {"random forest": forest}  # forests handle missing values; the GP cannot
    kernel = ConstantKernel() * Matern(nu=2.5) + WhiteKernel()
    gaussian = make_pipeline(
        StandardScaler(), GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
    )
    return {"gaussian process": gaussian, "random forest": forest}


@dataclass
class Fitted:
    """One fitted surrogate and its 5-fold cross-validated R²."""

    name: str
    model: Any
    r2: float


def _fit_best(features: np.ndarray, target: np.ndarray, gaussian: bool = True) -> Fitted:
    keep = np.isfinite(target)
    features, target = features[keep], target[keep]
    folds = KFold(n_splits=min(5, len(target)), shuffle=True, random_state=0)
    best: Fitted | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the GP's bounds; harmless here
        simple = bool(np.isnan(features).any()) or not gaussian
        for name, model in _candidates(simple, len(target)).items():
            scores = cross_val_score(clone(model), features, target, cv=folds, scoring="r2")
            score = float(np.mean(scores))
            if best is None or score > best.r2:
                best = Fitted(name, model, score)
        assert best is not None
        best.model = clone(best.model).fit(features, target)
    return best


@dataclass
class Importance:
    """How much the surrogate's accuracy drops when a parameter is shuffled (with its spread)."""

    parameter: str
    mean: float
    std: float


@dataclass
class Exploration:
    """What a simulated extension of the search on the surrogate found."""

    samples: int
    observed_best: float
    predicted_best: float
    predicted_best_params: Any
    likely_better: bool
    region: dict[str, Any]  # numbers: [low, high] of the best predicted points; else the mode


class HyperModel:
    """Surrogates of loss and trial time fitted on a search's successful trials."""

    def __init__(self, table: TrialTable):
        if len(table) < MIN_TRIALS:
            raise AnalysisError(
                f"the hyper-model needs at least {MIN_TRIALS} successful trials, "
                f"this search has {len(table)}"
            )
        self.table = table
        self.encoder = Encoder(list(table.columns.values()))
        self.flats = [
            {name: column.values[i] for name, column in table.columns.items()}
            for i in range(len(table))
        ]
        self.features = self.encoder.matrix(self.flats)
        self.loss = _fit_best(self.features, table.loss)
        times = table.time
        self.time = (
            _fit_best(self.features, times, gaussian=False)  # a forest is good enough for time
            if np.isfinite(times).sum() >= MIN_TRIALS
            else None
        )

    @property
    def r2(self) -> float:
        """Cross-validated R² of the loss model (1 is perfect, 0 no better than the mean)."""
        return self.loss.r2

    def predict(self, flat: dict[str, Any]) -> tuple[float, float | None]:
        """Predicted loss and trial time (seconds) of a flat parameter set."""
        self.check(flat)
        row = np.array([self.encoder.row(flat)])
        time = float(self.time.model.predict(row)[0]) if self.time is not None else None
        return float(self.loss.model.predict(row)[0]), time

    def importance(self, repeats: int = 5, seed: int = 0) -> list[Importance]:
        """Permutation importance on held-out trials: in each of 5 folds, the model fitted on the
        rest loses this much R² on the fold when one parameter's values are shuffled there.
        (On the training trials, a flexible model would credit even pure noise.)"""
        rng = np.random.default_rng(seed)
        target = self.table.loss
        folds = KFold(n_splits=min(5, len(target)), shuffle=True, random_state=seed)
        drops: dict[str, list[float]] = {name: [] for name in self.encoder.groups}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for train, test in folds.split(self.features):
                model = clone(self.loss.model).fit(self.features[train], target[train])
                held_out = self.features[test]
                baseline = _r2(target[test], model.predict(held_out))
                for name, slots in self.encoder.groups.items():
                    for _ in range(repeats):
                        shuffled = held_out.copy()
                        shuffled[:, slots] = held_out[rng.permutation(len(test))][:, slots]
                        drops[name].append(baseline - _r2(target[test], model.predict(shuffled)))
        rows = [Importance(n, float(np.mean(d)), float(np.std(d))) for n, d in drops.items()]
        return sorted(rows, key=lambda row: -row.mean)

    def check(self, flat: dict[str, Any], complete: bool = True) -> None:
        """Refuse parameters the space does not allow (or, with ``complete``, that lack some)."""
        space = self.table.space
        if space is None:
            return
        nodes = {n.path: n for n in space.parameters()}
        if complete:
            try:
                space.nested(flat)
            except KeyError as missing:
                node = nodes.get(str(missing.args[0]))
                what = str(ValueProblem(node, None, "missing")) if node else repr(missing.args[0])
                raise AnalysisError(
                    f"{what} (give every parameter of the search, nested as the model "
                    "receives them)"
                ) from None
        for name, value in flat.items():
            node = nodes.get(name)
            try:
                if node is not None:
                    node.flatten(value, {})
            except ValueError as error:  # names the parameter, the value and what is allowed
                raise AnalysisError(str(error)) from None

    def _candidates(self, samples: int, seed: int, fixed: dict[str, Any]) -> list[dict]:
        space = self.table.space
        if space is None:
            raise AnalysisError("the results folder has no search space to sample from")
        flats = space.sample(np.random.default_rng(seed), samples)
        return [{**flat, **fixed} for flat in flats]

    def explore(self, samples: int = 2000, seed: int = 0, top: int = 20) -> Exploration:
        """Search the surrogate: is a better region than the best trial likely, and where?"""
        flats = self._candidates(samples, seed, {})
        predicted = self.loss.model.predict(self.encoder.matrix(flats))
        order = np.argsort(predicted)
        best = flats[int(order[0])]
        observed = float(self.table.loss.min())
        spread = float(np.std(self.table.loss))
        margin = spread * max(0.0, 1.0 - max(self.r2, 0.0)) ** 0.5  # the model's typical error
        region: dict[str, Any] = {}
        leaders = [flats[int(i)] for i in order[:top]]
        for name, column in self.table.columns.items():
            present = [f[name] for f in leaders if name in f]
            if present and column.numeric:
                region[name] = [min(present), max(present)]
            elif present:
                common = Counter(map(repr, present)).most_common(1)[0][0]
                region[name] = next(v for v in present if repr(v) == common)
        space = self.table.space
        assert space is not None
        return Exploration(
            samples,
            observed,
            float(predicted[order[0]]),
            space.nested(best),
            float(predicted[order[0]]) < observed - margin,
            region,
        )

    def best_with_fixed(
        self, fixed: dict[str, Any], samples: int = 2000, seed: int = 0
    ) -> tuple[Any, float]:
        """Hold the given flat parameters fixed; the best predicted values of the rest."""
        self.check(fixed, complete=False)
        unknown = [name for name in fixed if name not in self.table.columns]
        if unknown:
            raise AnalysisError(
                f"cannot fix {', '.join(map(repr, unknown))}: not a varying parameter of this "
                f"search (known: {', '.join(self.table.columns)})"
            )
        # only candidates on the branches where the fixed parameters exist
        flats = [f for f in self._candidates(samples, seed, {}) if all(n in f for n in fixed)]
        if not flats:
            raise AnalysisError("the fixed parameters never occur together in this space")
        flats = [{**flat, **fixed} for flat in flats]
        predicted = self.loss.model.predict(self.encoder.matrix(flats))
        position = int(np.argmin(predicted))
        space = self.table.space
        assert space is not None
        return space.nested(flats[position]), float(predicted[position])


def _r2(target: np.ndarray, predicted: np.ndarray) -> float:
    total = float(np.sum((target - target.mean()) ** 2))
    return 1.0 - float(np.sum((target - predicted) ** 2)) / total if total else 0.0
