"""A run whose first trials all fail stops early (``search.stop_after_failures``), says why
and how to fix it, exits 1 with everything recorded, and goes on when run again."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import hypermax
from hypermax.cli import main
from hypermax.result import TrialsFailing
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import Trial, TrialStatus

NAME = "ff"
SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": -5, "max": 5}}}

ACCURACY_MODEL = """\
def train(p):
    return {"accuracy": 1 - (p["x"] - 1) ** 2 / 50, "epochs": 3, "note": "no loss here"}
"""


def write(folder: Path, model: str, search: dict[str, Any] | None = None, **sections: Any) -> Path:
    (folder / "model.py").write_text(model, "utf-8")
    settings = {"name": NAME, "method": "random", "iterations": 20, "seed": 1, **(search or {})}
    config = {
        "hyperparameters": SPACE,
        "function": {"module": "model", "name": "train"},
        "search": settings,
        **sections,
    }
    path = folder / "search.json"
    path.write_text(json.dumps(config), "utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def stored(folder: Path) -> list[Trial]:
    with SQLStorage(sqlite_url(folder / "hypermax_results" / NAME), NAME, create=False) as db:
        return db.trials()


def statuses(folder: Path) -> list[str]:
    return [t.status.value for t in stored(folder)]


def test_a_missing_metric_stops_after_five_failures_with_the_fix_then_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, ACCURACY_MODEL)
    code, out, err = run(capsys, str(config))
    assert code == 1, err
    assert "5 trials of this run failed and none succeeded" in err
    assert "the model returned a dict without a 'loss' key" in err  # the error they share
    # the fix names the keys the model returned, and the metric to add with its direction
    assert "the model returned `accuracy`, `epochs`, `note` but no `loss`" in err
    assert "add a `metrics` entry for `accuracy` with `direction: increase`" in err
    assert '"metrics": {"accuracy": {"direction": "increase"}}' in err
    assert "or return `loss`" in err
    assert "run the same command again" in err
    assert "Traceback" not in err
    assert statuses(tmp_path) == ["failed"] * 5

    results = tmp_path / "hypermax_results" / NAME
    with open(results / "trials.csv", encoding="utf-8", newline="") as rows:
        assert [row["status"] for row in csv.DictReader(rows)] == ["failed"] * 5
    assert (results / "config.json").is_file()
    assert not (results / "best.json").exists()
    assert f"Results: {results}" in out

    # running again goes on, and stops again after five more failures
    code, _, err = run(capsys, str(config))
    assert code == 1, err
    assert statuses(tmp_path) == ["failed"] * 10

    # once fixed, the search goes on to its iterations, the failures kept
    data = json.loads(config.read_text("utf-8"))
    data["metrics"] = {"accuracy": {"direction": "increase"}}
    config.write_text(json.dumps(data), "utf-8")
    code, _, err = run(capsys, str(config))
    assert code == 0, err
    assert statuses(tmp_path) == ["failed"] * 10 + ["ok"] * 10


def test_stop_after_failures_sets_the_count_and_zero_never_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raising = "def train(p):\n    raise ValueError('broken model')\n"
    config = write(tmp_path, raising, {"stop_after_failures": 2})
    code, _, err = run(capsys, str(config))
    assert code == 1, err
    assert "2 trials of this run failed" in err
    assert "ValueError: broken model" in err
    # a model that raised: the fix points at the trial's log
    assert f"traceback are in {tmp_path / 'hypermax_results' / NAME / 'logs'}" in err
    assert statuses(tmp_path) == ["failed"] * 2

    write(tmp_path, raising, {"stop_after_failures": 0, "iterations": 7})
    code, out, err = run(capsys, str(config))
    assert code == 0, err
    assert statuses(tmp_path) == ["failed"] * 7
    assert "No trial succeeded yet." in out


def test_one_success_first_means_failures_never_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = "def train(p):\n    if p['x'] == 0:\n        return 1.0\n    raise ValueError('no')\n"
    config = write(tmp_path, model, {"iterations": 8, "initial": [{"x": 0}]})
    code, _, err = run(capsys, str(config))
    assert code == 0, err
    assert statuses(tmp_path) == ["ok"] + ["failed"] * 7


def test_killed_trials_are_not_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = "import time\n\ndef train(p):\n    time.sleep(30)\n    return 1.0\n"
    function = {"module": "model", "name": "train", "auto_kill_max_time": 0.2}
    config = write(tmp_path, model, {"iterations": 3, "stop_after_failures": 1})
    data = json.loads(config.read_text("utf-8"))
    config.write_text(json.dumps({**data, "function": function}), "utf-8")
    code, _, err = run(capsys, str(config))
    assert code == 0, err
    assert statuses(tmp_path) == ["killed"] * 3


def test_different_errors_are_listed_and_a_missing_metric_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = """\
def train(p):
    if p["x"] < 0:
        raise ValueError("negative")
    return {"acc": 0.5}
"""
    config = write(
        tmp_path,
        model,
        {"iterations": 12, "stop_after_failures": 4, "initial": [{"x": -1}, {"x": 1}]},
        metrics={"accuracy": {"direction": "increase"}},
    )
    code, _, err = run(capsys, str(config))
    assert code == 1, err
    assert "their errors:" in err
    assert "x ValueError: negative" in err
    assert "lacks metric(s) 'accuracy'" in err
    if err.index("lacks metric") < err.index("negative"):  # the commoner error leads
        assert "the config's `metrics` name `accuracy` (did the model mean `acc`?)" in err


def test_a_parallel_run_records_every_outcome_and_interrupts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = "import time\n\ndef train(p):\n    time.sleep(0.05)\n    raise ValueError('no')\n"
    config = write(tmp_path, model, {"parallel": 3})
    code, _, err = run(capsys, str(config))
    assert code == 1, err
    first = stored(tmp_path)
    assert sum(t.status is TrialStatus.FAILED for t in first) >= 5
    assert {t.status for t in first} <= {TrialStatus.FAILED, TrialStatus.INTERRUPTED}
    assert all(t.interruptions == 0 for t in first)  # stopping is never held against a trial
    cut_short = [t.number for t in first if t.status is TrialStatus.INTERRUPTED]

    code, _, err = run(capsys, str(config))
    assert code == 1, err
    again = {t.number: t for t in stored(tmp_path)}
    assert [again[n].status for n in cut_short] == [TrialStatus.FAILED] * len(cut_short)


def test_the_library_raises_with_the_trials_so_far(tmp_path: Path) -> None:
    def train(params: dict[str, float]) -> dict[str, float]:
        return {"accuracy": params["x"]}

    with pytest.raises(TrialsFailing, match="add a `metrics` entry for `accuracy`") as caught:
        hypermax.optimize(train, SPACE, method="random", iterations=30, seed=0)
    assert [t.status for t in caught.value.result.trials] == [TrialStatus.FAILED] * 5
    result = hypermax.optimize(
        train, SPACE, method="random", iterations=6, seed=0, search={"stop_after_failures": 0}
    )
    assert len(result.trials) == 6
