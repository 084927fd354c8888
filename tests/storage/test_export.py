"""Trials as files: ``trials.csv``, ``best.json`` and the JSON views of trials."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hypermax.storage import StorageError
from hypermax.storage.export import (
    best_dict,
    trial_dict,
    trials_csv,
    write_atomic,
    write_results_files,
)
from hypermax.trial import Trial, TrialStatus

STARTED = datetime(2024, 5, 17, 9, 30, tzinfo=timezone.utc)


def make(
    number: int,
    loss: float | None,
    status: TrialStatus = TrialStatus.OK,
    flat: dict | None = None,
    params: dict | None = None,
    **fields: object,
) -> Trial:
    flat = flat if flat is not None else {"x": float(number)}
    params = params if params is not None else {"x": float(number)}
    return Trial(number=number, flat=flat, params=params, status=status, loss=loss, **fields)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


# --- trials_csv ----------------------------------------------------------------------------


def nested_trials() -> list[Trial]:
    first = make(
        1,
        0.5,
        flat={"model.$branch": 0, "model.c": 1.5, "layers.0.units": 64, "lr": 0.01},
        params={"model": {"c": 1.5}, "layers": [{"units": 64}], "lr": 0.01},
        metrics={"accuracy": 0.9},
        metadata={"epochs": 3},
        time=1.25,
    )
    second = make(
        2,
        None,
        TrialStatus.FAILED,
        flat={
            "model.$branch": 1,
            "model.gamma": 0.1,
            "layers.0.units": 32,
            "layers.1.units": 16,
            "lr": 0.1,
        },
        params={"model": {"gamma": 0.1}, "layers": [{"units": 32}, {"units": 16}], "lr": 0.1},
        error="ValueError: boom",
        time=0.5,
    )
    third = make(
        3,
        0.25,
        flat={"model.$branch": 0, "model.c": 2.5, "layers.0.units": 8, "lr": 0.001},
        params={"model": {"c": 2.5}, "layers": [{"units": 8}], "lr": 0.001},
        metrics={"accuracy": 0.95, "auc": 0.8},
        metadata={"epochs": 5, "history": [0.3, 0.2], "info": {"a": 1}},
        time=2.0,
    )
    return [first, second, third]


def test_csv_columns_fixed_then_metrics_and_metadata_then_flat_parameters() -> None:
    text = trials_csv(nested_trials())
    columns = header(text)
    assert columns[:5] == ["trial", "status", "loss", "time", "error"]
    assert columns[:5] == ["trial", "status", "loss", "time", "error"]
    named = columns[5:10]
    assert set(named) == {"accuracy", "epochs", "auc", "history", "info"}
    assert set(columns[10:]) == {
        "model.$branch",
        "model.c",
        "model.gamma",
        "layers.0.units",
        "layers.1.units",
        "lr",
    }
    assert len(columns) == len(set(columns))
    # First-seen order: trial 1's keys come before those only later trials have.
    assert named.index("accuracy") < named.index("auc")
    assert columns[10:].index("model.c") < columns[10:].index("model.gamma")
    assert columns[10:].index("layers.0.units") < columns[10:].index("layers.1.units")


def test_csv_values_and_empty_cells_for_missing_values() -> None:
    table = rows(trials_csv(nested_trials()))
    assert [row["trial"] for row in table] == ["1", "2", "3"]
    first, second, third = table

    assert first["status"] == "ok"
    assert float(first["loss"]) == 0.5
    assert float(first["time"]) == 1.25
    assert first["error"] == ""
    assert float(first["accuracy"]) == 0.9
    assert first["auc"] == ""
    assert first["epochs"] == "3"
    assert first["history"] == ""
    assert first["model.c"] == "1.5"
    assert first["model.gamma"] == ""
    assert first["layers.0.units"] == "64"
    assert first["layers.1.units"] == ""
    assert first["model.$branch"] == "0"

    assert second["status"] == "failed"
    assert second["loss"] == ""
    assert second["error"] == "ValueError: boom"
    assert second["accuracy"] == ""
    assert second["epochs"] == ""
    assert second["model.c"] == ""
    assert second["model.gamma"] == "0.1"
    assert second["layers.1.units"] == "16"
    assert second["model.$branch"] == "1"

    assert json.loads(third["history"]) == [0.3, 0.2]
    assert json.loads(third["info"]) == {"a": 1}
    assert float(third["auc"]) == 0.8


def test_csv_of_a_running_trial_has_empty_loss_and_time() -> None:
    table = rows(trials_csv([make(1, None, TrialStatus.RUNNING)]))
    assert table == [
        {"trial": "1", "status": "running", "loss": "", "time": "", "error": "", "x": "1.0"}
    ]


def test_csv_of_no_trials_is_only_the_header() -> None:
    assert trials_csv([]) == "trial,status,loss,time,error\n"


def test_csv_quotes_awkward_text() -> None:
    error = "KeyError: 'a, \"b\"'\nsecond line"
    text = trials_csv([make(1, None, TrialStatus.FAILED, error=error, metadata={"note": "x, y"})])
    (row,) = rows(text)
    assert row["error"] == error
    assert row["note"] == "x, y"


def test_csv_lists_trials_in_the_given_order() -> None:
    trials = [make(n, float(n)) for n in (1, 2, 3)]
    assert [row["trial"] for row in rows(trials_csv(trials))] == ["1", "2", "3"]


# --- best_dict -----------------------------------------------------------------------------


def test_best_is_the_lowest_loss_successful_trial() -> None:
    trials = [
        make(1, 0.9),
        make(2, 0.001, TrialStatus.FAILED),
        make(3, -5.0, TrialStatus.KILLED),
        make(4, 0.2, metrics={"accuracy": 0.8}, time=1.5),
        make(5, None, TrialStatus.RUNNING),
        make(6, -1.0, TrialStatus.INTERRUPTED),
        make(7, 0.4),
    ]
    assert best_dict(trials) == {
        "trial": 4,
        "loss": 0.2,
        "params": {"x": 4.0},
        "metrics": {"accuracy": 0.8},
        "time": 1.5,
    }


def test_best_ignores_ok_trials_without_a_finite_loss_and_prefers_the_earliest_on_ties() -> None:
    trials = [make(1, None), make(2, float("nan")), make(3, 0.3), make(4, 0.3)]
    best = best_dict(trials)
    assert best is not None
    assert best["trial"] == 3


def test_no_best_without_a_successful_trial() -> None:
    assert best_dict([]) is None
    assert best_dict([make(1, 0.1, TrialStatus.FAILED), make(2, 0.0, TrialStatus.KILLED)]) is None


# --- trial_dict ----------------------------------------------------------------------------


def test_trial_dict_is_json_ready() -> None:
    trial = make(
        2,
        0.5,
        metrics={"accuracy": 0.9},
        metadata={"epochs": [1, 2]},
        time=1.0,
        measured_time=1.25,
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=1.25),
        error=None,
        traceback=None,
        log_path="/r/logs/trial-2.log",
        resources={"peak_ram_mib": 12.0},
    )
    view = json.loads(json.dumps(trial_dict(trial)))
    assert view["trial"] == 2
    assert view["status"] == "ok"
    assert view["params"] == {"x": 2.0}
    assert view["flat_params"] == {"x": 2.0}
    assert view["metadata"] == {"epochs": [1, 2]}
    assert datetime.fromisoformat(view["started_at"]) == STARTED
    assert datetime.fromisoformat(view["finished_at"]) == STARTED + timedelta(seconds=1.25)
    assert view["log"] == "/r/logs/trial-2.log"
    assert view["resources"] == {"peak_ram_mib": 12.0}
    assert view["intermediate"] == []


def test_trial_dict_carries_the_intermediate_reports_in_order() -> None:
    trial = make(4, 0.3, TrialStatus.PRUNED, intermediate=[[0, 0.9], [1, 0.5], [2, 0.3]])
    view = json.loads(json.dumps(trial_dict(trial)))
    assert view["status"] == "pruned"
    assert view["intermediate"] == [[0, 0.9], [1, 0.5], [2, 0.3]]


# --- files ---------------------------------------------------------------------------------


def test_write_results_files_writes_trials_csv_and_best_json(tmp_path: Path) -> None:
    results = tmp_path / "hypermax_results" / "demo"  # created on demand
    trials = nested_trials()
    write_results_files(results, trials)
    assert (results / "trials.csv").read_text("utf-8") == trials_csv(trials)
    assert json.loads((results / "best.json").read_text("utf-8")) == best_dict(trials)
    assert best_dict(trials)["trial"] == 3  # type: ignore[index]
    assert sorted(p.name for p in results.iterdir()) == ["best.json", "trials.csv"]


def test_write_results_files_replaces_older_files_and_leaves_no_temporary_files(
    tmp_path: Path,
) -> None:
    trials = [make(1, 0.5)]
    for number in range(2, 6):
        write_results_files(tmp_path, trials)
        trials.append(make(number, 1.0 / number))
    write_results_files(tmp_path, trials)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.json", "trials.csv"]
    assert [row["trial"] for row in rows((tmp_path / "trials.csv").read_text())] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert json.loads((tmp_path / "best.json").read_text())["trial"] == 5


def test_no_best_json_without_a_successful_trial(tmp_path: Path) -> None:
    write_results_files(tmp_path, [make(1, None, TrialStatus.FAILED, error="boom")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trials.csv"]


def test_write_atomic_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "trials.csv"
    target.write_text("old contents\n", "utf-8")

    def broken_replace(source: str, destination: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("hypermax.storage.export.os.replace", broken_replace)
    with pytest.raises(StorageError, match=r"disk is full.*intact in the database"):
        write_atomic(target, "new contents\n")
    assert target.read_text("utf-8") == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["trials.csv"]


def test_names_taken_by_earlier_columns_get_their_kind_as_prefix() -> None:
    trial = Trial(
        1,
        {"loss": "hinge", "x": 0.25},
        {"loss": "hinge", "x": 0.25},
        TrialStatus.OK,
        loss=0.5,
        metadata={"x": 123, "status": "fine"},
    )
    header, row = list(csv.reader(io.StringIO(trials_csv([trial]))))
    values = dict(zip(header, row, strict=True))
    assert values["loss"] == "0.5"
    assert values["param.loss"] == "hinge"
    assert values["x"] == "123"
    assert values["param.x"] == "0.25"
    assert values["metadata.status"] == "fine"


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("umask_027")
def test_results_files_respect_the_umask_and_config_json_is_private(tmp_path: Path) -> None:
    write_results_files(tmp_path, [make(1, 0.5)])
    write_atomic(tmp_path / "config.json", '{"search": {"storage": "postgresql://u:secret@h/db"}}')
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"trials.csv": 0o640, "best.json": 0o640, "config.json": 0o600}


def test_a_wider_umask_still_leaves_config_json_private(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        write_atomic(tmp_path / "config.json", "{}")
        write_atomic(tmp_path / "trials.csv", "trial\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "config.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "trials.csv").stat().st_mode & 0o777 == 0o666


def test_unicode_names_are_written_as_they_are(tmp_path: Path) -> None:
    trial = make(1, 0.5, flat={"学习率": 0.1}, params={"学习率": 0.1})
    trial.metadata = {"标签": ["é"]}
    write_results_files(tmp_path, [trial])
    best = (tmp_path / "best.json").read_text("utf-8")
    assert '"学习率": 0.1' in best
    assert "\\u" not in best
    csv_text = (tmp_path / "trials.csv").read_text("utf-8")
    assert "学习率" in csv_text
    assert '"[""é""]"' in csv_text


REPORTING_MODEL = """\
import hypermax


def train(p):
    for step in range(3):
        hypermax.report(p["x"] + step, step=step)
    return p["x"] + 2
"""


def test_export_json_of_a_search_gives_each_trials_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's promise: every report is in ``hypermax export --format json``."""
    from hypermax.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(REPORTING_MODEL, "utf-8")
    config = {
        "hyperparameters": {
            "type": "object",
            "properties": {"x": {"type": "number", "min": 0, "max": 1}},
        },
        "function": {"type": "python_function", "module": "model", "name": "train"},
        "search": {"name": "reports", "method": "random", "iterations": 2, "seed": 1},
    }
    (tmp_path / "search.json").write_text(json.dumps(config), "utf-8")
    assert main(["search.json"]) == 0, capsys.readouterr().err
    capsys.readouterr()

    folder = tmp_path / "hypermax_results" / "reports"
    assert main(["export", str(folder), "--format", "json"]) == 0
    trials = json.loads(capsys.readouterr().out)
    assert len(trials) == 2
    for trial in trials:
        x = trial["params"]["x"]
        assert trial["intermediate"] == [[step, pytest.approx(x + step)] for step in range(3)]
