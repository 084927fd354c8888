"""``randint`` is documented as unordered, like a category: every method that models
categories searches its values as it searches an enum's (one-hot in ``bayesian``, a
categorical in ``optuna-gp``, and so in ``auto``), never along the integers' order."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution

from hypermax.optimizers import Bayesian, create_optimizer
from hypermax.optimizers._optuna import ask_flat, recorded_trial
from hypermax.space import MAX_ENUM_VALUES, Space
from hypermax.trial import Trial, TrialStatus
from tests.optimizers.test_optimizers import obj

# the loss of each face has nothing to do with its number: 3 is best, its neighbours worst
FACES = {1: 1.0, 2: 5.0, 3: 0.0, 4: 6.0, 5: 2.0, 6: 4.0}
SPACE = Space.from_schema(
    obj(
        face={"type": "number", "mode": "randint", "min": 1, "max": 6},
        x={"type": "number", "min": 0.0, "max": 1.0},
        kind={"enum": ["a", "b"]},
    )
)
WIDE = Space.from_schema(
    obj(
        seed={"type": "number", "mode": "randint", "min": 0, "max": 2**40},
        x={"type": "number", "min": 0.0, "max": 1.0},
    )
)


def faces(flat: dict) -> float:
    return FACES[flat["face"]] + (flat["x"] - 0.3) ** 2 + (flat["kind"] == "b") * 0.5


def test_bayesian_encodes_a_randint_one_hot_like_an_enum() -> None:
    bayesian = Bayesian(SPACE)
    # x on [0, 1], then the enum's two columns, then the randint's six
    row = bayesian.encode({"face": 3, "x": 0.5, "kind": "b"})
    assert row == [0.5, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert bayesian.encode({"x": 0.5, "kind": "a"})[3:] == [0.0] * 6  # absent: all zeros


def test_bayesian_draws_a_randint_too_wide_to_list_at_random() -> None:
    """More values than an enum may list: nothing to learn without an order, so the GP leaves
    the parameter out and the candidates' random draws decide it."""
    assert Bayesian(WIDE).encode({"seed": 12345, "x": 0.25}) == [0.25]
    history = [
        Trial(i + 1, flat, flat, TrialStatus.OK, loss=flat["x"])
        for i, flat in enumerate(WIDE.sample(np.random.default_rng(0), 12))
    ]
    picks = create_optimizer("bayesian", WIDE, seed=1, settings={"candidates": 50}).suggest(
        history, 3
    )
    assert all(WIDE.fits(pick) and 0 <= pick["seed"] <= 2**40 for pick in picks)


def test_optuna_gp_is_told_a_randint_as_a_categorical() -> None:
    recorded = recorded_trial(SPACE, {"face": 4, "x": 0.5, "kind": "a"}, loss=1.0)
    distribution = recorded.distributions["face"]
    assert isinstance(distribution, CategoricalDistribution)
    assert list(distribution.choices) == [1, 2, 3, 4, 5, 6]
    asked: dict = {}
    ask_flat(optuna.trial.FixedTrial(recorded.params), SPACE.root, asked)
    assert asked == {"face": 4, "x": 0.5, "kind": "a"}


def test_optuna_gp_draws_a_randint_too_wide_to_list_itself() -> None:
    recorded = recorded_trial(WIDE, {"seed": 7, "x": 0.5}, loss=1.0)
    assert "seed" not in recorded.distributions
    optimizer = create_optimizer("optuna-gp", WIDE, seed=0, settings={"startup_trials": 2})
    history: list[Trial] = []
    for number in range(1, 5):
        (flat,) = optimizer.suggest(history, 1)
        assert WIDE.fits(flat)
        history.append(Trial(number, flat, flat, TrialStatus.OK, loss=flat["x"]))
    seeds = {trial.flat["seed"] for trial in history}
    assert len(seeds) == 4
    again = create_optimizer("optuna-gp", WIDE, seed=0, settings={"startup_trials": 2})
    assert again.suggest(history[:2], 1) == [history[2].flat]  # seeded: a resumed search


def test_auto_counts_a_randint_as_its_one_hot_columns() -> None:
    """``auto`` leaves the GPs for TPE where the space encodes to more than ``gp_dimensions``
    inputs: a randint counts as many as its values, like an enum."""
    many = Space.from_schema(obj(k={"type": "number", "mode": "randint", "min": 1, "max": 100}))
    assert len(Bayesian(many).encode(many.default())) == 100
    auto = create_optimizer("auto", many, seed=0)
    assert auto.method_for([]) is auto.tpe  # type: ignore[attr-defined]


FEW_RANDOM: dict[str, dict] = {  # six random trials before the GP
    "bayesian": {"startup_trials": 6},
    "optuna-gp": {"startup_trials": 6},
    "auto": {"bayesian": {"startup_trials": 6}, "optuna-gp": {"startup_trials": 6}},
}


@pytest.mark.parametrize("method", ["bayesian", "optuna-gp", "auto"])
def test_a_search_finds_the_best_face_whatever_its_number(method: str) -> None:
    found = []
    for seed in range(2):
        optimizer = create_optimizer(method, SPACE, seed=seed, settings=FEW_RANDOM[method])
        history: list[Trial] = []
        for number in range(1, 17):
            (flat,) = optimizer.suggest(history, 1)
            assert SPACE.fits(flat) and flat["face"] in FACES
            history.append(Trial(number, flat, flat, TrialStatus.OK, loss=faces(flat)))
        best = min(history, key=lambda t: t.loss)  # type: ignore[arg-type, return-value]
        found.append(best.flat["face"])
    assert found == [3, 3]


def test_the_limit_is_the_one_enums_have() -> None:
    listed = Space.from_schema(
        obj(k={"type": "number", "mode": "randint", "min": 0, "max": MAX_ENUM_VALUES - 1})
    )
    wider = Space.from_schema(
        obj(k={"type": "number", "mode": "randint", "min": 0, "max": MAX_ENUM_VALUES})
    )
    assert len(Bayesian(listed).encode({"k": 0})) == MAX_ENUM_VALUES
    assert Bayesian(wider).encode({"k": 0}) == []
