"""Turning what a model returned into one scalar loss (`compute_loss`)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from hypermax.errors import TrialError
from hypermax.loss import LossResult, MetricSpec, compute_loss, plain_data

TIME = MetricSpec(name="time", type="time", target_time=5, max_time=10, penalty_at_max=0.1)
AUC = MetricSpec(name="auc", min=0.5, max=1.0, direction="increase", scaling="linear")
ERROR = MetricSpec(name="error", min=0.01, max=1.0, scaling="logarithmic", weight=2.0)


def metrics(*specs: MetricSpec) -> dict[str, MetricSpec]:
    return {spec.name: spec for spec in specs}


# --- plain numbers and `loss` ---------------------------------------------------------------


@pytest.mark.parametrize("value", [0.25, 3, -1.5, np.float64(0.25), np.float32(0.5), np.int64(2)])
def test_a_number_is_the_loss(value: Any) -> None:
    result = compute_loss(value, {}, measured_time=1.5)
    assert isinstance(result, LossResult)
    assert type(result.loss) is float
    assert result.loss == pytest.approx(float(value))
    assert (result.metrics, result.metadata, result.time) == ({}, {}, 1.5)


def test_a_dict_with_loss() -> None:
    result = compute_loss({"loss": 0.7}, {}, measured_time=2.0)
    assert result.loss == pytest.approx(0.7)
    assert (result.metrics, result.metadata, result.time) == ({}, {}, 2.0)


def test_loss_key_wins_over_metrics_but_metrics_are_kept() -> None:
    result = compute_loss({"loss": 0.3, "auc": 0.9}, metrics(AUC), measured_time=1.0)
    assert result.loss == pytest.approx(0.3)
    assert result.metrics == {"auc": 0.9}
    assert result.metadata == {}


# --- metrics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        (AUC, 0.9, 0.2),  # 0.9 is 80 % of the way from worst (0.5) to best (1.0)
        (AUC, 1.0, 0.0),
        (AUC, 0.5, 1.0),
        (MetricSpec(name="mse", min=0.0, max=4.0), 1.0, 0.25),
        # log axis: 0.1 is half way between 0.01 and 1; weight 2
        (ERROR, 0.1, 1.0),
        (ERROR, 0.01, 0.0),
        (MetricSpec(name="score", direction="increase"), 7.5, -7.5),
        (MetricSpec(name="cost"), 7.5, 7.5),
        (MetricSpec(name="ppl", scaling="logarithmic"), math.e**2, 2.0),
        (MetricSpec(name="acc", direction="increase", weight=3.0), 0.5, -1.5),
    ],
)
def test_single_metric_normalization(spec: MetricSpec, value: float, expected: float) -> None:
    result = compute_loss({spec.name: value}, metrics(spec), measured_time=0.0)
    assert result.loss == pytest.approx(expected)
    assert result.metrics == {spec.name: value}


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        # past the worst end: above 1, so a worse value still costs more (no clipping at 1)
        (AUC, 0.4, 1.2),
        (MetricSpec(name="mse", min=0.0, max=4.0), 6.0, 1.5),
        (ERROR, 10.0, 2.0 * 1.5),  # log axis: 10 is 1.5 ranges of 0.01..1 above 0.01
        # past the best end: below 0, so a better value still gains (no clipping at 0)
        (AUC, 1.1, -0.2),
        (MetricSpec(name="mse", min=1.0, max=4.0), 0.4, -0.2),
    ],
)
def test_values_outside_the_bounds_are_not_clipped(
    spec: MetricSpec, value: float, expected: float
) -> None:
    result = compute_loss({spec.name: value}, metrics(spec), measured_time=0.0)
    assert result.loss == pytest.approx(expected)
    assert result.metrics == {spec.name: value}  # kept as returned


def test_metrics_are_weighted_and_summed() -> None:
    result = compute_loss({"auc": 0.9, "error": 0.1}, metrics(AUC, ERROR), measured_time=1.0)
    assert result.loss == pytest.approx(0.2 + 2.0 * 0.5)
    assert result.metrics == {"auc": 0.9, "error": 0.1}
    assert result.metadata == {}


def test_metrics_with_time_penalty() -> None:
    result = compute_loss({"auc": 0.9, "time": 9.0}, metrics(AUC, TIME), measured_time=1.0)
    assert result.loss == pytest.approx(0.2 + 0.064)
    assert result.time == 9.0
    assert "time" not in result.metrics and "time" not in result.metadata


# --- the time penalty -----------------------------------------------------------------------

PENALTIES = [
    # The original Hypermax README printed 0.0025 for 6 s; the formula gives 0.004 (its typo).
    (6.0, 0.004),
    (9.0, 0.064),
    (10.0, 0.1),
    (5.0, 0.0),
    (2.0, 0.0),
    (12.0, 0.196),  # past max_time the penalty keeps growing
]


@pytest.mark.parametrize(("seconds", "penalty"), PENALTIES)
def test_time_penalty_formula(seconds: float, penalty: float) -> None:
    assert TIME.time_penalty(seconds) == pytest.approx(penalty, abs=1e-12)


@pytest.mark.parametrize(("seconds", "penalty"), PENALTIES)
def test_measured_time_penalizes_a_plain_loss(seconds: float, penalty: float) -> None:
    result = compute_loss(1.0, metrics(TIME), measured_time=seconds)
    assert result.loss == pytest.approx(1.0 + penalty, abs=1e-12)
    assert result.time == seconds


@pytest.mark.parametrize(("seconds", "penalty"), PENALTIES)
def test_returned_time_overrides_measured_time(seconds: float, penalty: float) -> None:
    # measured 9.5 s would cost 0.081; the model says the relevant part took `seconds`
    result = compute_loss({"loss": 1.0, "time": seconds}, metrics(TIME), measured_time=9.5)
    assert result.loss == pytest.approx(1.0 + penalty, abs=1e-12)
    assert result.time == seconds  # the time the loss used; the caller keeps the measured one
    assert result.metadata == {} and result.metrics == {}


@pytest.mark.parametrize(("seconds", "penalty"), PENALTIES)
@pytest.mark.parametrize(
    "returned", [{"loss": 1.0}, {"auc": 0.5}], ids=["loss-key", "from-metrics"]
)
def test_measured_time_penalizes_a_dict_without_time(
    returned: dict, seconds: float, penalty: float
) -> None:
    """No ``time`` in the result: the measured wall time is the one the penalty uses."""
    result = compute_loss(returned, metrics(AUC, TIME), measured_time=seconds)
    assert result.loss == pytest.approx(1.0 + penalty, abs=1e-12)
    assert result.time == seconds


def test_returned_time_without_a_time_metric_is_recorded_not_penalized() -> None:
    result = compute_loss({"loss": 1.0, "time": 30.0}, {}, measured_time=2.0)
    assert result.loss == 1.0
    assert result.time == 30.0
    assert "time" not in result.metadata


def test_no_time_metric_no_penalty() -> None:
    assert compute_loss(1.0, {}, measured_time=1000.0).loss == 1.0


@pytest.mark.parametrize(("seconds", "penalty"), PENALTIES)
def test_a_time_penalty_alone_scores_a_result_of_only_time(seconds: float, penalty: float) -> None:
    """The config's only metric is the time penalty and the model returns ``{"time": t}``:
    the loss is the penalty (it used to fail: "the config names no metrics")."""
    result = compute_loss({"time": seconds}, metrics(TIME), measured_time=0.5)
    assert result.loss == pytest.approx(penalty, abs=1e-12)
    assert result.time == seconds


def test_a_time_penalty_alone_scores_the_measured_time_of_an_empty_dict() -> None:
    assert compute_loss({}, metrics(TIME), measured_time=9.0).loss == pytest.approx(0.064)


def test_returned_values_no_metric_names_still_fail_beside_a_time_penalty() -> None:
    """Scored by the time alone, ``accuracy`` would count for nothing: refused, named."""
    with pytest.raises(TrialError, match=r"names no metrics.*\['accuracy'\]"):
        compute_loss({"accuracy": 0.9, "time": 3.0}, metrics(TIME), measured_time=1.0)


# The seed's quickstart: a time metric without target_time, once silently worth nothing.
SEED_TIME = MetricSpec(name="time", type="time", min=0.0, direction="decrease")


@pytest.mark.parametrize(
    ("spec", "seconds", "term"),
    [
        (SEED_TIME, 9.0, 9.0),  # one bound: the raw seconds
        (SEED_TIME, 24.0, 24.0),
        (MetricSpec("time", type="time", min=0.0, max=30.0), 9.0, 0.3),
        (MetricSpec("time", type="time", min=0.0, max=30.0, weight=0.5), 24.0, 0.4),
        (MetricSpec("time", type="time", min=1.0, max=100.0, scaling="logarithmic"), 10.0, 0.5),
        (MetricSpec("time", type="time", min=0.0, max=10.0, direction="increase"), 4.0, 0.6),
        (MetricSpec("elapsed", type="time"), 7.5, 7.5),  # no keys at all: the seconds
    ],
)
def test_a_time_metric_without_target_time_is_an_ordinary_metric_over_the_time(
    spec: MetricSpec, seconds: float, term: float
) -> None:
    measured = compute_loss(1.0, metrics(spec), measured_time=seconds)
    assert measured.loss == pytest.approx(1.0 + term)
    returned = compute_loss({"loss": 1.0, "time": seconds}, metrics(spec), measured_time=99.0)
    assert returned.loss == pytest.approx(1.0 + term)


def test_the_seed_quickstart_metrics_tell_a_slow_trial_from_a_fast_one() -> None:
    """``auc`` and ``time`` as the seed's quickstart: 9 s and 24 s no longer score alike."""
    both = metrics(AUC, SEED_TIME)
    fast = compute_loss({"auc": 0.9, "time": 9.0}, both, measured_time=9.0)
    slow = compute_loss({"auc": 0.9, "time": 24.0}, both, measured_time=24.0)
    assert (fast.loss, slow.loss) == (pytest.approx(0.2 + 9.0), pytest.approx(0.2 + 24.0))
    assert fast.metrics == {"auc": 0.9}


# --- unusable results -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (math.nan, r"the returned loss is nan; a loss must be a finite number"),
        (math.inf, r"the returned loss is inf; a loss must be a finite number"),
        (-math.inf, r"the returned loss is -inf"),
        (np.float64("nan"), r"the returned loss is nan"),
        ({"loss": math.nan}, r"the returned 'loss' is nan"),
        ({"loss": math.inf}, r"the returned 'loss' is inf"),
        ({"loss": "0.5"}, r"the returned 'loss' must be a number, got str '0.5'"),
        ({"loss": None}, r"the returned 'loss' must be a number, got NoneType"),
        ({"loss": 0.1, "time": "fast"}, r"the returned 'time' must be a number, got str"),
        ({"loss": 0.1, "time": math.nan}, r"the returned 'time' is nan"),
        ({"auc": math.nan}, r"metric 'auc' is nan"),
        ({"auc": True}, r"metric 'auc' must be a number, got bool"),
    ],
)
def test_non_finite_or_non_numeric_values_fail_the_trial(result: Any, message: str) -> None:
    with pytest.raises(TrialError, match=message):
        compute_loss(result, metrics(AUC), measured_time=1.0)


@pytest.mark.parametrize(
    ("result", "type_name"),
    [
        ("0.5", "str"),
        ([0.1, 0.2], "list"),
        (None, "NoneType"),
        (True, "bool"),
        (False, "bool"),
        ((0.5,), "tuple"),
        (np.bool_(True), "bool"),
    ],
)
def test_wrong_return_type_fails_the_trial(result: Any, type_name: str) -> None:
    with pytest.raises(TrialError) as caught:
        compute_loss(result, {}, measured_time=1.0)
    message = str(caught.value)
    assert "must return a number (the loss) or a dict of metrics" in message
    assert f"got {type_name}" in message


def test_missing_metric_names_it_and_the_returned_keys() -> None:
    with pytest.raises(TrialError) as caught:
        compute_loss({"auc": 0.9, "extra": 1}, metrics(AUC, ERROR), measured_time=1.0)
    message = str(caught.value)
    assert "lacks metric(s) 'error'" in message
    assert "['auc', 'extra']" in message


def test_dict_without_loss_and_no_metrics_configured() -> None:
    with pytest.raises(TrialError, match=r"without a 'loss' key.*names no metrics"):
        compute_loss({"accuracy": 0.9}, metrics(TIME), measured_time=1.0)


@pytest.mark.parametrize("value", [0.0, -0.5])
def test_logarithmic_metric_needs_positive_values(value: float) -> None:
    with pytest.raises(TrialError, match=r"metric 'error' is .*logarithmic scaling needs values"):
        compute_loss({"error": value}, metrics(ERROR), measured_time=1.0)


# --- metadata -------------------------------------------------------------------------------


def test_extra_keys_become_metadata() -> None:
    returned = {
        "auc": 0.9,
        "time": 2.0,
        "epochs": 12,
        "notes": "converged",
        "ok": True,
        "nothing": None,
        "history": [0.5, 0.4],
        "shape": (3, 4),
        "nested": {"a": [1, {"b": 2}]},
    }
    result = compute_loss(returned, metrics(AUC, TIME), measured_time=1.0)
    assert result.metadata == {
        "epochs": 12,
        "notes": "converged",
        "ok": True,
        "nothing": None,
        "history": [0.5, 0.4],
        "shape": [3, 4],
        "nested": {"a": [1, {"b": 2}]},
    }
    assert result.metrics == {"auc": 0.9}


def test_numpy_metadata_becomes_plain_python() -> None:
    returned = {
        "loss": np.float32(0.5),
        "f64": np.float64(0.25),
        "i64": np.int64(7),
        "flag": np.bool_(False),
        "array": np.array([[1, 2], [3, 4]]),
        "floats": np.linspace(0.0, 1.0, 3),
        "inside": {"x": np.float32(1.5), "ys": [np.int32(1), np.int16(2)]},
    }
    result = compute_loss(returned, {}, measured_time=1.0)
    assert result.loss == 0.5
    assert result.metadata == {
        "f64": 0.25,
        "i64": 7,
        "flag": False,
        "array": [[1, 2], [3, 4]],
        "floats": [0.0, 0.5, 1.0],
        "inside": {"x": 1.5, "ys": [1, 2]},
    }
    meta = result.metadata
    assert type(meta["f64"]) is float
    assert type(meta["i64"]) is int
    assert type(meta["flag"]) is bool
    assert type(meta["array"][0][0]) is int
    assert type(meta["inside"]["x"]) is float
    assert [type(v) for v in meta["inside"]["ys"]] == [int, int]
    json.dumps(meta, allow_nan=False)


def test_other_metadata_objects_are_kept_as_text() -> None:
    class Model:
        def __repr__(self) -> str:
            return "<Model>"

    result = compute_loss({"loss": 0.1, "model": Model(), 3: "three"}, {}, measured_time=1.0)
    assert result.metadata == {"model": "<Model>", "3": "three"}


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        (np.float64("nan"), "nan"),
        (np.float32("inf"), "inf"),
        (np.array([1.0, np.nan]), [1.0, "nan"]),
    ],
)
def test_non_finite_metadata_is_json_safe(value: Any, kept: Any) -> None:
    result = compute_loss({"loss": 0.1, "extra": value}, {}, measured_time=1.0)
    json.dumps(result.metadata, allow_nan=False)
    assert result.metadata["extra"] == kept


class _Name(str):
    pass


class _Count(int):
    pass


class _Score(float):
    pass


@pytest.mark.parametrize(
    ("value", "plain"), [(_Name("relu"), "relu"), (_Count(3), 3), (_Score(0.5), 0.5)]
)
def test_subclasses_of_plain_types_become_the_plain_types(value: Any, plain: Any) -> None:
    """A class only the model knows could not be rebuilt in the search process."""
    kept = plain_data(value)
    assert (kept, type(kept)) == (plain, type(plain))


@pytest.mark.parametrize(
    ("spec", "value"),
    [(MetricSpec("error", max=10.0), 4.0), (MetricSpec("error", min=1.0), 4.0)],
    ids=["max-only", "min-only"],
)
def test_a_metric_with_one_bound_is_used_as_it_is(spec: MetricSpec, value: float) -> None:
    assert spec.normalized(value) == value


def test_a_memory_metric_without_min_counts_from_zero() -> None:
    assert MetricSpec("peak_ram", type="ram", max=200.0).normalized(50.0) == 0.25


def test_the_time_penalty_adds_to_the_memory_terms() -> None:
    metrics = {
        "peak_ram": MetricSpec("peak_ram", type="ram", max=100),
        "time": MetricSpec("time", type="time", target_time=5, max_time=10, penalty_at_max=0.1),
    }
    result = compute_loss(1.0, metrics, 6.0, {"peak_ram_mib": 50})
    assert result.loss == pytest.approx(1.0 + 0.5 + 0.004)


def test_resource_metrics_add_their_weighted_peak_to_any_loss() -> None:
    metrics = {
        "peak_ram": MetricSpec("peak_ram", type="ram", max=2048, weight=0.1),
        "peak_gpu": MetricSpec("peak_gpu", type="gpu_ram", max=1000),
    }
    from_float = compute_loss(1.0, metrics, 0.5, {"peak_ram_mib": 1024})
    assert from_float.loss == pytest.approx(1.05)
    assert from_float.metrics == {"peak_ram": 1024, "peak_gpu": 0.0}
    from_dict = compute_loss({"loss": 1.0}, metrics, 0.5, {"peak_ram_mib": 512})
    assert from_dict.loss == pytest.approx(1.025)
