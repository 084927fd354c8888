"""Each method's settings come from its own ``Settings`` declaration: a config's sections
(``search.<method>``, a stage's or ``incremental``'s ``settings``, ``auto``'s nested ones) are
checked against the schema made from it, with the same path-named messages the hand-written
schema gave, and become typed objects with the declared defaults."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from hypermax.config import config_from_dict, config_schema
from hypermax.config.model import Config
from hypermax.errors import ConfigError
from hypermax.optimizers import (
    TPE,
    Auto,
    Bayesian,
    Evolution,
    GridSearch,
    Hyperband,
    Optimizer,
    OptunaGP,
    create_optimizer,
    register,
)
from hypermax.optimizers import base as registry
from hypermax.optimizers.base import MethodSettings
from hypermax.optimizers.staged import Incremental, Stage
from hypermax.pruning import EarlyStopping
from hypermax.settings import spec
from hypermax.space import Flat
from hypermax.trial import Trial

SPACE = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": 0, "max": 1},
        "y": {"type": "number", "min": 0, "max": 1},
    },
}


def load(**search: Any) -> Config:
    return config_from_dict({"hyperparameters": SPACE, "search": search}, require_function=False)


def problems(**search: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(**search)
    return [str(issue) for issue in caught.value.issues]


# (section, its settings, the path named, part of the message): the constraints the
# hand-written schema.json had for each method
REFUSED = [
    ("tpe", {"gamma": 1}, "search.tpe.gamma", "greater than or equal to the maximum of 1"),
    ("tpe", {"gamma": 0}, "search.tpe.gamma", "less than or equal to the minimum of 0"),
    ("tpe", {"candidates": 0}, "search.tpe.candidates", "less than the minimum of 1"),
    ("tpe", {"startup_trials": 2.5}, "search.tpe.startup_trials", "must be of type integer"),
    ("tpe", {"prior_weight": 0}, "search.tpe.prior_weight", "minimum of 0"),
    ("tpe", {"gama": 0.3}, "search.tpe.gama", "unknown key 'gama'; did you mean 'gamma'?"),
    ("tpe", 0.3, "search.tpe", "must be of type object"),
    ("random", {"seed": 1}, "search.random.seed", "unknown key 'seed'"),
    ("atpe", {"gamma": 0.3}, "search.atpe.gamma", "unknown key 'gamma'"),
    ("auto", {"gp_trials": -1}, "search.auto.gp_trials", "less than the minimum of 0"),
    ("auto", {"gp_dimensions": 0}, "search.auto.gp_dimensions", "less than the minimum of 1"),
    ("auto", {"optuna_gp": "yes"}, "search.auto.optuna_gp", "must be of type boolean"),
    ("auto", {"tpe": {"gamma": 2}}, "search.auto.tpe.gamma", "maximum of 1"),
    ("auto", {"bayesian": {"xi": -1}}, "search.auto.bayesian.xi", "less than the minimum of 0"),
    (
        "auto",
        {"optuna-gp": {"startup_trials": -1}},
        "search.auto.optuna-gp.startup_trials",
        "less than the minimum of 0",
    ),
    ("auto", {"grid": {}}, "search.auto.grid", "unknown key 'grid'"),
    (
        "optuna-gp",
        {"startup_trials": -1},
        "search.optuna-gp.startup_trials",
        "less than the minimum of 0",
    ),
    ("optuna-gp", {"deterministic": "no"}, "search.optuna-gp.deterministic", "type boolean"),
    ("bayesian", {"startup_trials": 0}, "search.bayesian.startup_trials", "minimum of 1"),
    ("bayesian", {"candidates": 0}, "search.bayesian.candidates", "minimum of 1"),
    ("bayesian", {"local_share": 1.5}, "search.bayesian.local_share", "maximum of 1"),
    ("bayesian", {"shortest_length_scale": 0}, "search.bayesian.shortest_length_scale", "of 0"),
    ("evolution", {"population": 1}, "search.evolution.population", "minimum of 2"),
    ("evolution", {"population": None}, "search.evolution.population", "type integer"),
    ("evolution", {"sigma": 0}, "search.evolution.sigma", "less than or equal to the minimum"),
    ("evolution", {"sigma": 1.5}, "search.evolution.sigma", "greater than the maximum of 1"),
    ("hyperband", {"min_budget": 0}, "search.hyperband.min_budget", "minimum of 0"),
    ("hyperband", {"max_budget": -1}, "search.hyperband.max_budget", "minimum of 0"),
    ("hyperband", {"eta": 1}, "search.hyperband.eta", "less than or equal to the minimum of 1"),
    ("hyperband", {"sampler": 3}, "search.hyperband.sampler", "must be of type string"),
    ("abh", {"eta": 0.5}, "search.abh.eta", "less than or equal to the minimum of 1"),
    ("grid", {"resolution": 1}, "search.grid.resolution", "less than the minimum of 2"),
    ("grid", {"resolutions": {"x": 0}}, "search.grid.resolutions.x", "minimum of 1"),
    ("grid", {"resolutions": {"x": 2.5}}, "search.grid.resolutions.x", "type integer"),
    ("grid", {"max_points": 0}, "search.grid.max_points", "less than the minimum of 1"),
]


@pytest.mark.parametrize(
    ("section", "settings", "path", "message"),
    REFUSED,
    ids=[
        f"{section}-{path.rsplit('.', 1)[-1]}-{i}"
        for i, (section, _, path, _) in enumerate(REFUSED)
    ],
)
def test_a_bad_setting_is_refused_naming_its_path(
    section: str, settings: Any, path: str, message: str
) -> None:
    found = problems(method=section, **{section: settings})
    assert any(p.startswith(f"{path}: ") and message in p for p in found), found


# (section, settings): accepted, and the method's typed settings hold them
ACCEPTED = [
    ("tpe", {"gamma": 0.4, "candidates": 1, "startup_trials": 0, "prior_weight": 0.5}),
    ("random", {}),
    ("atpe", {}),
    (
        "auto",
        {
            "gp_trials": 0,
            "gp_dimensions": 1,
            "optuna_gp": False,
            "tpe": {"gamma": 0.1},
            "bayesian": {"candidates": 5},
            "optuna-gp": {"deterministic": True},
        },
    ),
    ("optuna-gp", {"startup_trials": 0, "deterministic": True}),
    (
        "bayesian",
        {
            "startup_trials": 1,
            "candidates": 1,
            "xi": 0,
            "local_share": 1,
            "shortest_length_scale": 0.5,
        },
    ),
    ("evolution", {"population": 2, "sigma": 1}),
    ("hyperband", {"min_budget": 0.5, "max_budget": 9.5, "eta": 1.5, "sampler": "tpe"}),
    ("grid", {"resolution": 2, "resolutions": {"x": 1}, "max_points": 4}),
]


@pytest.mark.parametrize(("section", "settings"), ACCEPTED, ids=[s for s, _ in ACCEPTED])
def test_good_settings_are_accepted_as_the_methods_typed_settings(
    section: str, settings: dict[str, Any]
) -> None:
    config = load(method=section, **{section: settings})
    typed = config.search.method_settings
    assert typed == create_optimizer(section, config.space, settings=settings).settings
    assert type(typed) is create_optimizer(section, config.space).Settings


def test_abh_reads_hyperband_settings_and_samples_with_atpe() -> None:
    config = load(method="abh", abh={"eta": 2.5}, max_budget=20)
    assert config.search.method_settings == Hyperband.Settings(
        max_budget=20, eta=2.5, sampler="atpe"
    )


def test_defaults_come_from_the_declaration() -> None:
    space = load().space
    assert create_optimizer("tpe", space).settings.gamma == 0.25  # type: ignore[attr-defined]
    assert create_optimizer("tpe", space).settings == TPE.Settings()
    assert load().search.method_settings == Auto.Settings()
    assert Auto.Settings().tpe == TPE.Settings() and Auto.Settings().gp_trials == 300
    assert (Bayesian.Settings().candidates, OptunaGP.Settings().startup_trials) == (1000, 10)
    assert (Evolution.Settings().population, GridSearch.Settings().resolution) == (None, 5)
    tpe = config_schema()["$defs"]["search"]["properties"]["tpe"]["properties"]
    assert tpe["gamma"] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "exclusiveMaximum": 1,
        "description": "Share of trials deemed good.",
        "default": 0.25,
    }


def test_every_method_has_a_section_and_unknown_sections_are_still_typos() -> None:
    sections = config_schema()["$defs"]["search"]["properties"]
    for name in ("tpe", "atpe", "random", "auto", "bayesian", "optuna-gp", "evolution", "grid"):
        assert sections[name]["additionalProperties"] is False, name
    assert sections["abh"]["properties"] == sections["hyperband"]["properties"]
    assert problems(method="tpe", tpee={"gamma": 0.3}) == [
        "search.tpee: unknown key 'tpee'; did you mean 'tpe'?"
    ]


def test_stage_and_incremental_settings_are_those_of_their_method() -> None:
    found = problems(
        method="grid",
        tpe={"gamma": 0.3},
        stages=[
            {"parameters": ["x"], "iterations": 2, "method": "tpe", "settings": {"gamma": 2}},
            {"parameters": ["y"], "iterations": 2, "settings": {"resolution": 1}},  # grid's
        ],
        incremental={"method": "bayesian", "settings": {"xi": -1}},
    )
    assert found == [
        "search.incremental.settings.xi: -1 is less than the minimum of 0",
        "search.stages.0.settings.gamma: 2 is greater than or equal to the maximum of 1",
        "search.stages.1.settings.resolution: 1 is less than the minimum of 2",
    ]
    unknown = {"parameters": ["y"], "iterations": 2, "method": "tpee", "settings": {"any": 1}}
    assert problems(stages=[unknown]) == [  # its settings cannot be checked: the method is
        "search.stages.0.method: unknown method 'tpee'; did you mean 'tpe'? available: "
        "atpe, auto, bayesian, evolution, grid, hyperband, optuna-gp, random, tpe"
    ]


def test_every_problem_is_listed_together() -> None:
    found = problems(
        method="tpe",
        iterations=0,
        tpe={"gamma": 2},
        grid={"resolution": 1},
        auto={"tpe": {"candidates": 0}},
        stages=[{"parameters": ["x"], "iterations": 2, "settings": {"gama": 0.3}}],
    )
    assert [p.split(":")[0] for p in found] == [
        "search.auto.tpe.candidates",
        "search.grid.resolution",
        "search.iterations",
        "search.stages.0.settings.gama",
        "search.tpe.gamma",
    ]


def test_stages_incremental_and_early_stopping_are_typed_at_load() -> None:
    config = load(
        method="tpe",
        tpe={"gamma": 0.3},
        stages=[
            {"parameters": ["x"], "iterations": 3},
            {"parameters": ["y"], "iterations": 3, "method": "random"},
            {
                "parameters": ["x"],
                "iterations": 3,
                "method": "grid",
                "settings": {"resolution": 3},
            },
            {"parameters": ["x", "y"], "iterations": 3, "settings": {"gamma": 0.4}},
        ],
        incremental={"groups": [["x"], ["y"]], "iterations": 4},
        early_stopping={"percentile": 40},
    )
    tuned = TPE.Settings(gamma=0.3)
    assert config.search.stages == [
        Stage(("x",), "tpe", 3, tuned),  # the search's method and settings
        Stage(("y",), "random", 3, MethodSettings()),  # another method: its defaults
        Stage(("x",), "grid", 3, GridSearch.Settings(resolution=3)),
        Stage(("x", "y"), "tpe", 3, TPE.Settings(gamma=0.4)),  # the search's method
    ]
    assert config.search.incremental == Incremental(
        groups=(("x",), ("y",)), iterations=4, method="tpe", settings=tuned
    )
    assert config.search.incremental.size == 2  # the declared default
    assert config.search.early_stopping == EarlyStopping(percentile=40, min_trials=5)
    assert load().search.early_stopping is None and load().search.incremental is None
    random_incremental = load(incremental={"method": "random", "size": 1}).search.incremental
    assert random_incremental == Incremental(size=1, method="random", settings=MethodSettings())


class Throwaway(Optimizer):
    """A method declared in a test: only its module and ``register`` know it."""

    @dataclass(frozen=True)
    class Settings(MethodSettings):
        rate: float = field(default=0.5, metadata=spec("A share.", minimum=0, maximum=1))
        names: Sequence[str] = field(default=(), metadata=spec("Some names."))

    settings: Settings

    def suggest(self, history: Sequence[Trial], n: int = 1) -> list[Flat]:
        return [{"x": self.settings.rate, "y": 0.0}] * n


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register("throwaway")(Throwaway)


@pytest.mark.usefixtures("throwaway")
def test_a_new_method_brings_its_settings_schema_with_it() -> None:
    assert problems(method="throwaway", throwaway={"rate": 2, "names": [1]}) == [
        "search.throwaway.names.0: must be of type string, got int 1",
        "search.throwaway.rate: 2 is greater than the maximum of 1",
    ]
    assert problems(method="tpe", throwaway={"rat": 0.1}) == [
        "search.throwaway.rat: unknown key 'rat'; did you mean 'rate'?"
    ]
    config = load(method="throwaway", throwaway={"rate": 0.25})
    assert config.search.method_settings == Throwaway.Settings(rate=0.25)
    stage = {"parameters": ["x"], "iterations": 1, "method": "throwaway", "settings": {"rate": 9}}
    assert problems(stages=[stage]) == [
        "search.stages.0.settings.rate: 9 is greater than the maximum of 1"
    ]
    section = config_schema()["$defs"]["search"]["properties"]["throwaway"]
    assert section["properties"]["rate"]["maximum"] == 1


def test_settings_given_in_python_are_checked_as_the_section_would_be() -> None:
    space = load().space
    with pytest.raises(ConfigError) as caught:
        create_optimizer("bayesian", space, settings={"xi": -1, "candidate": 5})
    assert [str(issue) for issue in caught.value.issues] == [
        "search.bayesian.candidate: unknown key 'candidate'; did you mean 'candidates'?",
        "search.bayesian.xi: -1 is less than the minimum of 0",
    ]
    typed = Bayesian.Settings(candidates=5)
    assert create_optimizer("bayesian", space, settings=typed).settings is typed


def test_loading_a_config_imports_only_the_methods_it_names() -> None:
    """A section or a method names a module; none of the others is imported (start-up)."""
    script = (
        "import sys\n"
        "from hypermax.config import config_from_dict\n"
        f"space = {SPACE!r}\n"
        "config_from_dict({'hyperparameters': space, 'search': {'method': 'grid', "
        "'tpe': {'gamma': 0.3}}}, require_function=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith('hypermax.optimizers.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [
        "['hypermax.optimizers._hyperopt',",
        "'hypermax.optimizers.base',",
        "'hypermax.optimizers.grid',",
        "'hypermax.optimizers.staged']",
    ]
