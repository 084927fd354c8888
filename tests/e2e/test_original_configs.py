"""Configs of the original Hypermax (electricbrainio/hypermax) run unchanged.

Each fixture is a config shape of the original project, as its files and README wrote it, with
a small stand-in where its model cannot run here (TensorFlow, a broken README model). Every
one is validated and run for 5 trials through ``hypermax.cli.main`` (``--iterations 5``; the
config itself stays as written), and each trial's loss is checked against what the config's
semantics say it must be. Then one test per piece of issue 12: ``hypermax_results``,
hyperband settings beside ``"method"``, time metrics, ``kill_loss``, where ``module`` is found,
``hypermax.test_model``, keys accepted and ignored.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from hypermax.cli import main
from hypermax.config import load_config
from hypermax.storage.results import read_results
from hypermax.test_model import TARGETS
from hypermax.trial import Trial, TrialStatus

# --- the original's configs, as written ------------------------------------------------------

GENERAL_TEST = {  # test/general_test.json at HEAD (c3834d2)
    "hyperparameters": {
        "type": "object",
        "properties": {
            name: {
                "type": "number",
                "mode": "uniform",
                "scaling": "linear" if name == "fourth_value" else "logarithmic",
                "min": 1,
                "max": high,
                "rounding": 1,
            }
            for name, high in [
                ("first_value", 100),
                ("second_value", 1000),
                ("third_value", 10000),
                ("fourth_value", 1000),
                ("fifth_value", 1000),
                ("sixth_value", 1000),
                ("seventh_value", 1000),
                ("eighth_value", 1000),
            ]
        },
    },
    "function": {
        "type": "python_function",
        "module": "hypermax.test_model",
        "name": "trainModel",
        "parallel": 1,
    },
    "search": {"method": "atpe", "iterations": 1000},
    "ui": {"enabled": False},
}

# test/general_test.json at b8f3ba9: the ABH settings beside "method", a fractional eta
GENERAL_TEST_ABH = {
    **GENERAL_TEST,
    "search": {
        "method": "abh",
        "iterations": 1000,
        "min_budget": 1,
        "max_budget": 20,
        "eta": 1.643167673,
    },
}

README_FULL_EXAMPLE = {  # README.md at HEAD, the full search.json
    "hyperparameters": {
        "type": "object",
        "properties": {
            "n_estimators": {"type": "number", "min": 1, "max": 1000, "scaling": "logarithmic"}
        },
    },
    "function": {
        "type": "python_function",
        "module": "model",
        "name": "trainModel",
        "parallel": 1,
    },
    "search": {"method": "atpe", "iterations": 1000},
    "results": {"directory": "results", "graphs": True},
    "ui": {"enabled": True},
}
# the README's model.py fails (`datetime.now()` on the module); this one returns its keys
README_MODEL = """
import time

def trainModel(params):
    start = time.time()
    return {"loss": abs(params["n_estimators"] - 42.0) / 1000, "time": time.time() - start}
"""

FIRST_README = {  # README.md of 2018-07-27 (4ad381b): metrics auc and time, a src file
    "hyperparameters": {
        "type": "object",
        "properties": {
            "n_estimators": {"type": "number", "min": 1, "max": 1000, "scaling": "exponential"}
        },
    },
    "metrics": {
        "auc": {"min": 0.5, "max": 1.0, "direction": "increase", "scaling": "linear"},
        "time": {"min": 0.0, "direction": "decrease", "scaling": "linear"},
    },
    "function": {"type": "python_function", "src": "model.py", "name": "trainModel"},
    "search": {"name": "experiment1", "method": "tpe"},
}
FIRST_README_MODEL = """
def trainModel(params):
    n = params["n_estimators"]
    return {"auc": 0.5 + 0.5 * min(n, 500.0) / 500.0, "time": 9.0 if n < 100 else 24.0}
"""

KERAS_TUTORIAL = {  # tutorials/fashion-MNIST/keras.json at HEAD
    "hyperparameters": {
        "type": "object",
        "properties": {
            "activation": {"type": "string", "enum": ["relu", "elu"]},
            "layer1_filters": {
                "type": "number",
                "min": 16,
                "max": 128,
                "scaling": "logarithmic",
                "rounding": 1,
            },
            "layer1_filter_size": {"type": "number", "min": 2, "max": 3, "rounding": 1},
            "layer1_dropout": {"type": "number", "min": 0.1, "max": 0.5},
            "layer2_filters": {
                "type": "number",
                "min": 16,
                "max": 128,
                "scaling": "logarithmic",
                "rounding": 1,
            },
            "layer2_filter_size": {"type": "number", "min": 2, "max": 3, "rounding": 1},
            "layer2_dropout": {"type": "number", "min": 0.1, "max": 0.5},
            "fully_connected_size": {
                "type": "number",
                "min": 64,
                "max": 384,
                "scaling": "logarithmic",
                "rounding": 1,
            },
            "fully_connected_dropout": {"type": "number", "min": 0.25, "max": 0.75},
        },
    },
    "function": {
        "type": "python_function",
        "module": "fashion_mnist",
        "name": "measureAccuracy",
    },
    "search": {"method": "atpe", "iterations": 100},
}
# the tutorial trains a Keras network; this stand-in keeps its name and its {"loss": 1 - acc}
KERAS_MODEL = """
def measureAccuracy(params):
    for name in ("layer1_filters", "layer1_filter_size", "fully_connected_size"):
        assert isinstance(params[name], int), name
    first, last = params["layer1_dropout"], params["fully_connected_dropout"]
    return {"loss": 1.0 - (0.9 - abs(first - 0.3) - abs(last - 0.5) / 2)}
"""

HYPERMAX_RESULTS = {  # searches/cifar_resnet/cifar10.json at 87c61b7
    "name": "cifar10_resnet",
    "upload_frequency": 10,
    "author": "Bradley Arsenault",
    "contact": "brad@electricbrain.io",
    "date": "August 8, 2018",
    "description": "These are the results from doing a random search on the cifar10 dataset.",
    "algorithm": "convnet",
    "input_types": ["image"],
    "output_types": ["classification"],
    "metrics": ["accuracy"],
}


# --- helpers ---------------------------------------------------------------------------------


def write(
    folder: Path,
    config: dict[str, Any],
    name: str = "search.json",
    model: str | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    """``config`` as ``folder/name``, beside ``model.py`` (when given) and other files."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {**({"model.py": model} if model else {}), **(files or {})}
    for file_name, text in files.items():
        (folder / file_name).write_text(text, "utf-8")
    path = folder / name
    path.write_text(json.dumps(config, indent=2), "utf-8")
    return path


def validate_and_run(
    path: Path, capsys: pytest.CaptureFixture[str], iterations: int = 5
) -> tuple[list[Trial], str]:
    """``hypermax validate`` then ``hypermax <config> --iterations 5``: the trials and the
    run's output."""
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "valid" in out
    code = main([str(path), "--iterations", str(iterations)])
    out, err = capsys.readouterr()
    assert code == 0, err
    trials = read_results(load_config(path).results_dir).trials
    assert len(trials) == iterations
    return trials, out


def refused(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"hypermax: invalid config in {path}"), err
    return err


def target_distance(params: dict[str, Any]) -> float:
    """What hypermax.test_model scores: the normalized distance to its targets."""
    distance = sum(abs(params[key] - target) for key, target in TARGETS.items())
    return distance / sum(TARGETS.values())


def all_ok(trials: list[Trial]) -> None:
    assert [t.status for t in trials] == [TrialStatus.OK] * len(trials), [t.error for t in trials]


# --- every original config shape runs --------------------------------------------------------


def test_general_test_json_runs_with_the_shipped_test_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials, _ = validate_and_run(write(tmp_path, GENERAL_TEST, "general_test.json"), capsys)
    all_ok(trials)
    for trial in trials:
        assert set(trial.params) == set(TARGETS)
        assert all(isinstance(v, int) for v in trial.params.values())  # rounding 1
        assert trial.loss == pytest.approx(target_distance(trial.params))
        assert trial.metadata["accuracy"] == pytest.approx(trial.loss)  # the original's key


def test_the_abh_block_with_budgets_beside_method_and_a_fractional_eta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials, out = validate_and_run(write(tmp_path, GENERAL_TEST_ABH), capsys)
    all_ok(trials)
    # the original's ABH: new configurations from ATPE
    assert "hyperband (budgets 1 to 20, eta 1.64317, new configurations from atpe)" in out
    for trial in trials:  # bracket 1 starts 20 configurations at budget 1
        assert {k: trial.params[k] for k in ("$budget", "$loop", "$group", "$round")} == {
            "$budget": 1,
            "$loop": 1,
            "$group": 1,
            "$round": 0,
        }
        assert trial.loss == pytest.approx(target_distance(trial.params))


def test_the_readme_full_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trials, _ = validate_and_run(write(tmp_path, README_FULL_EXAMPLE, model=README_MODEL), capsys)
    all_ok(trials)
    for trial in trials:
        assert 1 <= trial.params["n_estimators"] <= 1000
        assert trial.loss == pytest.approx(abs(trial.params["n_estimators"] - 42.0) / 1000)
    assert (tmp_path / "results" / "search" / "trials.csv").is_file()  # results.directory


def test_the_keras_tutorial_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, KERAS_TUTORIAL, "keras.json", files={"fashion_mnist.py": KERAS_MODEL})
    trials, _ = validate_and_run(path, capsys)
    all_ok(trials)
    for trial in trials:
        p = trial.params
        assert p["activation"] in ("relu", "elu") and isinstance(p["layer1_dropout"], float)
        accuracy = (
            0.9 - abs(p["layer1_dropout"] - 0.3) - abs(p["fully_connected_dropout"] - 0.5) / 2
        )
        assert trial.loss == pytest.approx(1.0 - accuracy)


def test_the_first_readme_metrics_auc_and_a_time_metric_without_target_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``time`` with only ``min``: an ordinary metric over the trial's seconds (the returned
    ``time``), unbounded above, so the raw seconds add to the normalized auc."""
    trials, _ = validate_and_run(write(tmp_path, FIRST_README, model=FIRST_README_MODEL), capsys)
    all_ok(trials)
    assert load_config(tmp_path / "search.json").results_dir.name == "experiment1"
    for trial in trials:
        n = trial.params["n_estimators"]
        auc = 0.5 + 0.5 * min(n, 500.0) / 500.0
        seconds = 9.0 if n < 100 else 24.0
        assert trial.time == seconds and trial.metrics["auc"] == pytest.approx(auc)
        assert trial.loss == pytest.approx((1.0 - (auc - 0.5) / 0.5) + seconds)


CWD_MODEL = """
import os, time

def trainModel(params):
    if not os.path.exists({marker!r}):  # the first trial hangs and is killed
        open({marker!r}, "w").close()
        time.sleep(60)
    return {{"loss": params["x"]}}
"""


def described_search(folder: Path) -> Path:
    """A config with ``hypermax_results`` and ``kill_loss`` in ``folder/config/``, whose
    module sits in ``folder`` (to be the current directory), as the original found it."""
    (folder / "hm_cwd_model.py").write_text(CWD_MODEL.format(marker=str(folder / "hung")))
    config = {
        "hyperparameters": {
            "type": "object",
            "properties": {"x": {"type": "number", "min": 0.0, "max": 1.0}},
        },
        "function": {
            "type": "python_function",
            "module": "hm_cwd_model",
            "name": "trainModel",
            "auto_kill_max_time": 1.0,
            "kill_loss": 5.0,
        },
        "search": {"method": "random", "iterations": 1000},
        "hypermax_results": HYPERMAX_RESULTS,
    }
    return write(folder / "config", config)


@pytest.fixture
def described_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[Trial]]:
    monkeypatch.chdir(tmp_path)
    path = described_search(tmp_path)
    trials, _ = validate_and_run(path, capsys)
    return load_config(path).results_dir, trials


def test_hypermax_results_kill_loss_and_a_module_in_the_current_directory(
    described_run: tuple[Path, list[Trial]],
) -> None:
    _, trials = described_run
    assert trials[0].status is TrialStatus.KILLED and trials[0].loss == 5.0  # kill_loss
    all_ok(trials[1:])
    for trial in trials[1:]:
        assert trial.loss == pytest.approx(trial.params["x"])


# --- one test per piece of issue 12 ----------------------------------------------------------


def test_hypermax_results_is_saved_exported_and_shown_in_the_report(
    described_run: tuple[Path, list[Trial]], capsys: pytest.CaptureFixture[str]
) -> None:
    results, _ = described_run
    saved = json.loads((results / "config.json").read_text())
    assert saved["hypermax_results"] == HYPERMAX_RESULTS
    assert main(["export", str(results), "--what", "description"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "search": "search",
        "method": "random",
        "hypermax_results": HYPERMAX_RESULTS,
    }
    assert main(["analyze", str(results)]) == 0
    page = (results / "analysis" / "report.html").read_text()
    assert "<p>Search <b>search</b>, method <code>random</code>.</p>" in page
    assert "<tr><th>author</th><td>Bradley Arsenault</td></tr>" in page
    assert "<tr><th>input_types</th><td>image</td></tr>" in page


def test_hypermax_results_keys_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {**README_FULL_EXAMPLE, "hypermax_results": {"name": "m", "upload_frequncy": 10}}
    err = refused(write(tmp_path, config, model=README_MODEL), capsys)
    assert "hypermax_results.upload_frequncy: unknown key" in err
    assert "did you mean 'upload_frequency'?" in err


def test_budgets_beside_another_method_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {**GENERAL_TEST_ABH, "search": {**GENERAL_TEST_ABH["search"], "method": "atpe"}}
    err = refused(write(tmp_path, config), capsys)
    for key in ("min_budget", "max_budget", "eta"):
        assert f"search.{key}: {key} is a setting of the hyperband method" in err


@pytest.mark.parametrize(("seconds", "penalty"), [(4, 0.0), (6, 0.004), (9, 0.064), (10, 0.1)])
def test_a_time_penalty_alone_scores_a_model_returning_only_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seconds: int, penalty: float
) -> None:
    """It failed every trial ("the config names no metrics"); the loss is the penalty."""
    config = {
        "hyperparameters": {
            "type": "object",
            "properties": {"x": {"type": "number", "min": 0, "max": 1}},
        },
        "metrics": {
            "time": {"type": "time", "target_time": 5, "max_time": 10, "penalty_at_max": 0.1}
        },
        "function": {"module": "model", "name": "trainModel"},
        "search": {"method": "random"},
    }
    model = f"def trainModel(params):\n    return {{'time': {seconds}}}\n"
    trials, _ = validate_and_run(write(tmp_path, config, model=model), capsys, iterations=2)
    all_ok(trials)
    assert [t.loss for t in trials] == [pytest.approx(penalty, abs=1e-12)] * 2


def test_a_time_metric_without_target_time_tells_slow_from_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's quickstart ``time`` metric, measured (no ``time`` returned): 9 s and 24 s
    scored alike before; here a trial that sleeps 0.6 s more costs about 0.6 more."""
    config = {
        "hyperparameters": {
            "type": "object",
            "properties": {"slow": {"type": "string", "enum": ["no", "yes"]}},
        },
        "metrics": {
            "accuracy": {"min": 0.0, "max": 1.0, "direction": "increase"},
            "time": {"min": 0.0, "direction": "decrease", "scaling": "linear"},
        },
        "function": {"module": "model", "name": "train"},
        "search": {"method": "grid"},
    }
    model = (
        "import time\n\ndef train(params):\n"
        "    time.sleep(0.6 if params['slow'] == 'yes' else 0.0)\n"
        "    return {'accuracy': 0.9}\n"
    )
    trials, _ = validate_and_run(write(tmp_path, config, model=model), capsys, iterations=2)
    all_ok(trials)
    for trial in trials:  # the measured time, from 0 and unbounded: the seconds themselves
        assert trial.loss == pytest.approx(0.1 + trial.time)
    by = {t.params["slow"]: t.loss for t in trials}
    assert by["yes"] - by["no"] > 0.5


def test_a_metric_setting_that_would_count_for_nothing_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = {
        **FIRST_README,
        "metrics": {"time": {"type": "time", "target_time": 5, "max_time": 10, "weight": 3}},
    }
    err = refused(write(tmp_path, config, model=FIRST_README_MODEL), capsys)
    assert "metrics.time.weight: weight applies to a time metric without target_time" in err


def test_kill_loss_differing_from_auto_kill_loss_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    function = {**README_FULL_EXAMPLE["function"], "kill_loss": 1.0, "auto_kill_loss": 2.0}
    config = {**README_FULL_EXAMPLE, "function": function}
    err = refused(write(tmp_path, config, model=README_MODEL), capsys)
    assert "function.kill_loss: 1.0 differs from auto_kill_loss (2.0)" in err


def test_module_model_py_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's ``"module": "model.py"`` (which failed in the original too)."""
    function = {**README_FULL_EXAMPLE["function"], "module": "model.py"}
    config = {**README_FULL_EXAMPLE, "function": function}
    trials, _ = validate_and_run(write(tmp_path, config, model=README_MODEL), capsys)
    all_ok(trials)


def test_the_config_folder_comes_before_the_current_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hm_where.py").write_text("def f(p):\n    return 2.0\n")
    config = {**README_FULL_EXAMPLE, "function": {"module": "hm_where", "name": "f"}}
    path = write(tmp_path / "config", config, files={"hm_where.py": "def f(p):\n    return 1.0\n"})
    trials, _ = validate_and_run(path, capsys, iterations=1)
    assert trials[0].loss == 1.0
    (tmp_path / "config" / "hm_where.py").unlink()
    config["search"] = {**config["search"], "name": "from-cwd"}
    trials, _ = validate_and_run(write(tmp_path / "config", config), capsys, iterations=1)
    assert trials[0].loss == 2.0


def test_a_module_found_nowhere_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = {**README_FULL_EXAMPLE, "function": {"module": "hm_nowhere", "name": "f"}}
    err = refused(write(tmp_path / "config", config), capsys)
    assert (
        f"function.module: cannot import module 'hm_nowhere' (looked in {tmp_path / 'config'} "
        f"(the config's folder), {tmp_path} (the current directory) and the Python path)"
    ) in err


def test_keys_the_original_read_nowhere_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A parameter's ``name`` (the original's Hyperopt label) and ``search.budget``."""
    config = json.loads(json.dumps(README_FULL_EXAMPLE))
    config["hyperparameters"]["properties"]["n_estimators"]["name"] = "n_estimators_label"
    config["search"]["budget"] = 100
    trials, _ = validate_and_run(write(tmp_path, config, model=README_MODEL), capsys, 2)
    all_ok(trials)
    assert set(trials[0].params) == {"n_estimators"}


def test_the_shipped_test_model_returns_the_originals_keys_and_loss() -> None:
    from hypermax.test_model import trainModel

    at_targets = trainModel(dict(TARGETS))
    assert at_targets["loss"] == at_targets["accuracy"] == 0.0 and at_targets["time"] >= 0
    off = trainModel({**TARGETS, "third_value": 4 + 317})
    assert off["loss"] == pytest.approx(317 / sum(TARGETS.values()))
    assert not math.isnan(off["time"])
