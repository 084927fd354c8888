"""``auto``: a Gaussian process while the search is small, TPE past ``gp_trials`` finished trials
or on spaces that encode to more than ``gp_dimensions`` inputs."""

from __future__ import annotations

from typing import Any

import pytest

from hypermax.optimizers import TPE, Optimizer, create_optimizer
from hypermax.optimizers.auto import Auto
from hypermax.optimizers.bayesian import Bayesian
from hypermax.space import Flat, Space
from hypermax.trial import Trial, TrialStatus

SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": -5.0, "max": 5.0},
            "y": {"type": "number", "min": -5.0, "max": 5.0},
            "kind": {"enum": ["a", "b", "c"]},
        },
    }
)
# our own GP: fast, and what auto uses where Optuna's does not suit
FAST = {"optuna_gp": False, "bayesian": {"candidates": 50}}


def make(space: Space = SPACE, **settings: Any) -> Auto:
    auto = create_optimizer("auto", space, seed=3, settings={**FAST, **settings})
    assert isinstance(auto, Auto)
    return auto


def history(count: int, running: int = 0) -> list[Trial]:
    """``count`` finished trials, then ``running`` running ones."""
    flats = create_optimizer("random", SPACE, seed=9).suggest([], count + running)
    return [
        Trial(
            number,
            flat,
            SPACE.model_params(flat),
            TrialStatus.OK if number <= count else TrialStatus.RUNNING,
            loss=(flat["x"] - 1) ** 2 + flat["y"] ** 2 if number <= count else None,
        )
        for number, flat in enumerate(flats, 1)
    ]


class Spy:
    """Records which of auto's methods were asked, and answers as that method does."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, auto: Auto):
        self.asked: list[str] = []
        self.answers: list[list[Flat]] = []
        for name in ("gp", "tpe"):
            method: Optimizer = getattr(auto, name)
            monkeypatch.setattr(method, "suggest", self._recording(name, method.suggest))

    def _recording(self, name: str, suggest: Any) -> Any:
        def recorded(past: list[Trial], n: int = 1) -> list[Flat]:
            self.asked.append(name)
            self.answers.append(suggest(past, n))
            return self.answers[-1]

        return recorded


def test_defaults_and_the_gp_it_picks() -> None:
    auto = make()
    assert (auto.settings.gp_trials, auto.gp_fits) == (300, True)
    assert isinstance(auto.gp, Bayesian)
    assert type(auto.tpe).__name__ == "TPE"


@pytest.mark.parametrize(
    ("finished", "running", "method"),
    [
        (0, 0, "gp"),
        (4, 0, "gp"),  # one below gp_trials
        (4, 3, "gp"),  # running trials are not finished ones
        (5, 0, "tpe"),  # gp_trials reached
        (8, 2, "tpe"),
    ],
)
def test_uses_its_gp_below_gp_trials_and_tpe_from_then_on(
    monkeypatch: pytest.MonkeyPatch, finished: int, running: int, method: str
) -> None:
    auto = make(gp_trials=5)
    spy = Spy(monkeypatch, auto)
    past = history(finished, running)
    suggested = auto.suggest(past, 2)
    assert spy.asked == [method]
    assert suggested == spy.answers[0]  # what the chosen method suggested, as it suggested it
    assert auto.method_for(past) is getattr(auto, method)


def test_a_whole_run_hands_over_once_and_stays_with_tpe(monkeypatch: pytest.MonkeyPatch) -> None:
    auto = make(gp_trials=6)
    spy = Spy(monkeypatch, auto)
    past: list[Trial] = []
    for number in range(1, 11):
        (flat,) = auto.suggest(past, 1)
        past.append(Trial(number, flat, SPACE.model_params(flat), TrialStatus.OK, loss=1.0))
    assert spy.asked == ["gp"] * 6 + ["tpe"] * 4


def test_the_gp_suggests_what_a_lone_gp_with_the_same_seed_would() -> None:
    """Not a stand-in: below ``gp_trials`` the suggestions are exactly the GP's."""
    past = history(6)
    lone = create_optimizer("bayesian", SPACE, seed=3, settings=FAST["bayesian"])
    lone_tpe = create_optimizer("tpe", SPACE, seed=3)
    assert make(gp_trials=7).suggest(past, 2) == lone.suggest(past, 2)
    assert make(gp_trials=6).suggest(past, 2) == lone_tpe.suggest(past, 2)
    assert lone.suggest(past, 2) != lone_tpe.suggest(past, 2)


def inputs(space: Space) -> int:
    """How many inputs the GP's model sees for a point of ``space``."""
    return len(Bayesian(space).encode(space.default()))


@pytest.mark.parametrize(("margin", "method"), [(0, "gp"), (1, "gp"), (-1, "tpe")])
def test_uses_tpe_on_spaces_wider_than_gp_dimensions(
    monkeypatch: pytest.MonkeyPatch, margin: int, method: str
) -> None:
    width = inputs(SPACE)
    assert width >= 3  # two numbers and a choice
    auto = make(gp_dimensions=width + margin)
    assert auto.gp_fits is (method == "gp")
    spy = Spy(monkeypatch, auto)
    auto.suggest(history(2), 1)
    auto.suggest([], 1)
    assert spy.asked == [method, method]


def test_default_gp_dimensions_is_64() -> None:
    def wide(count: int) -> Space:
        numbers = {f"p{i:02}": {"type": "number", "min": 0, "max": 1} for i in range(count)}
        return Space.from_schema({"type": "object", "properties": numbers})

    assert inputs(wide(64)) == 64
    assert make(wide(64)).gp_fits
    assert not make(wide(65)).gp_fits


BRANCHED = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "model": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {
                            "kind": {"constant": "a"},
                            "x": {"type": "number", "min": 0, "max": 1},
                        },
                    },
                    {"type": "object", "properties": {"kind": {"constant": "b"}}},
                ]
            }
        },
    }
)


def lists(min_items: int) -> Space:
    item = {"type": "number", "min": 0, "max": 1}
    return Space.from_schema(
        {
            "type": "object",
            "properties": {
                "layers": {"type": "array", "items": item, "minItems": min_items, "maxItems": 3}
            },
        }
    )


@pytest.mark.parametrize(
    ("space", "gp"),
    [
        (SPACE, "OptunaGP"),  # numbers and choices: Optuna's GP measured ahead
        (lists(3), "OptunaGP"),  # a list of fixed length is plain numbers
        (BRANCHED, "Bayesian"),  # Optuna's GP draws conditional parameters at random
        (lists(1), "Bayesian"),  # so are the items of a list of variable length
    ],
)
def test_picks_optuna_gp_where_it_suits_and_its_own_gp_elsewhere(space: Space, gp: str) -> None:
    auto = create_optimizer("auto", space, seed=3)
    assert type(auto).__name__ == "Auto" and type(auto.gp).__name__ == gp  # type: ignore[attr-defined]
    assert auto.space is space and auto.gp.space is space  # type: ignore[attr-defined]


def test_uses_its_own_gp_when_told_or_when_the_gp_extra_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(create_optimizer("auto", SPACE, settings={"optuna_gp": False}).gp, Bayesian)  # type: ignore[attr-defined]
    monkeypatch.setattr("hypermax.optimizers.auto.gp_extra_missing", lambda: True)
    assert isinstance(create_optimizer("auto", SPACE).gp, Bayesian)  # type: ignore[attr-defined]


def test_passes_each_method_its_own_settings_and_seed() -> None:
    auto = make(bayesian={"candidates": 77, "startup_trials": 4}, tpe={"gamma": 0.4})
    assert auto.gp.settings == Bayesian.Settings(candidates=77, startup_trials=4)
    assert auto.tpe.settings == auto.settings.tpe == TPE.Settings(gamma=0.4)
    assert auto.seed == auto.gp.seed == auto.tpe.seed == 3
    optuna = create_optimizer("auto", SPACE, settings={"optuna-gp": {"startup_trials": 6}})
    assert optuna.gp.settings.startup_trials == 6  # type: ignore[attr-defined]


def test_one_suggestion_unless_asked_for_more() -> None:
    assert len(make().suggest(history(3))) == 1


def test_says_which_gp_it_runs_and_when_it_hands_over() -> None:
    assert make(gp_trials=40).describe() == "auto: bayesian, then tpe from 40 finished trials"
    assert make(gp_dimensions=2).describe() == (
        "auto: tpe (the space is wider than gp_dimensions for a GP)"
    )
