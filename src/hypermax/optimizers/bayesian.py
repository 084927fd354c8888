"""Bayesian optimization: a Gaussian process (scikit-learn) fitted on the trials, and the
candidate with the highest expected improvement.

Parameters are encoded on [0, 1] (numbers along their searched axis, log for log-scaled ones),
enums, ``randint`` numbers (unordered, like an enum's values) and conditional branches one-hot;
a ``randint`` with more values than an enum may list is left out of the model and drawn at
random, as there is no order to learn it by. A parameter a trial did not have sits at 0.5 (numbers)
or all zeros (choices), which is how mixed and conditional spaces fit one GP. Several
suggestions at once use the "constant liar": each pick is added to the model at its predicted
loss before the next one, and running trials likewise.

Candidates are half random draws, half small steps from the five best trials (random draws
rarely land close enough to refine a point in more than a few dimensions), scored by the
logarithm of expected improvement (EI itself underflows to 0 far from the best). Length scales
are kept above 0.05 of each parameter's range: on tens of trials a GP otherwise "explains" the
losses with wiggles, and EI then scatters (side runs on six problems: average rank 1.75 against
3.67 without the bound).

Settings (``search.bayesian``): ``Bayesian.Settings``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from hypermax.optimizers.base import (
    MethodSettings,
    Optimizer,
    SettingsInput,
    create_optimizer,
    register,
)
from hypermax.settings import spec
from hypermax.space import BranchNode, ChoiceNode, Flat, NumberNode, Space
from hypermax.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from sklearn.gaussian_process import GaussianProcessRegressor

ARD_MAX_DIMENSIONS = 8


@register("bayesian")
class Bayesian(Optimizer):
    """GP + expected improvement over random candidates."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        """Our Gaussian process (search.bayesian)."""

        startup_trials: int = field(
            default=10, metadata=spec("Random trials before the GP.", minimum=1)
        )
        candidates: int = field(
            default=1000, metadata=spec("Random draws scored per suggestion.", minimum=1)
        )
        xi: float = field(
            default=0.01, metadata=spec("Exploration margin of expected improvement.", minimum=0)
        )
        local_share: float = field(
            default=0.5,
            metadata=spec(
                "Share of the candidates drawn near the five best trials.", minimum=0, maximum=1
            ),
        )
        shortest_length_scale: float = field(
            default=0.05,
            metadata=spec(
                "Lower bound of the GP's length scales on each parameter's [0, 1] range.",
                exclusiveMinimum=0,
            ),
        )

    settings: Settings

    def __init__(self, space: Space, seed: int | None = None, settings: SettingsInput = None):
        super().__init__(space, seed, settings)
        nodes = space.nodes()
        self.numbers = [n for n in nodes if isinstance(n, NumberNode) and not n.unordered]
        # (data path, values) of every parameter encoded one-hot: enums and listable randints
        self.choices = [(n.path, n.values) for n in nodes if isinstance(n, ChoiceNode)]
        for node in nodes:
            values = node.categories() if isinstance(node, NumberNode) else None
            if values is not None:
                self.choices.append((node.path, values))
        self.branches = [n for n in nodes if isinstance(n, BranchNode)]

    def encode(self, flat: Flat) -> list[float]:
        row = [
            node.to_unit(flat[node.path]) if node.path in flat else 0.5 for node in self.numbers
        ]
        for path, values in self.choices:
            row += [float(flat.get(path, object()) == value) for value in values]
        for branch in self.branches:
            chosen = flat.get(branch.branch_key)
            row += [float(chosen == position) for position in range(len(branch.branches))]
        return row

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        seed = self.seed_for(history)
        done: list[tuple[list[float], float]] = []
        for trial in history:
            if trial.status.finished and trial.has_loss:
                try:
                    done.append((self.encode(trial.flat), float(trial.loss)))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    continue  # recorded under an older space
        if len(done) < self.settings.startup_trials:
            return create_optimizer("random", self.space, seed=seed).suggest(history, n)
        features = np.array([row for row, _ in done])
        losses = np.array([loss for _, loss in done])
        pending = [self.encode(t.flat) for t in history if t.status is TrialStatus.RUNNING]
        rng = np.random.default_rng(seed)
        local = int(self.settings.candidates * self.settings.local_share)
        pool = self.space.sample(rng, self.settings.candidates - local)
        pool += self._near_best(history, rng, local)
        encoded = np.array([self.encode(flat) for flat in pool])
        tuned = self._fit(features, losses)  # kernel hyperparameters fitted once per call
        chosen: list[Flat] = []
        for _ in range(n):
            model = self._with_pending(tuned, features, losses, pending)
            mean, std = model.predict(encoded, return_std=True)
            pick = int(
                np.argmax(_log_expected_improvement(mean, std, losses.min() - self.settings.xi))
            )
            chosen.append(pool[pick])
            pending.append(list(encoded[pick]))  # the constant liar: expect its mean
            encoded = np.delete(encoded, pick, axis=0)
            pool = pool[:pick] + pool[pick + 1 :]
        return chosen

    def _near_best(
        self, history: Sequence[Trial], rng: np.random.Generator, count: int
    ) -> list[Flat]:
        """Candidates a small step from the best trials: random draws rarely land close enough
        to refine a good point once there are more than a few dimensions."""
        scored = sorted(
            (t for t in history if t.status.finished and t.has_loss and self.space.fits(t.flat)),
            key=lambda t: t.loss,  # type: ignore[arg-type, return-value]
        )[:5]
        if not scored or not self.numbers:
            return []
        drafts = []
        for _ in range(count):
            flat = dict(scored[int(rng.integers(len(scored)))].flat)
            step = float(rng.choice([0.01, 0.03, 0.1, 0.3]))
            present = [node for node in self.numbers if node.path in flat]
            share = max(1.0 / max(len(present), 1), 0.3)
            for node in present:
                if rng.random() < share:
                    unit = node.to_unit(flat[node.path]) + rng.normal(0.0, step)
                    flat[node.path] = node.from_unit(min(1.0, max(0.0, unit)))
            drafts.append(flat)
        return drafts

    def _fit(self, features: np.ndarray, losses: np.ndarray) -> GaussianProcessRegressor:
        # imported here, not at the top: scikit-learn costs half a second a search that does
        # not fit a GP (hypermax --version, validate, another method) should not pay
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        dimensions = features.shape[1]
        # one length scale per dimension where there are few; one for all where there are many
        # (fitting dozens of length scales costs more than it helps on tens of trials)
        scales = np.ones(dimensions) if dimensions <= ARD_MAX_DIMENSIONS else 1.0
        matern = Matern(
            nu=2.5,
            length_scale=scales,
            length_scale_bounds=(self.settings.shortest_length_scale, 1e5),
        )
        kernel = ConstantKernel() * matern + WhiteKernel(1e-3)
        model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(features, losses)

    @staticmethod
    def _with_pending(
        tuned: GaussianProcessRegressor,
        features: np.ndarray,
        losses: np.ndarray,
        pending: list[list[float]],
    ) -> GaussianProcessRegressor:
        """The model with running (and already picked) points at their predicted loss."""
        from sklearn.gaussian_process import GaussianProcessRegressor

        if not pending:
            return tuned
        lies = tuned.predict(np.array(pending))
        model = GaussianProcessRegressor(tuned.kernel_, optimizer=None, normalize_y=True)
        return model.fit(np.vstack([features, pending]), np.concatenate([losses, lies]))


def _log_expected_improvement(mean: np.ndarray, std: np.ndarray, target: float) -> np.ndarray:
    """log EI: where EI itself underflows to 0 for every candidate (far from the best, late
    in a search) its logarithm still ranks them."""
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    z = (target - mean) / std
    with np.errstate(divide="ignore"):
        direct = np.log(np.maximum(z * norm.cdf(z) + norm.pdf(z), 0.0))
    # h(z) = z Φ(z) + φ(z) ~ φ(z) / z² as z → -∞
    tail = -0.5 * z**2 - 0.5 * np.log(2 * np.pi) - 2 * np.log(np.maximum(-z, 1e-12))
    return np.log(std) + np.where(z > -5, direct, tail)
