"""The analysis functions on generated trials of known structure, and the CLI when there is
nothing to analyse.

Trials are drawn by the real random optimizer from a real space and scored by a formula, so
every test knows what the analysis must find: which parameter drives the loss, where the optimum
is, what the hyper-model should predict.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hypermax.analysis import (
    AnalysisError,
    HyperModel,
    TrialTable,
    correlations,
    history,
    hotspot_grid,
    slices,
    space_summary,
    table_from,
)
from hypermax.analysis.report import analyse
from hypermax.analysis.stats import bins_for
from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import Trial, TrialStatus

UNIT = {"type": "number", "min": 0, "max": 1}
Flat = dict[str, Any]


def space_of(**properties: Any) -> Space:
    return Space.from_schema({"type": "object", "properties": properties})


def draw(space: Space, n: int, seed: int) -> list[Flat]:
    """``n`` flat parameter sets from the random optimizer."""
    return create_optimizer("random", space, seed=seed).suggest([], n)


def scored(
    space: Space,
    flats: Sequence[Flat],
    loss: Callable[[Flat], float],
    *,
    time: Callable[[Flat], float] | None = None,
    metrics: Callable[[Flat], dict[str, float]] | None = None,
    first: int = 1,
) -> list[Trial]:
    """Successful trials whose loss (and time, metrics) come from formulas."""
    return [
        Trial(
            number=first + position,
            flat=dict(flat),
            params=space.nested(flat),
            status=TrialStatus.OK,
            loss=float(loss(flat)),
            time=None if time is None else float(time(flat)),
            metrics={} if metrics is None else metrics(flat),
        )
        for position, flat in enumerate(flats)
    ]


def bin_range(label: str) -> tuple[float, float]:
    """The edges in a numeric bin label such as ``0.625–0.75`` (an en dash between them)."""
    low, high = label.split("\u2013")
    return float(low), float(high)


def bin_holding(labels: list[str], value: float) -> int:
    """The position of the bin whose label brackets ``value``."""
    found = [
        i for i, label in enumerate(labels) if bin_range(label)[0] <= value < bin_range(label)[1]
    ]
    assert len(found) == 1, (labels, value)
    return found[0]


def loss_rows(table: TrialTable) -> dict[str, Any]:
    """Correlations with the loss, by parameter (or one-hot ``name=value``) name."""
    return {row.parameter: row for row in correlations(table) if row.target == "loss"}


# --- one parameter drives the loss ---------------------------------------------------------

ONE_DRIVER_SPACE = space_of(a=UNIT, b=UNIT, c=UNIT, kind={"enum": ["p", "q"]})


@pytest.fixture(scope="module")
def one_driver() -> TrialTable:
    """150 trials whose loss depends on ``a`` alone (monotonically)."""
    flats = draw(ONE_DRIVER_SPACE, 150, seed=11)
    trials = scored(ONE_DRIVER_SPACE, flats, lambda f: math.exp(3 * f["a"]))
    return table_from(trials, ONE_DRIVER_SPACE)


def test_the_driving_parameter_correlates_and_the_others_do_not(one_driver: TrialTable) -> None:
    rows = loss_rows(one_driver)
    assert set(rows) == {"a", "b", "c", "kind=p", "kind=q"}
    assert rows["a"].spearman == pytest.approx(1.0)  # the loss rises with a, nothing else
    assert rows["a"].pearson > 0.9
    for name in ("b", "c", "kind=p", "kind=q"):
        assert abs(rows[name].spearman) < 0.2, (name, rows[name])
    assert {row.trials for row in rows.values()} == {150}


def test_the_driving_parameter_ranks_first_in_importance(one_driver: TrialTable) -> None:
    model = HyperModel(one_driver)
    ranked = model.importance()
    assert ranked[0].parameter == "a"
    assert {row.parameter for row in ranked} == {"a", "b", "c", "kind"}
    assert ranked[0].mean > 0.5  # shuffling a destroys most of the fit
    for row in ranked[1:]:
        assert row.mean < 0.05 * ranked[0].mean, row
    assert model.r2 > 0.9


# --- hotspot grids and bins ---------------------------------------------------------------


@pytest.fixture(scope="module")
def bowl() -> TrialTable:
    """400 trials of (a-0.7)² + (b-0.2)² over [0, 1]²: the optimum is at (0.7, 0.2)."""
    space = space_of(a=UNIT, b=UNIT)
    flats = draw(space, 400, seed=5)
    return table_from(
        scored(space, flats, lambda f: (f["a"] - 0.7) ** 2 + (f["b"] - 0.2) ** 2), space
    )


def test_the_lowest_mean_cell_of_the_hotspot_grid_holds_the_optimum(bowl: TrialTable) -> None:
    grid = hotspot_grid(bowl, "a", "b")
    assert (grid.x, grid.y) == ("a", "b")
    assert len(grid.x_labels) == len(grid.y_labels) == 8
    assert bin_range(grid.x_labels[0])[0] == 0 and bin_range(grid.x_labels[-1])[1] == 1
    mean = np.array(grid.mean)
    assert mean.shape == (8, 8)  # rows are y (b), columns x (a)
    assert np.isfinite(mean).all()  # 400 trials leave no cell empty
    best = np.unravel_index(np.argmin(mean), mean.shape)
    assert best == (bin_holding(grid.y_labels, 0.2), bin_holding(grid.x_labels, 0.7))
    count = np.array(grid.count)
    assert count.sum() == len(bowl)
    assert (np.array(grid.minimum) <= mean + 1e-12).all()
    assert (np.array(grid.minimum) <= np.array(grid.median) + 1e-12).all()


def test_a_hotspot_grid_with_swapped_axes_is_the_transpose(bowl: TrialTable) -> None:
    grid = hotspot_grid(bowl, "a", "b")
    swapped = hotspot_grid(bowl, "b", "a")
    assert swapped.x_labels == grid.y_labels
    np.testing.assert_allclose(np.array(swapped.mean), np.array(grid.mean).T)
    np.testing.assert_array_equal(np.array(swapped.count), np.array(grid.count).T)


def test_a_hotspot_grid_of_an_unknown_parameter_names_the_known_ones(bowl: TrialTable) -> None:
    with pytest.raises(AnalysisError, match=r"'nope'.*known: a, b"):
        hotspot_grid(bowl, "a", "nope")


LOG_SPACE = space_of(
    lr={"type": "number", "min": 1e-4, "max": 1, "scaling": "logarithmic"}, a=UNIT
)


@pytest.fixture(scope="module")
def log_table() -> TrialTable:
    """Best learning rate 10^-2.5; a metric that is exactly log10(lr)."""
    flats = draw(LOG_SPACE, 200, seed=2)
    trials = scored(
        LOG_SPACE,
        flats,
        lambda f: (math.log10(f["lr"]) + 2.5) ** 2 + 0.1 * f["a"],
        metrics=lambda f: {"log_lr": math.log10(f["lr"])},
    )
    return table_from(trials, LOG_SPACE)


def test_log_scaled_parameters_get_log_spaced_bins(log_table: TrialTable) -> None:
    grid = hotspot_grid(log_table, "lr", "a", bins=4)
    assert grid.x_labels == ["0.0001–0.001", "0.001–0.01", "0.01–0.1", "0.1–1"]
    assert grid.y_labels == ["0–0.25", "0.25–0.5", "0.5–0.75", "0.75–1"]
    # log-uniform draws fill log-spaced bins about evenly (linear bins would put ~90% in the last)
    per_lr_bin = np.array(grid.count).sum(axis=0)
    assert per_lr_bin.min() > 0.15 * len(log_table)


def test_slices_of_a_log_parameter_use_geometric_bins(log_table: TrialTable) -> None:
    cut = {s.parameter: s for s in slices(log_table, bins=4)}
    lr = cut["lr"]
    assert lr.log and lr.numeric
    assert lr.bin_centers is not None
    np.testing.assert_allclose(lr.bin_centers, [10**-3.5, 10**-2.5, 10**-1.5, 10**-0.5])
    assert int(np.nanargmin(lr.bin_mean)) == bin_holding(lr.bin_labels, 10**-2.5)
    assert len(lr.values) == len(lr.losses) == len(log_table)
    assert not cut["a"].log
    assert cut["a"].bin_centers == pytest.approx([0.125, 0.375, 0.625, 0.875])


def test_correlations_of_a_log_parameter_are_on_its_log_axis(log_table: TrialTable) -> None:
    metric = {r.parameter: r for r in correlations(log_table) if r.target == "log_lr"}
    assert metric["lr"].pearson == pytest.approx(1.0)  # linear in log10(lr), not in lr
    assert metric["lr"].spearman == pytest.approx(1.0)
    assert abs(metric["a"].spearman) < 0.2
    assert {r.target for r in correlations(log_table)} == {"loss", "log_lr"}


# --- the hyper-model ----------------------------------------------------------------------

SMOOTH_SPACE = space_of(a=UNIT, b=UNIT, c=UNIT)


def smooth(f: Flat) -> float:
    """A smooth 3-D bowl with a cross term: with a fixed, the best b is 0.6 - 0.15 a."""
    return (
        (f["a"] - 0.3) ** 2
        + (f["b"] - 0.6) ** 2
        + 0.5 * (f["c"] - 0.5) ** 2
        + 0.3 * f["a"] * f["b"]
    )


def smooth_time(f: Flat) -> float:
    return 1.0 + 2.0 * f["c"]


@pytest.fixture(scope="module")
def smooth_model() -> HyperModel:
    flats = draw(SMOOTH_SPACE, 200, seed=7)
    trials = scored(SMOOTH_SPACE, flats, smooth, time=smooth_time)
    return HyperModel(table_from(trials, SMOOTH_SPACE))


def test_the_hyper_model_cross_validates_well_on_a_smooth_function(
    smooth_model: HyperModel,
) -> None:
    assert smooth_model.r2 > 0.8
    assert smooth_model.time is not None and smooth_model.time.r2 > 0.8


@pytest.mark.parametrize(
    "point",
    [
        {"a": 0.3, "b": 0.6, "c": 0.5},
        {"a": 0.9, "b": 0.1, "c": 0.05},
        {"a": 0.1, "b": 0.95, "c": 0.9},
        {"a": 0.55, "b": 0.35, "c": 0.2},
    ],
)
def test_predict_is_close_to_the_true_loss_and_time(smooth_model: HyperModel, point: Flat) -> None:
    loss, seconds = smooth_model.predict(point)
    assert loss == pytest.approx(smooth(point), abs=0.05)
    assert seconds is not None
    assert seconds == pytest.approx(smooth_time(point), abs=0.1)


def test_best_with_fixed_holds_the_value_and_finds_the_best_of_the_others(
    smooth_model: HyperModel,
) -> None:
    params, predicted = smooth_model.best_with_fixed({"a": 0.9})
    assert params["a"] == 0.9
    # with a = 0.9 the loss is lowest at b = 0.6 - 0.15 * 0.9 = 0.465 and c = 0.5
    assert params["b"] == pytest.approx(0.465, abs=0.1)
    assert params["c"] == pytest.approx(0.5, abs=0.12)
    best = smooth({"a": 0.9, "b": 0.465, "c": 0.5})
    assert predicted == pytest.approx(best, abs=0.03)
    assert smooth(params) == pytest.approx(best, abs=0.03)


def test_best_with_fixed_rejects_a_parameter_that_is_not_in_the_search(
    smooth_model: HyperModel,
) -> None:
    with pytest.raises(AnalysisError, match=r"cannot fix 'd'.*known: a, b, c"):
        smooth_model.best_with_fixed({"d": 1})


def test_explore_finds_an_optimum_that_was_not_sampled() -> None:
    space = space_of(a=UNIT, b=UNIT)
    # no trial within 0.2 of the optimum (0.5, 0.5): the best observed loss is at least 0.04
    flats = [f for f in draw(space, 150, seed=3) if math.hypot(f["a"] - 0.5, f["b"] - 0.5) >= 0.2]
    trials = scored(space, flats, lambda f: (f["a"] - 0.5) ** 2 + (f["b"] - 0.5) ** 2)
    model = HyperModel(table_from(trials, space))
    found = model.explore(samples=2000, seed=0)

    assert found.samples == 2000
    assert found.observed_best >= 0.04
    assert found.predicted_best < found.observed_best / 2
    assert found.likely_better
    for name in ("a", "b"):
        low, high = found.region[name]
        assert low <= 0.5 <= high, (name, found.region)
        assert high - low < 0.5  # a region, not the whole range
        assert found.predicted_best_params[name] == pytest.approx(0.5, abs=0.1)


def test_explore_does_not_promise_better_where_the_optimum_was_sampled(
    smooth_model: HyperModel,
) -> None:
    found = smooth_model.explore()
    assert found.predicted_best == pytest.approx(found.observed_best, abs=0.02)
    assert set(found.predicted_best_params) == {"a", "b", "c"}


def test_the_hyper_model_needs_eight_trials() -> None:
    space = space_of(a=UNIT, b=UNIT)
    table = table_from(scored(space, draw(space, 7, seed=0), lambda f: f["a"]), space)
    with pytest.raises(AnalysisError, match=r"at least 8 successful trials.*has 7"):
        HyperModel(table)


# --- categorical and conditional parameters -----------------------------------------------

CONDITIONAL_SPACE = space_of(
    lr={"type": "number", "min": 1e-4, "max": 1, "scaling": "logarithmic"},
    opt={"enum": ["adam", "sgd", "rms"]},
    model={
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "kind": {"constant": "svm"},
                    "c": {"type": "number", "min": 0.1, "max": 10},
                },
            },
            {
                "type": "object",
                "properties": {
                    "kind": {"constant": "tree"},
                    "depth": {"type": "integer", "min": 1, "max": 8},
                },
            },
        ]
    },
)
OPT_LOSS = {"adam": 0.0, "sgd": 1.0, "rms": 2.0}


def conditional_loss(f: Flat) -> float:
    inner = f["model.c"] / 100 if "model.c" in f else f["model.depth"] / 100
    return OPT_LOSS[f["opt"]] + inner


@pytest.fixture(scope="module")
def conditional() -> TrialTable:
    flats = draw(CONDITIONAL_SPACE, 120, seed=4)
    return table_from(scored(CONDITIONAL_SPACE, flats, conditional_loss), CONDITIONAL_SPACE)


def test_categorical_parameters_correlate_one_hot(conditional: TrialTable) -> None:
    rows = loss_rows(conditional)
    assert {"opt=adam", "opt=sgd", "opt=rms"} <= set(rows)
    assert "opt" not in rows
    assert rows["opt=adam"].spearman < -0.4  # adam lowers the loss
    assert rows["opt=rms"].spearman > 0.4  # rms raises it
    assert abs(rows["lr"].spearman) < 0.2
    assert {"model.kind=svm", "model.kind=tree"} <= set(rows)


def test_conditional_parameters_count_only_the_trials_that_had_them(
    conditional: TrialTable,
) -> None:
    svm = int(conditional.columns["model.c"].present.sum())
    tree = int(conditional.columns["model.depth"].present.sum())
    assert svm > 20 and tree > 20 and svm + tree == len(conditional)
    rows = loss_rows(conditional)
    assert rows["model.c"].trials == svm
    assert rows["model.depth"].trials == tree
    assert math.isfinite(rows["model.c"].spearman)
    assert math.isfinite(rows["model.depth"].spearman)
    assert rows["opt=adam"].trials == len(conditional)
    # the slices and coverage of a conditional parameter hold only the trials that had it
    cut = {s.parameter: s for s in slices(conditional)}
    assert len(cut["model.c"].values) == len(cut["model.c"].losses) == svm
    coverage = {c.parameter: c for c in space_summary(conditional).coverage}
    assert coverage["model.depth"].trials == tree
    assert coverage["model.depth"].distinct == 8


@pytest.fixture(scope="module")
def conditional_model(conditional: TrialTable) -> HyperModel:
    return HyperModel(conditional)


def test_the_hyper_model_handles_missing_parameters(conditional_model: HyperModel) -> None:
    model = conditional_model
    assert model.loss.name == "random forest"  # the GP cannot take missing values
    assert model.time is None  # no trial recorded a time
    assert model.r2 > 0.8
    adam, seconds = model.predict(
        {"lr": 0.01, "opt": "adam", "model.$branch": 1, "model.kind": "tree", "model.depth": 3}
    )
    rms, _ = model.predict(
        {"lr": 0.01, "opt": "rms", "model.$branch": 0, "model.kind": "svm", "model.c": 5.0}
    )
    assert seconds is None
    assert adam == pytest.approx(0.03, abs=0.3)
    assert rms == pytest.approx(2.05, abs=0.3)
    assert model.importance()[0].parameter == "opt"


def test_best_with_a_fixed_conditional_parameter_keeps_its_branch(
    conditional_model: HyperModel,
) -> None:
    """Fixing ``model.c`` (a parameter of the svm branch only) must give svm parameters with
    that value, even though the tree branch has lower losses (depth 1: 0.01 against 0.05)."""
    params, _ = conditional_model.best_with_fixed({"model.c": 5.0})
    assert params["model"] == {"kind": "svm", "c": 5.0}, params
    assert params["opt"] == "adam"


# --- history, coverage, the table ---------------------------------------------------------


def test_history_is_in_trial_order_and_best_so_far_is_monotone() -> None:
    space = space_of(a=UNIT, b=UNIT)
    trials = scored(space, draw(space, 40, seed=9), lambda f: f["a"] + f["b"])
    for position, trial in enumerate(trials):
        trial.number = 3 * position + 2  # gaps, as failed trials leave
    failed = [
        Trial(number=3 * i + 3, flat={"a": 0.5, "b": 0.5}, params={"a": 0.5, "b": 0.5})
        for i in range(5)
    ]
    for trial in failed:
        trial.status = TrialStatus.FAILED
    shuffled = trials + failed
    random.Random(0).shuffle(shuffled)

    table = table_from(shuffled, space)
    assert len(table) == 40 and table.failed == 5
    data = history(table)
    assert data.trials == sorted(t.number for t in trials)
    by_number = {t.number: t.loss for t in trials}
    assert data.loss == [by_number[n] for n in data.trials]
    assert all(b <= a for a, b in itertools.pairwise(data.best_so_far))
    assert data.best_so_far == list(np.minimum.accumulate(data.loss))
    assert data.best_so_far[-1] == min(by_number.values())
    assert all(best <= loss for best, loss in zip(data.best_so_far, data.loss, strict=True))


SUMMARY_SPACE = space_of(
    a=UNIT, n={"type": "integer", "min": 1, "max": 4}, opt={"enum": ["adam", "sgd", "rms"]}
)


def test_space_summary_counts_trials_distinct_values_and_covered_range() -> None:
    flats = draw(SUMMARY_SPACE, 100, seed=1)
    for flat in flats:
        flat["a"] = flat["a"] / 2  # only the lower half of a's range is ever tried
    table = table_from(scored(SUMMARY_SPACE, flats, lambda f: f["a"] + f["n"]), SUMMARY_SPACE)
    summary = space_summary(table)
    assert summary.cardinality == math.inf
    assert summary.parameters == 3
    coverage = {c.parameter: c for c in summary.coverage}
    assert set(coverage) == {"a", "n", "opt"}
    assert coverage["a"].trials == 100 and coverage["a"].distinct == 100
    assert coverage["a"].covered == pytest.approx(0.5)  # 5 of the 10 bins over [0, 1]
    assert coverage["n"].distinct == 4
    assert coverage["opt"].distinct == 3
    assert coverage["opt"].covered == pytest.approx(1.0)


def test_space_summary_of_a_finite_space() -> None:
    space = space_of(n={"type": "integer", "min": 1, "max": 4}, opt={"enum": ["x", "y", "z"]})
    table = table_from(scored(space, draw(space, 30, seed=0), lambda f: f["n"]), space)
    summary = space_summary(table)
    assert summary.cardinality == 12
    assert summary.parameters == 2


def test_coverage_of_a_categorical_parameter_counts_the_values_never_tried() -> None:
    """Two of the three optimizers tried: two thirds of its range, not all of it."""
    flats = [f for f in draw(SUMMARY_SPACE, 100, seed=1) if f["opt"] != "rms"]
    table = table_from(scored(SUMMARY_SPACE, flats, lambda f: f["a"]), SUMMARY_SPACE)
    coverage = {c.parameter: c for c in space_summary(table).coverage}
    assert coverage["opt"].distinct == 2
    assert coverage["opt"].covered == pytest.approx(2 / 3)


def test_coverage_of_an_integer_with_every_value_tried_is_complete() -> None:
    """n in 1..4, all four values tried: its whole range is covered."""
    table = table_from(
        scored(SUMMARY_SPACE, draw(SUMMARY_SPACE, 100, seed=1), lambda f: f["n"]), SUMMARY_SPACE
    )
    coverage = {c.parameter: c for c in space_summary(table).coverage}
    assert coverage["n"].distinct == 4
    assert coverage["n"].covered == pytest.approx(1.0)


def test_the_table_keeps_successful_trials_and_drops_constant_parameters() -> None:
    space = space_of(a=UNIT, fixed={"constant": 3}, one={"enum": ["only"]})
    trials = scored(space, draw(space, 12, seed=0), lambda f: f["a"])
    trials[0].loss = math.nan  # an ok trial without a finite loss is not analysed
    trials[1].status = TrialStatus.KILLED
    trials[2].status = TrialStatus.RUNNING
    table = table_from(trials, space)
    assert len(table) == 9
    assert table.failed == 2  # the NaN loss and the killed one; the running one is not finished
    assert list(table.columns) == ["a"]
    assert list(table.numbers) == list(range(4, 13))


def test_a_table_of_no_trials_or_no_successful_ones_says_so() -> None:
    space = space_of(a=UNIT, b=UNIT)
    with pytest.raises(AnalysisError, match="no trials yet"):
        table_from([], space)
    trials = scored(space, draw(space, 3, seed=0), lambda f: f["a"])
    for trial in trials:
        trial.status, trial.loss = TrialStatus.FAILED, None
    with pytest.raises(AnalysisError, match=r"no trial has succeeded yet \(3 failed"):
        table_from(trials, space)


def test_the_analysis_needs_two_trials_and_notes_a_missing_hyper_model() -> None:
    space = space_of(a=UNIT, b=UNIT)
    one = table_from(scored(space, draw(space, 1, seed=0), lambda f: f["a"]), space)
    with pytest.raises(AnalysisError, match="only 1 successful trial"):
        analyse(one)
    few = table_from(scored(space, draw(space, 5, seed=0), lambda f: f["a"]), space)
    result = analyse(few)
    assert result.model is None and result.importance == []
    assert any("at least 8" in note for note in result.notes)
    assert len(result.hotspots) == 1  # the one pair of parameters


# --- the CLI when there is nothing to analyse ---------------------------------------------

SMALL_SPACE = {
    "type": "object",
    "properties": {"x": {"type": "number", "min": -5, "max": 5}, "y": UNIT},
}
FAILING_MODEL = """\
def train(p):
    raise RuntimeError("this model always fails")
"""
WORKING_MODEL = """\
def train(p):
    return (p["x"] - 1) ** 2 + p["y"]
"""

ANALYSIS_COMMANDS = {
    "analyze": ["analyze"],
    "export-csv": ["export", "--what", "correlations"],
    "export-json": ["export", "--what", "hotspots", "--format", "json"],
    "export-png": ["export", "--what", "importance", "--format", "png"],
    "predict": ["predict", "--params", '{"x": 1, "y": 0.5}'],
    "suggest-fixed": ["suggest-fixed", "--fix", "x=1"],
}


def assert_clean_failure(code: int, out: str, err: str, *messages: str) -> None:
    assert code == 1, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    for message in messages:
        assert message in err, err


@pytest.fixture(scope="module")
def only_failed(tmp_path_factory: pytest.TempPathFactory, search_runner) -> Path:
    """A finished search of 3 trials that all failed."""
    folder = tmp_path_factory.mktemp("only-failed")
    return search_runner(folder, FAILING_MODEL, SMALL_SPACE, name="failing", iterations=3)


@pytest.mark.parametrize("command", list(ANALYSIS_COMMANDS.values()), ids=list(ANALYSIS_COMMANDS))
def test_a_search_whose_trials_all_failed_has_nothing_to_analyse(
    only_failed: Path, cli, command: list[str], tmp_path: Path
) -> None:
    argv = [command[0], only_failed, *command[1:]]
    if "png" in command:
        argv += ["--output", tmp_path / "png"]
    code, out, err = cli(*argv)
    assert_clean_failure(code, out, err, "no trial has succeeded yet", "3 failed")
    assert not (only_failed / "analysis").exists()
    assert not (tmp_path / "png").exists()


def test_a_search_with_one_trial_has_too_little_to_analyse(
    tmp_path: Path, search_runner, cli
) -> None:
    results = search_runner(tmp_path, WORKING_MODEL, SMALL_SPACE, name="single", iterations=1)
    code, out, err = cli("analyze", results)
    assert_clean_failure(code, out, err, "hypermax analyze:", "only 1 successful trial")
    assert not (results / "analysis").exists()
    code, out, err = cli("predict", results, "--params", '{"x": 1, "y": 0.5}')
    assert_clean_failure(code, out, err, "at least 8 successful trials", "has 1")


def test_a_search_with_no_trials_yet_has_nothing_to_analyse(tmp_path: Path, cli) -> None:
    """A results folder as a search leaves it before its first trial is recorded."""
    results = tmp_path / "hypermax_results" / "empty"
    results.mkdir(parents=True)
    config = {
        "hyperparameters": SMALL_SPACE,
        "function": {"type": "python_function", "module": "model", "name": "train"},
        "search": {"name": "empty", "method": "random", "iterations": 5},
    }
    with SQLStorage(sqlite_url(results.resolve()), "empty") as storage:
        storage.save_config(config)
    (results / "config.json").write_text(json.dumps(config), "utf-8")

    code, out, err = cli("analyze", results)
    assert_clean_failure(code, out, err, "no trials yet")
    assert not (results / "analysis").exists()
    code, out, err = cli("export", results, "--what", "coverage", "--format", "json")
    assert_clean_failure(code, out, err, "no trials yet")
    assert out == ""


def test_a_folder_that_is_not_a_results_folder_is_an_argument_error(tmp_path: Path, cli) -> None:
    code, out, err = cli("analyze", tmp_path)
    assert code == 2, (out, err)
    assert "not a hypermax results folder" in err
    assert "Traceback" not in err


# --- cases from review: held-out importance, unusual spaces, checked inputs -----------------


def test_importance_of_noise_is_near_zero_on_held_out_trials() -> None:
    space = space_of(
        x={"type": "number", "min": 0, "max": 1},
        z={"type": "number", "min": 0, "max": 1},
        w={"type": "number", "min": 0, "max": 1},
    )
    rng = np.random.default_rng(0)
    flats = draw(space, 150, seed=11)
    noise = iter(rng.normal(0, 0.3, len(flats)))
    table = table_from(scored(space, flats, lambda f: f["x"] + next(noise)), space)
    ranked = {row.parameter: row.mean for row in HyperModel(table).importance()}
    assert ranked["x"] > 0.2
    assert abs(ranked["z"]) < 0.05 and abs(ranked["w"]) < 0.05


def test_unusual_spaces_analyse_without_error() -> None:
    space = space_of(
        depth={"enum": [None, 3, 10]},
        width={"type": "integer", "min": 1, "max": 3},
        shape={"enum": [[64, 64], [128]]},
        model={
            "anyOf": [
                {"type": "object", "properties": {"c": {"type": "number", "min": 0.1, "max": 9}}},
                {"type": "object", "properties": {"c": {"enum": ["gini", "entropy"]}}},
            ]
        },
    )
    flats = draw(space, 60, seed=3)

    def loss(flat: Flat) -> float:
        return (0.0 if flat["depth"] is None else 1.0) + flat["width"] / 10 + len(flat["shape"])

    table = table_from(scored(space, flats, loss), space)
    assert int(table.columns["depth"].present.sum()) == 60  # null is a value, not "missing"
    assert table.columns["width"].numeric
    assert bins_for(table.columns["width"]).labels == ["1", "2", "3"]
    assert not table.columns["model.c"].numeric  # a number in one branch, a choice in the other
    analysis = analyse(table)
    assert analysis.exploration is not None
    coverage = {row.parameter: row for row in analysis.space.coverage}
    assert coverage["depth"].covered == 1.0
    assert coverage["model.$branch"].covered == 1.0


def test_coverage_lists_parameters_tried_once_or_never() -> None:
    space = space_of(
        a={"type": "number", "min": 0, "max": 1},
        pick={
            "anyOf": [
                {"type": "object", "properties": {"u": {"type": "number", "min": 0, "max": 1}}},
                {"type": "object", "properties": {"v": {"type": "number", "min": 0, "max": 1}}},
            ]
        },
    )
    flats = [f for f in draw(space, 80, seed=5) if f["pick.$branch"] == 0][:20]
    table = table_from(scored(space, flats, lambda f: f["a"]), space)
    coverage = {row.parameter: row for row in space_summary(table).coverage}
    assert coverage["pick.v"].trials == 0 and coverage["pick.v"].covered == 0.0
    assert coverage["pick.$branch"].covered == 0.5


@pytest.mark.slow
def test_the_hyper_model_refuses_values_the_space_does_not_allow(
    one_driver: TrialTable,
) -> None:
    model = HyperModel(one_driver)
    # each message names the parameter, the value and what is allowed
    with pytest.raises(AnalysisError, match=r"^b: missing; give a value \(a number from 0"):
        model.predict({"a": 0.5})
    with pytest.raises(AnalysisError, match=r"^a: 1000000000.0 is outside \[0"):
        model.best_with_fixed({"a": 1e9})
    with pytest.raises(AnalysisError, match=r"^kind: 'no-such-value' is not one of 'p', 'q'"):
        model.best_with_fixed({"kind": "no-such-value"})
