"""Hyperband: the schedule of brackets and rounds, promotion of the best, parallel filling,
and a search that finds the optimum region at the largest budget."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from hypermax.errors import ConfigError
from hypermax.optimizers import Hyperband, create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus

SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": 0.0, "max": 1.0},
            "y": {"type": "number", "min": -1.0, "max": 1.0},
        },
    }
)


def loss(flat: dict) -> float:
    """Better with more budget, best at (0.3, -0.2)."""
    return (flat["x"] - 0.3) ** 2 + (flat["y"] + 0.2) ** 2 + 1.0 / flat["$budget"]


def sequential(count: int, **settings) -> list[Trial]:
    optimizer = create_optimizer("hyperband", SPACE, seed=0, settings=settings)
    history: list[Trial] = []
    for number in range(1, count + 1):
        (flat,) = optimizer.suggest(history, 1)
        history.append(Trial(number, flat, SPACE.model_params(flat), TrialStatus.OK, loss(flat)))
    return history


def place(trial: Trial) -> tuple:
    return tuple(trial.flat[k] for k in ("$loop", "$group", "$round", "$budget"))


def test_one_loop_follows_the_hyperband_schedule() -> None:
    history = sequential(69, min_budget=1, max_budget=27, eta=3)
    assert Counter(place(t) for t in history) == {
        (1, 1, 0, 1): 27, (1, 1, 1, 3): 9, (1, 1, 2, 9): 3, (1, 1, 3, 27): 1,
        (1, 2, 0, 3): 12, (1, 2, 1, 9): 4, (1, 2, 2, 27): 1,
        (1, 3, 0, 9): 6, (1, 3, 1, 27): 2,
        (1, 4, 0, 27): 4,
    }  # fmt: skip
    # the model gets the run keys beside its parameters
    assert set(history[0].params) == {"x", "y", "$budget", "$loop", "$group", "$round"}


def test_each_round_promotes_the_best_of_the_previous_one() -> None:
    history = sequential(40, min_budget=1, max_budget=27, eta=3)

    def configs(key: tuple) -> list[tuple]:
        trials = [t for t in history if place(t)[:3] == key]
        return [(t.flat["x"], t.flat["y"]) for t in sorted(trials, key=lambda t: t.loss)]

    assert set(configs((1, 1, 1))) == set(configs((1, 1, 0))[:9])
    assert set(configs((1, 1, 2))) == set(configs((1, 1, 1))[:3])
    assert configs((1, 1, 3)) == configs((1, 1, 2))[:1]


def test_parallel_suggestions_start_later_brackets_while_a_round_runs() -> None:
    optimizer = create_optimizer("hyperband", SPACE, seed=0, settings={"max_budget": 9})
    first = optimizer.suggest([], 9)  # bracket 1, round 0: nine configurations at budget 1
    history = [
        Trial(n, f, SPACE.model_params(f), TrialStatus.OK, loss(f)) for n, f in enumerate(first, 1)
    ]
    history[-1].status, history[-1].loss = TrialStatus.RUNNING, None
    more = optimizer.suggest(history, 3)
    # round 1 of bracket 1 must wait for its round 0; bracket 2 starts instead
    assert [(f["$group"], f["$round"]) for f in more] == [(2, 0)] * 3
    assert len({(f["x"], f["y"]) for f in first + more}) == 12


def test_finds_the_optimum_region_at_the_largest_budget() -> None:
    history = sequential(120, min_budget=1, max_budget=27, eta=3, sampler="tpe")
    at_max = [t for t in history if t.flat["$budget"] == 27]
    best = min(at_max, key=lambda t: t.loss)
    assert abs(best.flat["x"] - 0.3) < 0.15 and abs(best.flat["y"] + 0.2) < 0.15


WIDE = Space.from_schema(
    {
        "type": "object",
        "properties": {f"x{i}": {"type": "number", "min": -1.0, "max": 1.0} for i in range(4)},
    }
)
WIDE_CENTRE = (0.3, -0.2, 0.6, -0.7)


def wide_loss(flat: dict) -> float:
    """Better with more budget, best at WIDE_CENTRE: 4-d, so random sampling finds it slowly."""
    distance = sum((flat[f"x{i}"] - c) ** 2 for i, c in enumerate(WIDE_CENTRE))
    return distance + 1.0 / flat["$budget"]


def best_at_max_budget(sampler: str, seed: int, count: int = 200) -> float:
    settings = {"min_budget": 1, "max_budget": 27, "eta": 3, "sampler": sampler}
    optimizer = create_optimizer("hyperband", WIDE, seed=seed, settings=settings)
    history: list[Trial] = []
    for number in range(1, count + 1):
        (flat,) = optimizer.suggest(history, 1)
        history.append(
            Trial(number, flat, WIDE.model_params(flat), TrialStatus.OK, wide_loss(flat))
        )
    return min(t.loss for t in history if t.flat["$budget"] == 27) - 1.0 / 27


@pytest.mark.slow
def test_the_tpe_sampler_beats_the_random_one() -> None:
    """Same seeds, same 200 trials: brackets sampled by TPE end far nearer the optimum
    (median distance 0.06 against random sampling's 0.21)."""
    seeds = range(5)
    tpe = statistics.median(best_at_max_budget("tpe", seed) for seed in seeds)
    random = statistics.median(best_at_max_budget("random", seed) for seed in seeds)
    assert tpe < 0.6 * random, f"tpe {tpe:.3f}, random {random:.3f}"


def test_resume_is_exact() -> None:
    whole = sequential(50, max_budget=9)
    optimizer = create_optimizer("hyperband", SPACE, seed=0, settings={"max_budget": 9})
    assert optimizer.suggest(whole[:30], 1)[0] == whole[30].flat


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_budget": 10, "max_budget": 5}, "min_budget <= max_budget"),
        ({"sampler": "tpee"}, "did you mean 'tpe'"),
        ({"sampler": "abh"}, "another method"),
    ],
)
def test_contradicting_settings_are_config_errors(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        create_optimizer("abh", SPACE, seed=0, settings=settings)
    assert "search.hyperband" in str(caught.value)


def test_failed_trials_are_never_promoted() -> None:
    optimizer = create_optimizer("hyperband", SPACE, seed=0, settings={"max_budget": 9})
    history: list[Trial] = []
    for number in range(1, 14):
        (flat,) = optimizer.suggest(history, 1)
        failed = flat["x"] > 0.3  # most of round 0 fails
        status, value = (TrialStatus.FAILED, None) if failed else (TrialStatus.OK, loss(flat))
        history.append(Trial(number, flat, SPACE.model_params(flat), status, value))
    first = [t for t in history if place(t)[:3] == (1, 1, 0)]
    later = [t for t in history if place(t)[:3] == (1, 1, 1)]
    survivors = {(t.flat["x"], t.flat["y"]) for t in first if t.status is TrialStatus.OK}
    assert later and {(t.flat["x"], t.flat["y"]) for t in later} <= survivors


def schedule(**settings) -> list[list[tuple]]:
    """One loop's brackets as (group, round, configurations, budget) per round."""
    optimizer = create_optimizer("hyperband", SPACE, seed=0, settings=settings)
    return [[(r.group, r.number, r.size, r.budget) for r in b] for b in optimizer.rounds(1)]


def test_the_schedule_for_the_original_hypermax_fractional_eta() -> None:
    """general_test.json of the original Hypermax: budgets 1 to 20, eta 1.643167673 (s_max 6:
    1.643^6 = 19.7). Counts are floored, budgets rounded, and every round's budget grows."""
    brackets = schedule(min_budget=1, max_budget=20, eta=1.643167673)
    assert brackets == [
        [(1, 0, 20, 1), (1, 1, 12, 2), (1, 2, 7, 3), (1, 3, 4, 5), (1, 4, 2, 7), (1, 5, 1, 12),
         (1, 6, 1, 20)],
        [(2, 0, 14, 2), (2, 1, 8, 3), (2, 2, 5, 5), (2, 3, 3, 7), (2, 4, 1, 12), (2, 5, 1, 20)],
        [(3, 0, 11, 3), (3, 1, 6, 5), (3, 2, 4, 7), (3, 3, 2, 12), (3, 4, 1, 20)],
        [(4, 0, 8, 5), (4, 1, 4, 7), (4, 2, 2, 12), (4, 3, 1, 20)],
        [(5, 0, 7, 7), (5, 1, 4, 12), (5, 2, 2, 20)],
        [(6, 0, 6, 12), (6, 1, 3, 20)],
        [(7, 0, 7, 20)],
    ]  # fmt: skip


def test_the_schedule_for_eta_e() -> None:
    """The original README's "technically E or 2.71": budgets 1 to 30 (its README's)."""
    assert schedule(min_budget=1, max_budget=30, eta=2.71) == [
        [(1, 0, 20, 2), (1, 1, 7, 4), (1, 2, 2, 11), (1, 3, 1, 30)],
        [(2, 0, 10, 4), (2, 1, 3, 11), (2, 2, 1, 30)],
        [(3, 0, 6, 11), (3, 1, 2, 30)],
        [(4, 0, 4, 30)],
    ]  # fmt: skip
    # fractional bounds keep fractional budgets
    first = schedule(min_budget=1.0, max_budget=30.0, eta=2.71)[0]
    expected = [30 / 2.71**3, 30 / 2.71**2, 30 / 2.71, 30]
    assert [budget for *_, budget in first] == pytest.approx(expected)


def test_a_fractional_eta_runs_the_promotions() -> None:
    history = sequential(45, min_budget=1, max_budget=20, eta=1.643167673)
    counts = Counter(place(t)[:3] for t in history)
    assert counts[(1, 1, 0)] == 20 and counts[(1, 1, 1)] == 12 and counts[(1, 1, 2)] == 7
    best_of_round_0 = sorted(
        (t for t in history if place(t)[:3] == (1, 1, 0)), key=lambda t: t.loss
    )
    promoted = {(t.flat["x"], t.flat["y"]) for t in history if place(t)[:3] == (1, 1, 1)}
    assert promoted == {(t.flat["x"], t.flat["y"]) for t in best_of_round_0[:12]}


@pytest.mark.parametrize("eta", [1, 0.5, 1.0])
def test_eta_must_be_above_one(eta: float) -> None:
    with pytest.raises(ConfigError, match=r"search\.hyperband\.eta: .* the minimum of 1"):
        create_optimizer("hyperband", SPACE, seed=0, settings={"eta": eta})
    with pytest.raises(ConfigError, match="eta > 1"):  # built in Python, past the schema
        create_optimizer("hyperband", SPACE, seed=0, settings=Hyperband.Settings(eta=eta))


def test_an_eta_that_gives_two_rounds_one_whole_budget_is_refused() -> None:
    """eta 1.2 over 1..3: budgets 1, 1, 1, 2, 2, 2, 3; the same configuration would run again
    at the same budget. Fractional bounds are fine."""
    with pytest.raises(ConfigError, match=r"two rounds the same budget \(1, 1, 1, 2, 2, 2, 3\)"):
        create_optimizer("hyperband", SPACE, seed=0, settings={"max_budget": 3, "eta": 1.2})
    create_optimizer("hyperband", SPACE, seed=0, settings={"max_budget": 3.0, "eta": 1.2})


def test_the_run_header_names_budgets_eta_and_sampler() -> None:
    optimizer = create_optimizer("abh", SPACE, seed=0, settings={"eta": 2.71, "sampler": "tpe"})
    assert (
        optimizer.describe()
        == "hyperband (budgets 1 to 81, eta 2.71, new configurations from tpe)"
    )
