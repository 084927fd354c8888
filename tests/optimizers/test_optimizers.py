"""Conformance of every registered search method to the optimizer contract, plus TPE specifics."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import pytest

from hypermax.errors import ConfigError
from hypermax.optimizers import Optimizer, available_methods, create_optimizer
from hypermax.space import Flat, Space, without_run_keys
from hypermax.trial import Trial, TrialStatus

METHODS = available_methods()
# settings that keep each method's work small on the rich spaces below
SETTINGS: dict[str, dict] = {
    "grid": {"resolution": 2, "max_points": 10**6},
    "bayesian": {"candidates": 100},
    # auto on these spaces would be optuna-gp again, which has its own rows: its own GP instead
    "auto": {"optuna_gp": False, "bayesian": {"candidates": 100}},
    "hyperband": {"sampler": "tpe", "max_budget": 9},
}


def make(method: str, space: Space, seed: int) -> Optimizer:
    """The optimizer as the conformance tests use it."""
    return create_optimizer(method, space, seed=seed, settings=SETTINGS.get(method))


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


MIXED = obj(
    lr={"type": "number", "min": 1e-5, "max": 1.0, "scaling": "exponential"},
    momentum={"type": "number", "min": 0.0, "max": 0.99},
    dropout={"type": "number", "min": 0.0, "max": 0.5, "rounding": 0.05},
    units={"type": "integer", "min": 8, "max": 512, "scaling": "logarithmic"},
    epochs={"type": "number", "min": 1, "max": 50, "rounding": 1},
    k={"type": "number", "min": 2, "max": 9, "mode": "randint"},
    shift={"type": "number", "mode": "normal", "mean": 0, "stddev": 1, "min": -2.0, "max": 2.0},
    optimizer={"type": "string", "enum": ["adam", "sgd", "rmsprop"]},
    batch={"enum": [16, 32, 64.5]},
    shuffle={"type": "boolean", "enum": [True, False]},
    seed={"constant": 42},
)

CONDITIONAL = obj(
    model={
        "anyOf": [
            obj(
                kind={"constant": "svm"},
                c={"type": "number", "min": 0.01, "max": 100, "scaling": "logarithmic"},
            ),
            obj(
                kind={"constant": "net"},
                layers={
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 4,
                    "items": obj(
                        units={"type": "integer", "min": 4, "max": 64},
                        activation={"enum": ["relu", "tanh"]},
                    ),
                },
            ),
            obj(kind={"constant": "constant"}),
        ]
    },
    solver={
        "oneOf": [
            obj(name={"constant": "sgd"}, momentum={"type": "number", "min": 0, "max": 1}),
            obj(name={"constant": "adam"}),
        ]
    },
    scale={"type": "array", "minItems": 0, "maxItems": 3, "items": {"enum": [1, 2, 3]}},
)

QUADRATIC = obj(
    x={"type": "number", "min": -5.0, "max": 5.0},
    y={"type": "number", "min": -5.0, "max": 5.0},
)


# --- helpers --------------------------------------------------------------------------------


def check(schema: Any, value: Any, where: str = "params") -> None:
    """Assert that a nested value is one the schema allows (written independently of `space`)."""
    if not isinstance(schema, dict):
        assert value == schema, where
        return
    if "constant" in schema:
        assert value == schema["constant"], f"{where}: {value!r}"
        return
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            fitting = [branch for branch in schema[keyword] if fits(branch, value)]
            assert len(fitting) == 1, f"{where}: {value!r} fits {len(fitting)} branches"
            return
    if "enum" in schema:
        assert any(
            value == allowed and type(value) is type(allowed) for allowed in schema["enum"]
        ), f"{where}: {value!r} is not one of {schema['enum']!r}"
        return
    kind = schema.get("type", "object")
    if kind == "object":
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        assert set(value) == set(schema["properties"]), f"{where}: keys {sorted(value)}"
        for key, sub in schema["properties"].items():
            check(sub, value[key], f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        low = schema.get("minItems", 1)
        assert low <= len(value) <= schema.get("maxItems", low), f"{where}: length {len(value)}"
        for position, item in enumerate(value):
            check(schema["items"], item, f"{where}.{position}")
    else:
        integer = (
            kind == "integer" or schema.get("rounding") == 1 or schema.get("mode") == "randint"
        )
        assert type(value) is (int if integer else float), f"{where}: {value!r} type"
        if "min" in schema:
            assert schema["min"] <= value <= schema["max"], f"{where}: {value!r} out of range"
        if schema.get("rounding"):
            steps = value / schema["rounding"]
            assert abs(steps - round(steps)) < 1e-6, f"{where}: {value!r} not rounded"


def fits(schema: Any, value: Any) -> bool:
    try:
        check(schema, value)
    except AssertionError:
        return False
    return True


def trial(space: Space, number: int, flat: Flat, loss: float | None, status=TrialStatus.OK):
    return Trial(number=number, flat=flat, params=space.nested(flat), status=status, loss=loss)


def run(
    optimizer: Optimizer, loss: Callable[[Any], float], count: int, batch: int = 1
) -> list[Trial]:
    """The search loop: suggest -> nested params -> loss -> history."""
    space = optimizer.space
    history: list[Trial] = []
    while len(history) < count:
        for flat in optimizer.suggest(history, n=batch):
            params = space.nested(flat)
            history.append(trial(space, len(history), flat, loss(params)))
    return history


def mixed_loss(params: dict) -> float:
    return (params["momentum"] - 0.9) ** 2 + params["dropout"] + (params["optimizer"] != "adam")


def quadratic(params: dict) -> float:
    return (params["x"] - 1.0) ** 2 + (params["y"] + 2.0) ** 2


@pytest.fixture(scope="module")
def mixed() -> Space:
    return Space.from_schema(MIXED)


@pytest.fixture(scope="module")
def mixed_history(mixed: Space) -> list[Trial]:
    """15 finished trials (more than TPE's startup trials), made by random search."""
    return run(create_optimizer("random", mixed, seed=123), mixed_loss, 15)


# --- the contract, for every method ---------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("history_size", [0, 15])
def test_suggestions_fit_the_space(
    method: str, history_size: int, mixed: Space, mixed_history: list[Trial]
) -> None:
    optimizer = make(method, mixed, 1)
    suggestions = optimizer.suggest(mixed_history[:history_size], n=6)
    assert len(suggestions) == 6
    for flat in suggestions:
        check(MIXED, mixed.nested(flat))
        assert mixed.flatten(mixed.nested(flat)) == without_run_keys(
            flat
        )  # a schedule (Hyperband) may add run keys


# Optuna's GP takes about a minute for these 40 trials on a quiet machine: room under load
SLOW_GP = [pytest.param("optuna-gp", marks=[pytest.mark.slow, pytest.mark.timeout(900)])]


@pytest.mark.parametrize("method", [m for m in METHODS if m != "optuna-gp"] + SLOW_GP)
def test_many_suggestions_fit_the_space(method: str, mixed: Space) -> None:
    history = run(make(method, mixed, 5), mixed_loss, 40, batch=4)
    for past in history:
        check(MIXED, past.params)
    seen = {name: {past.params[name] for past in history} for name in ("optimizer", "shuffle")}
    assert seen == {"optimizer": {"adam", "sgd", "rmsprop"}, "shuffle": {True, False}}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("history_size", [0, 15])
def test_same_seed_and_history_give_the_same_suggestions(
    method: str, history_size: int, mixed: Space, mixed_history: list[Trial]
) -> None:
    history = mixed_history[:history_size]
    first = make(method, mixed, 7).suggest(history, n=3)
    again = make(method, mixed, 7).suggest(history, n=3)
    assert first == again
    other = make(method, mixed, 8)
    if other.uses_seed:  # grid search, say, has one order whatever the seed
        assert other.suggest(history, n=3) != first


@pytest.mark.parametrize("method", METHODS)
def test_no_hidden_state_between_calls(
    method: str, mixed: Space, mixed_history: list[Trial]
) -> None:
    optimizer = make(method, mixed, 7)
    first = optimizer.suggest(mixed_history, n=2)
    optimizer.suggest(mixed_history[:3], n=5)
    assert optimizer.suggest(mixed_history, n=2) == first


@pytest.mark.parametrize("method", METHODS)
def test_a_fresh_optimizer_continues_a_sequential_search_exactly(method: str) -> None:
    """A resumed search runs a fresh optimizer: one by one, it must suggest what the optimizer
    that ran the search so far would have (a method may keep work between calls, not state),
    also after a trial it did not suggest (a default)."""
    space = Space.from_schema(QUADRATIC)
    live = make(method, space, 5)
    default = space.default()
    history = [Trial(1, default, default, TrialStatus.OK, loss=quadratic(space.nested(default)))]
    for number in range(2, 15):
        suggested = live.suggest(history, 1)
        if number in (2, 4, 11, 14):
            assert make(method, space, 5).suggest(history, 1) == suggested
        if not suggested:  # a grid that is done
            break
        flat = suggested[0]
        loss = quadratic(space.nested(flat))
        history.append(Trial(number, flat, space.nested(flat), TrialStatus.OK, loss=loss))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("history_size", [0, 15])
def test_a_batch_of_suggestions_is_distinct(
    method: str, history_size: int, mixed: Space, mixed_history: list[Trial]
) -> None:
    suggestions = make(method, mixed, 3).suggest(mixed_history[:history_size], n=4)
    assert len(suggestions) == 4
    distinct = {tuple(sorted(flat.items())) for flat in suggestions}
    assert len(distinct) == 4


@pytest.mark.parametrize("method", METHODS)
def test_running_and_failed_trials_in_history(
    method: str, mixed: Space, mixed_history: list[Trial]
) -> None:
    optimizer = make(method, mixed, 11)
    pending = [
        trial(mixed, 15 + i, flat, None, TrialStatus.RUNNING)
        for i, flat in enumerate(optimizer.suggest(mixed_history, n=3))
    ]
    failed = [
        trial(mixed, 18, mixed_history[0].flat, None, TrialStatus.FAILED),
        trial(mixed, 19, mixed_history[1].flat, 1.0, TrialStatus.KILLED),
    ]
    suggestions = optimizer.suggest(mixed_history + pending + failed, n=2)
    for flat in suggestions:
        check(MIXED, mixed.nested(flat))
    assert not {tuple(sorted(f.items())) for f in suggestions} & {
        tuple(sorted(p.flat.items())) for p in pending
    }


def test_tpe_takes_running_trials_into_account(mixed: Space, mixed_history: list[Trial]) -> None:
    optimizer = create_optimizer("tpe", mixed, seed=11)
    in_flight = optimizer.suggest(mixed_history, n=3)
    # Same history length (so the same derived seed); only the status of the last three differs:
    # interrupted trials are ignored, running ones must weigh in.
    running = [trial(mixed, 15 + i, f, None, TrialStatus.RUNNING) for i, f in enumerate(in_flight)]
    ignored = [
        trial(mixed, 15 + i, f, None, TrialStatus.INTERRUPTED) for i, f in enumerate(in_flight)
    ]
    with_running = optimizer.suggest(mixed_history + running, n=2)
    without = optimizer.suggest(mixed_history + ignored, n=2)
    assert with_running != without


@pytest.mark.parametrize("method", METHODS)
def test_conditional_space_through_the_whole_loop(method: str) -> None:
    space = Space.from_schema(CONDITIONAL)
    branches = CONDITIONAL["properties"]["model"]["anyOf"]
    solvers = CONDITIONAL["properties"]["solver"]["oneOf"]

    def fake_loss(params: dict) -> float:
        model = params["model"]
        value = {"svm": 0.5, "net": 0.2, "constant": 0.9}[model["kind"]]
        if model["kind"] == "net":
            value += 0.05 * len(model["layers"]) - 0.001 * model["layers"][0]["units"]
        return value + 0.1 * (params["solver"]["name"] == "adam") + 0.01 * sum(params["scale"])

    history = run(make(method, space, 21), fake_loss, 60, batch=3)
    assert len(history) == 60
    for past in history:
        params, flat = past.params, past.flat
        check(CONDITIONAL, params)
        # the recorded branch is the one the model got, with exactly that branch's keys
        chosen = branches[flat["model.$branch"]]
        assert params["model"]["kind"] == chosen["properties"]["kind"]["constant"]
        assert set(params["model"]) == set(chosen["properties"])
        solver = solvers[flat["solver.$branch"]]
        assert set(params["solver"]) == set(solver["properties"])
        assert not any(key.startswith("model.layers") for key in flat) or (
            params["model"]["kind"] == "net"
        )
        assert space.flatten(params) == without_run_keys(flat)
    kinds = {past.params["model"]["kind"] for past in history}
    if method != "grid":  # a grid walks its first branch before the others
        assert kinds == {"svm", "net", "constant"}
        lengths = {
            len(p.params["model"]["layers"]) for p in history if "layers" in p.params["model"]
        }
        assert len(lengths) > 1
        assert len({len(past.params["scale"]) for past in history}) > 1


# --- method choice and settings -------------------------------------------------------------


@pytest.mark.parametrize(("typo", "meant"), [("tpee", "tpe"), ("randon", "random"), ("tp", "tpe")])
def test_unknown_method_suggests_the_closest(typo: str, meant: str, mixed: Space) -> None:
    with pytest.raises(ConfigError) as caught:
        create_optimizer(typo, mixed)
    (issue,) = caught.value.issues
    assert issue.path == "search.method"
    assert f"unknown method {typo!r}; did you mean {meant!r}?" in issue.message
    assert "available: " + ", ".join(METHODS) in issue.message
    assert str(caught.value).startswith("invalid config: search.method: ")


def test_unknown_method_without_a_close_match(mixed: Space) -> None:
    with pytest.raises(ConfigError) as caught:
        create_optimizer("simulated-annealing-xyz", mixed)
    (issue,) = caught.value.issues
    assert issue.path == "search.method"
    assert "did you mean" not in issue.message
    assert "available: " in issue.message


@pytest.mark.parametrize("method", ["tpe", "random"])
def test_builtin_methods_are_registered(method: str) -> None:
    assert method in METHODS


@pytest.mark.parametrize(
    "settings", [{"gamma": 0.5}, {"candidates": 2}, {"startup_trials": 50}, {"prior_weight": 0.2}]
)
def test_tpe_settings_change_behaviour(settings: dict, mixed: Space) -> None:
    history = run(create_optimizer("random", mixed, seed=9), mixed_loss, 25)
    default = create_optimizer("tpe", mixed, seed=4).suggest(history, n=3)
    tuned = create_optimizer("tpe", mixed, seed=4, settings=settings).suggest(history, n=3)
    assert tuned != default


def test_tpe_starts_with_random_trials(mixed: Space, mixed_history: list[Trial]) -> None:
    # the first `startup_trials` (10 by default) trials are drawn as random search draws them:
    # with 8 in the history, the next 2 are still random
    few = mixed_history[:8]
    random = create_optimizer("random", mixed, seed=4).suggest(few, n=2)
    assert create_optimizer("tpe", mixed, seed=4).suggest(few, n=2) == random
    lots = create_optimizer("tpe", mixed, seed=4, settings={"startup_trials": 50})
    assert lots.suggest(mixed_history, n=2) == create_optimizer("random", mixed, seed=4).suggest(
        mixed_history, n=2
    )
    assert create_optimizer("tpe", mixed, seed=4).suggest(mixed_history, n=2) != (
        create_optimizer("random", mixed, seed=4).suggest(mixed_history, n=2)
    )


SPHERE_CENTRE = (1.0, -2.0, 3.0, -0.5)
SPHERE = obj(**{f"x{i}": {"type": "number", "min": -5.0, "max": 5.0} for i in range(4)})


def sphere(params: dict) -> float:
    return sum((params[f"x{i}"] - centre) ** 2 for i, centre in enumerate(SPHERE_CENTRE))


# trials per run: the GPs learn fastest and cost the most per trial; ATPE costs ~1 s a trial
BUDGETS = {"bayesian": 20, "auto": 20, "optuna-gp": 20, "atpe": 30}
SLOW_METHODS = {"atpe", "optuna-gp", "bayesian", "auto"}  # 5 to 80 s each


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(m, marks=[pytest.mark.slow] if m in SLOW_METHODS else [])
        for m in METHODS
        if m not in ("grid", "random", "hyperband")
    ],
)
def test_learning_methods_beat_random_search(method: str) -> None:
    """Every learning method clearly beats random search with the same seeds and budget on a
    4-d sphere (optimum 0 at (1, -2, 3, -0.5)), where random search's median best is 6.4
    after 30 or 40 trials and 9.5 after 20; the methods reach 0.1 to 0.4 of that (a fixed
    bound such as "below 0.5" on an easy 2-d problem was met by random search too). Grid and
    random do not learn; hyperband has its own test, on a loss that depends on budget."""
    space = Space.from_schema(SPHERE)
    trials = BUDGETS.get(method, 40)

    def median_best(name: str) -> float:
        runs = [run(make(name, space, seed), sphere, trials) for seed in range(5)]
        return statistics.median(min(t.loss for t in history) for history in runs)

    learned, random = median_best(method), median_best("random")
    assert learned < 0.6 * random, f"{method}: median best {learned:.3f}, random {random:.3f}"


def test_tpe_beats_random_on_a_quadratic() -> None:
    space = Space.from_schema(QUADRATIC)
    seeds = range(5)

    def best(method: str, seed: int) -> float:
        history = run(make(method, space, seed), quadratic, 60)
        return min(past.loss for past in history)

    tpe = [best("tpe", seed) for seed in seeds]
    random = [best("random", seed) for seed in seeds]
    assert statistics.median(tpe) < statistics.median(random)
    assert statistics.median(tpe) < 0.5  # close to the optimum at (1, -2)


# --- history from an older space ------------------------------------------------------------


def without_dropout(flat: Flat) -> Flat:
    return {key: value for key, value in flat.items() if key != "dropout"}


STALE = [
    pytest.param(without_dropout, id="missing-key"),
    pytest.param(lambda flat: {**flat, "optimizer": "adagrad"}, id="enum-value-gone"),
    pytest.param(lambda flat: {**flat, "lr": "fast"}, id="wrong-type"),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("make_stale", STALE)
def test_trials_from_an_older_space_are_skipped(
    method: str, make_stale: Callable[[Flat], Flat], mixed: Space, mixed_history: list[Trial]
) -> None:
    stale = [
        Trial(past.number, make_stale(past.flat), past.params, TrialStatus.OK, past.loss)
        for past in mixed_history[:12]
    ]
    for history in (stale, stale + mixed_history):
        for flat in make(method, mixed, 2).suggest(history, n=2):
            check(MIXED, mixed.nested(flat))
    if method in ("tpe", "random"):
        # 12 unusable trials leave TPE nothing to model (startup_trials is 10): it draws as
        # random does
        assert make(method, mixed, 2).suggest(stale, n=2) == (
            create_optimizer("random", mixed, seed=2).suggest(stale, n=2)
        )


def test_conditional_history_from_an_older_space() -> None:
    space = Space.from_schema(CONDITIONAL)
    history = run(create_optimizer("random", space, seed=3), lambda _: 0.5, 12)
    # a branch that no longer exists, and a trial that lacks most keys
    history.append(Trial(12, {**history[0].flat, "model.$branch": 7}, {}, TrialStatus.OK, 0.1))
    history.append(Trial(13, {"solver.$branch": 0}, {}, TrialStatus.OK, 0.1))
    for flat in create_optimizer("tpe", space, seed=3).suggest(history, n=3):
        check(CONDITIONAL, space.nested(flat))
