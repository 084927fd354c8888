"""Staged and incremental tuning: which parameters vary in which stage, what the others are
held at, and resuming from the recorded stage."""

from __future__ import annotations

from hypermax.optimizers.staged import Incremental, Stage, Staged
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus

SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": 0, "max": 1, "default": 0.9},
            "y": {"type": "number", "min": 0, "max": 1, "default": 0.9},
            "opt": {
                "type": "object",
                "properties": {
                    "lr": {"type": "number", "min": 1e-4, "max": 1, "scaling": "logarithmic"},
                    "kind": {"enum": ["sgd", "adam"]},
                },
            },
            "model": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {"depth": {"type": "integer", "min": 1, "max": 9}},
                    },
                    {"constant": "linear"},
                ]
            },
        },
    }
)


def loss(flat: dict) -> float:
    return (flat["x"] - 0.2) ** 2 + (flat["y"] - 0.4) ** 2 + (flat["opt.kind"] == "sgd")


def run(optimizer: Staged, count: int) -> list[Trial]:
    history: list[Trial] = []
    for number in range(1, count + 1):
        (flat,) = optimizer.suggest(history, 1)
        history.append(Trial(number, flat, SPACE.nested(flat), TrialStatus.OK, loss=loss(flat)))
    return history


def varying(trials: list[Trial]) -> set[str]:
    keys = {key for t in trials for key in t.flat if key != "$stage"}
    return {key for key in keys if len({repr(t.flat.get(key)) for t in trials}) > 1}


def test_stages_tune_their_parameters_and_hold_the_rest_at_the_best() -> None:
    stages = [Stage(("x",), "tpe", 12), Stage(("y", "opt"), "tpe", 12)]
    history = run(Staged(SPACE, stages, default_method="random", seed=1), 34)
    first, second, rest = history[:12], history[12:24], history[24:]
    assert [t.flat["$stage"] for t in history] == [0] * 12 + [1] * 12 + [2] * 10
    assert varying(first) == {"x"}
    default = SPACE.default()
    assert all(t.flat["y"] == default["y"] and t.flat["opt.kind"] == "sgd" for t in first)
    assert varying(second) == {"y", "opt.lr", "opt.kind"}
    best_x = min(first, key=lambda t: t.loss).flat["x"]
    assert all(t.flat["x"] == best_x for t in second)
    assert {"x", "y", "model.$branch"} <= varying(rest)  # past the stages: everything
    assert all(SPACE.fits(t.flat) for t in history)


def test_a_resumed_staged_search_continues_in_the_same_stage() -> None:
    stages = [Stage(("x",), "tpe", 6), Stage(("model",), "random", 6)]
    whole = run(Staged(SPACE, stages, seed=2), 12)
    again = Staged(SPACE, stages, seed=2).suggest(whole[:7], 1)[0]
    assert again == whole[7].flat
    assert varying(whole[6:]) <= {"model", "model.$branch", "model.depth"}


def test_incremental_groups_take_turns() -> None:
    optimizer = Staged(
        SPACE, incremental=Incremental(groups=(("x",), ("y",)), iterations=4), seed=0
    )
    history = run(optimizer, 16)
    assert [varying(history[i : i + 4]) for i in range(0, 16, 4)] == [{"x"}, {"y"}] * 2


def test_incremental_random_subsets_are_seeded() -> None:
    spec = Incremental(size=1, iterations=3, method="random")
    picks = [Staged(SPACE, incremental=spec, seed=5).stage(i).parameters for i in range(6)]
    assert picks == [Staged(SPACE, incremental=spec, seed=5).stage(i).parameters for i in range(6)]
    assert all(len(p) == 1 for p in picks if p) and len(set(picks)) > 1


def test_a_staged_search_says_what_its_stages_run() -> None:
    space = Space.from_schema(
        {"type": "object", "properties": {"x": {"type": "number", "min": 0, "max": 1}}}
    )
    stages = [Stage(("x",), "tpe", 5), Stage(None, "auto", 5)]
    assert Staged(space, stages).describe() == "staged (2 stage(s): tpe, auto)"
    assert Staged(space, stages[:1], incremental=Incremental(method="random")).describe() == (
        "staged (1 stage(s): tpe, then incremental random)"
    )
