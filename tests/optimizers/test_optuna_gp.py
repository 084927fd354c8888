"""Optuna's GP sampler behind our interface, and how ``auto`` chooses between the two GPs.

The general contract (fits the space, seeded, resumable, finds a quadratic's optimum) is in
test_optimizers.py; here: the translation of our trials into Optuna's, and the choices."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from hypermax.errors import ConfigError
from hypermax.optimizers import Bayesian, OptunaGP, create_optimizer
from hypermax.optimizers import auto as auto_module
from hypermax.optimizers import optuna_gp as optuna_gp_module
from hypermax.optimizers._optuna import ask_flat, recorded_trial
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus
from tests.optimizers.test_optimizers import CONDITIONAL, MIXED, obj

NUMERIC = obj(
    x={"type": "number", "min": -2.0, "max": 2.0},
    y={"type": "number", "min": 0.001, "max": 10.0, "scaling": "logarithmic"},
    kind={"enum": ["a", "b"]},
)


@pytest.mark.parametrize("schema", [MIXED, CONDITIONAL], ids=["mixed", "conditional"])
def test_a_recorded_trial_asks_back_the_same_parameters(schema: dict) -> None:
    """Our history reaches Optuna intact: every parameter, choice, branch and list length of
    a trial, told to Optuna and asked back define-by-run, gives the same flat form."""
    space = Space.from_schema(schema)
    for flat in space.sample(np.random.default_rng(3), 40):
        recorded = recorded_trial(space, flat, loss=1.0)
        asked: dict = {}
        ask_flat(optuna.trial.FixedTrial(recorded.params), space.root, asked)
        assert asked == flat


def test_a_sequential_search_asks_what_optunas_own_loop_asks() -> None:
    """Our wrapper costs Optuna's sampler nothing: trial for trial, a sequential search gets
    exactly the suggestions of Optuna's own ask-and-tell loop with the same seed."""
    space = Space.from_schema(NUMERIC)
    ours = create_optimizer("optuna-gp", space, seed=3)
    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=3))
    history: list[Trial] = []
    for number in range(1, 15):
        (flat,) = ours.suggest(history, 1)
        asked = study.ask()
        theirs: dict = {}
        ask_flat(asked, space.root, theirs)
        assert flat == theirs
        loss = (flat["x"] - 0.5) ** 2 + abs(np.log10(flat["y"])) + (flat["kind"] == "b")
        study.tell(asked, loss)
        history.append(Trial(number, flat, space.nested(flat), TrialStatus.OK, loss=loss))


def test_an_unbounded_normal_is_searched_over_three_standard_deviations() -> None:
    space = Space.from_schema(
        obj(shift={"type": "number", "mode": "normal", "mean": 5.0, "stddev": 2.0})
    )
    drawn = space.sample(np.random.default_rng(0), 12)
    history = [Trial(n, f, f, TrialStatus.OK, loss=float(n)) for n, f in enumerate(drawn, 1)]
    suggestions = create_optimizer("optuna-gp", space, seed=1).suggest(history, 5)
    assert all(-1.0 <= flat["shift"] <= 11.0 for flat in suggestions)


def test_without_the_gp_extra_the_method_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(optuna_gp_module, "gp_extra_missing", lambda: ["torch"])
    with pytest.raises(ConfigError) as error:
        create_optimizer("optuna-gp", Space.from_schema(NUMERIC), seed=1)
    assert "search.optuna-gp" in str(error.value)
    assert "needs torch: pip install 'optuna>=5,<6' 'torch>=2.2,<3'" in str(error.value)


def test_auto_uses_optuna_gp_on_a_space_without_conditions() -> None:
    auto = create_optimizer("auto", Space.from_schema(NUMERIC), seed=1)
    assert isinstance(auto.gp, OptunaGP)  # type: ignore[attr-defined]


NUMBER = {"type": "number", "min": 0, "max": 1}
LIST = obj(xs={"type": "array", "minItems": 1, "maxItems": 3, "items": NUMBER})


@pytest.mark.parametrize("schema", [CONDITIONAL, LIST], ids=["branches", "variable-length list"])
def test_auto_keeps_its_own_gp_on_conditional_spaces(schema: dict) -> None:
    auto = create_optimizer("auto", Space.from_schema(schema), seed=1)
    assert isinstance(auto.gp, Bayesian)  # type: ignore[attr-defined]


def test_auto_without_torch_or_told_not_to_uses_its_own_gp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    space = Space.from_schema(NUMERIC)
    told = create_optimizer("auto", space, seed=1, settings={"optuna_gp": False})
    assert isinstance(told.gp, Bayesian)  # type: ignore[attr-defined]
    monkeypatch.setattr(auto_module, "gp_extra_missing", lambda: ["torch"])
    without = create_optimizer("auto", space, seed=1)
    assert isinstance(without.gp, Bayesian)  # type: ignore[attr-defined]


def test_auto_passes_its_settings_on_to_optuna_gp() -> None:
    auto = create_optimizer(
        "auto", Space.from_schema(NUMERIC), seed=1, settings={"optuna-gp": {"startup_trials": 3}}
    )
    assert auto.gp.settings.startup_trials == 3  # type: ignore[attr-defined]
