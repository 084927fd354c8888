"""The ``hypermax`` command, run in-process through ``main(argv)`` (and once as a real process)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import pytest

from hypermax import __version__
from hypermax.cli import main
from hypermax.storage import SQLStorage, sqlite_url

NAME = "demo"
TRIAL_LINE = re.compile(r"^trial\s+(\d+)\s+\[(\d+)/(\d+)\]\s+(ok|failed|killed)\b")

MODEL = """\
def train(p):
    return (p["x"] - 1) ** 2
"""

HYPERPARAMETERS = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 5},
        "model": {
            "type": "object",
            "properties": {
                "c": {"type": "number", "min": 0.1, "max": 10, "scaling": "logarithmic"},
                "kind": {"type": "string", "enum": ["linear", "rbf"]},
            },
        },
    },
}


def write_config(
    folder: Path,
    *,
    name: str = NAME,
    iterations: int = 5,
    model: str = MODEL,
    storage: str | None = None,
) -> Path:
    """A small search in ``folder``: ``model.py`` and ``search.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(model, "utf-8")
    search: dict[str, Any] = {
        "name": name,
        "method": "random",
        "iterations": iterations,
        "seed": 3,
    }
    if storage is not None:
        search["storage"] = storage
    config = {
        "hyperparameters": HYPERPARAMETERS,
        "function": {"type": "python_function", "module": "model", "name": "train"},
        "search": search,
    }
    path = folder / "search.json"
    path.write_text(json.dumps(config, indent=2), "utf-8")
    return path


def results_dir(folder: Path, name: str = NAME) -> Path:
    return folder / "hypermax_results" / name


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def trial_lines(output: str) -> list[re.Match[str]]:
    return [m for m in map(TRIAL_LINE.match, output.splitlines()) if m]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_config(tmp_path)


@pytest.fixture
def finished(config: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A finished 5-trial search; returns its results folder."""
    code, _, err = run_cli(capsys, str(config))
    assert code == 0, err
    return results_dir(config.parent)


# --- run -----------------------------------------------------------------------------------


def test_run_is_the_default_command(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, str(config))
    assert code == 0, err

    lines = trial_lines(out)
    assert [int(m.group(1)) for m in lines] == [1, 2, 3, 4, 5]
    assert [int(m.group(2)) for m in lines] == [1, 2, 3, 4, 5]
    assert {m.group(3) for m in lines} == {"5"}
    assert {m.group(4) for m in lines} == {"ok"}
    assert "\x1b[" not in out  # plain lines: stdout is not a terminal

    folder = results_dir(config.parent)
    for name in ("hypermax.db", "config.json", "trials.csv", "best.json"):
        assert (folder / name).is_file(), name
    for number in range(1, 6):
        assert (folder / "logs" / f"trial-{number}.log").is_file()

    table = csv_rows((folder / "trials.csv").read_text("utf-8"))
    assert [row["trial"] for row in table] == ["1", "2", "3", "4", "5"]
    assert {row["status"] for row in table} == {"ok"}
    assert list(table[0])[:5] == ["trial", "status", "loss", "time", "error"]
    assert {"x", "model.c", "model.kind"} <= set(table[0])
    for row in table:
        assert float(row["loss"]) == pytest.approx((float(row["x"]) - 1) ** 2)

    best = json.loads((folder / "best.json").read_text("utf-8"))
    lowest = min(table, key=lambda row: float(row["loss"]))
    assert best["trial"] == int(lowest["trial"])
    assert set(best["params"]) == {"x", "model"}
    assert set(best["params"]["model"]) == {"c", "kind"}
    assert f"Best trial: {best['trial']}" in out
    assert str(folder) in out

    saved = json.loads((folder / "config.json").read_text("utf-8"))
    assert saved["search"]["name"] == NAME
    assert saved["hyperparameters"] == HYPERPARAMETERS


def test_the_explicit_run_command_works_too(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "run", str(config), "--no-ui", "--iterations", "2")
    assert code == 0, err
    assert len(trial_lines(out)) == 2


def test_running_again_resumes_without_new_trials(
    finished: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials_before = (finished / "trials.csv").read_text("utf-8")
    best_before = (finished / "best.json").read_text("utf-8")

    code, out, err = run_cli(capsys, str(config))
    assert code == 0, err
    assert trial_lines(out) == []
    assert "5/5" in out
    assert (finished / "trials.csv").read_text("utf-8") == trials_before
    assert (finished / "best.json").read_text("utf-8") == best_before
    assert not (finished / "logs" / "trial-6.log").exists()


def test_iterations_extends_a_finished_search(
    finished: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = csv_rows((finished / "trials.csv").read_text("utf-8"))

    code, out, err = run_cli(capsys, str(config), "--iterations", "8")
    assert code == 0, err
    assert [int(m.group(1)) for m in trial_lines(out)] == [6, 7, 8]
    assert {m.group(3) for m in trial_lines(out)} == {"8"}

    after = csv_rows((finished / "trials.csv").read_text("utf-8"))
    assert [row["trial"] for row in after] == [str(n) for n in range(1, 9)]
    assert {row["status"] for row in after} == {"ok"}
    assert [row["x"] for row in after[:5]] == [row["x"] for row in before]

    code, out, _ = run_cli(capsys, str(config), "--iterations", "8")
    assert code == 0
    assert trial_lines(out) == []
    assert len(csv_rows((finished / "trials.csv").read_text("utf-8"))) == 8


def test_iterations_must_be_positive(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, str(config), "--iterations", "0")
    assert code == 2
    assert "--iterations" in err
    assert not results_dir(config.parent).exists()


def test_fresh_moves_old_results_aside_and_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, iterations=3)
    assert main([str(config)]) == 0
    folder = results_dir(tmp_path)
    old_trials = (folder / "trials.csv").read_text("utf-8")
    old_files = files_under(folder)
    capsys.readouterr()

    code, out, err = run_cli(capsys, str(config), "--fresh", "--iterations", "5")
    assert code == 0, err
    assert [int(m.group(1)) for m in trial_lines(out)] == [1, 2, 3, 4, 5]

    aside = [p for p in folder.parent.iterdir() if p.name.startswith(f"{NAME}.old-")]
    assert len(aside) == 1
    assert re.fullmatch(rf"{NAME}\.old-\d{{8}}-\d{{6}}", aside[0].name)
    assert str(aside[0]) in err
    assert files_under(aside[0]) == old_files
    assert (aside[0] / "trials.csv").read_text("utf-8") == old_trials
    with SQLStorage(sqlite_url(aside[0]), NAME, create=False) as old:
        assert [t.number for t in old.trials()] == [1, 2, 3]

    new_rows = csv_rows((folder / "trials.csv").read_text("utf-8"))
    assert [row["trial"] for row in new_rows] == ["1", "2", "3", "4", "5"]
    with SQLStorage(sqlite_url(folder), NAME, create=False) as new:
        assert len(new.trials()) == 5

    # The folder moved aside is still a results folder that export can read.
    code, out, _ = run_cli(capsys, "export", str(aside[0]))
    assert code == 0
    assert out == old_trials


class _FrozenClock(datetime):
    """``datetime`` whose ``now()`` never moves: two ``--fresh`` runs within one second."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _FrozenClock:  # type: ignore[override]
        return cls(2024, 1, 2, 3, 4, 5, tzinfo=tz)


def test_fresh_twice_in_the_same_second_keeps_both_earlier_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("hypermax.storage.fresh.datetime", _FrozenClock)
    config = write_config(tmp_path, iterations=1)
    folder = results_dir(tmp_path)
    assert main([str(config), "--iterations", "1"]) == 0
    assert main([str(config), "--fresh", "--iterations", "2"]) == 0
    assert main([str(config), "--fresh", "--iterations", "3"]) == 0
    capsys.readouterr()
    assert len(csv_rows((folder / "trials.csv").read_text("utf-8"))) == 3

    # Three runs: the current folder and two siblings, none nested inside another, and the
    # run lock beside them (it stays put while --fresh moves folders)
    siblings = sorted(p.name for p in folder.parent.iterdir())
    assert len(siblings) == 4, siblings
    assert siblings[:2] == [f".{NAME}.lock", NAME]
    old = [folder.parent / name for name in siblings[2:]]
    assert all(name.startswith(f"{NAME}.old-") for name in siblings[2:])
    for aside in old:
        assert sorted(p.name for p in aside.iterdir()) == [
            "best.json",
            "config.json",
            "hypermax.db",
            "logs",
            "origin.json",
            "trials.csv",
        ]
    kept = sorted(len(csv_rows((aside / "trials.csv").read_text("utf-8"))) for aside in old)
    assert kept == [1, 2]


# --- validate, sample ----------------------------------------------------------------------


def test_validate_prints_valid_and_writes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(config.parent)
    code, out, err = run_cli(capsys, "validate", str(config))
    assert code == 0, err
    assert "valid" in out
    new = {p for p in files_under(config.parent) - before if not p.startswith("__pycache__")}
    assert new == set()
    assert not results_dir(config.parent).exists()


def test_validate_reports_a_model_that_cannot_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, model="def something_else(p):\n    return 0\n")
    code, out, err = run_cli(capsys, "validate", str(config))
    assert code == 2
    assert "function.name" in err
    assert "valid." not in out


def test_sample_prints_nested_params_and_writes_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(config.parent)
    code, out, err = run_cli(capsys, "sample", str(config), "-n", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    for line in lines:
        params = json.loads(line)
        assert set(params) == {"x", "model"}
        assert -5 <= params["x"] <= 5
        assert 0.1 <= params["model"]["c"] <= 10
        assert params["model"]["kind"] in ("linear", "rbf")
    assert files_under(config.parent) == before


def test_sample_after_a_run_leaves_the_results_alone(
    finished: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def contents() -> dict[Path, bytes]:
        files = [p for p in finished.rglob("*") if p.is_file()]
        return {p: p.read_bytes() for p in files if not p.name.startswith("hypermax.db")}

    before = contents()
    code, out, err = run_cli(capsys, "sample", str(config), "-n", "2")
    assert code == 0, err
    assert len(out.splitlines()) == 2
    assert contents() == before
    with SQLStorage(sqlite_url(finished), NAME, create=False) as storage:
        assert len(storage.trials()) == 5


# --- export --------------------------------------------------------------------------------


def test_export_csv_is_trials_csv(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["export", str(finished)], ["export", str(finished), "--format", "csv"]):
        code, out, err = run_cli(capsys, *argv)
        assert code == 0, err
        assert out == (finished / "trials.csv").read_text("utf-8")


def test_export_json_lists_every_trial(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "export", str(finished), "--format", "json")
    assert code == 0, err
    trials = json.loads(out)
    assert [t["trial"] for t in trials] == [1, 2, 3, 4, 5]
    table = csv_rows((finished / "trials.csv").read_text("utf-8"))
    for trial, row in zip(trials, table, strict=True):
        assert trial["status"] == "ok"
        assert trial["loss"] == pytest.approx(float(row["loss"]))
        assert set(trial["params"]) == {"x", "model"}
        assert trial["flat_params"]["model.c"] == trial["params"]["model"]["c"]
        assert trial["log"] == str(finished / "logs" / f"trial-{trial['trial']}.log")
        assert trial["error"] is None
        assert trial["started_at"] and trial["finished_at"]


def test_export_best(finished: Path, capsys: pytest.CaptureFixture[str]) -> None:
    best = json.loads((finished / "best.json").read_text("utf-8"))

    code, out, err = run_cli(capsys, "export", str(finished), "--what", "best", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == best

    code, out, err = run_cli(capsys, "export", str(finished), "--what", "best")
    assert code == 0, err
    (row,) = csv_rows(out)
    assert row["trial"] == str(best["trial"])
    assert float(row["loss"]) == pytest.approx(best["loss"])


def test_export_to_a_file(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.json"
    code, out, err = run_cli(
        capsys, "export", str(finished), "--format", "json", "--output", str(target)
    )
    assert code == 0, err
    assert out == ""
    assert [t["trial"] for t in json.loads(target.read_text("utf-8"))] == [1, 2, 3, 4, 5]

    short = tmp_path / "out.csv"
    assert main(["export", str(finished), "-o", str(short)]) == 0
    assert short.read_text("utf-8") == (finished / "trials.csv").read_text("utf-8")


def test_export_of_a_folder_that_is_not_a_results_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plain").mkdir()
    for folder in (tmp_path / "plain", tmp_path / "missing"):
        code, out, err = run_cli(capsys, "export", str(folder))
        assert code == 2
        assert out == ""
        assert "not a hypermax results folder" in err


# --- init, schema, version, usage ----------------------------------------------------------


def test_init_writes_a_config_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "project"
    code, out, err = run_cli(capsys, "init", str(target))
    assert code == 0, err
    assert sorted(p.name for p in target.iterdir()) == ["model.py", "search.json"]
    assert "search.json" in out

    code, out, err = run_cli(capsys, "validate", str(target / "search.json"))
    assert code == 0, err

    code, out, err = run_cli(capsys, str(target / "search.json"), "--iterations", "5")
    assert code == 0, err
    assert len(trial_lines(out)) == 5
    folder = results_dir(target, "search")
    table = csv_rows((folder / "trials.csv").read_text("utf-8"))
    assert [row["trial"] for row in table] == ["1", "2", "3", "4", "5"]
    assert {row["status"] for row in table} == {"ok"}
    assert "accuracy" in table[0]
    assert (folder / "best.json").is_file()


def test_init_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "init")
    assert code == 0, err
    assert (tmp_path / "search.json").is_file()
    assert (tmp_path / "model.py").is_file()


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "search.json").write_text("{}\n", "utf-8")
    code, _, err = run_cli(capsys, "init", str(tmp_path))
    assert code == 2
    assert "--force" in err
    assert "search.json" in err
    assert (tmp_path / "search.json").read_text("utf-8") == "{}\n"
    assert not (tmp_path / "model.py").exists()

    code, _, err = run_cli(capsys, "init", str(tmp_path), "--force")
    assert code == 0, err
    assert "hyperparameters" in json.loads((tmp_path / "search.json").read_text("utf-8"))
    assert "def train" in (tmp_path / "model.py").read_text("utf-8")


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "schema")
    assert code == 0
    schema = json.loads(out)
    assert isinstance(schema, dict)
    assert "hyperparameters" in schema["properties"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"hypermax {__version__}"


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys)
    assert code == 2
    assert "usage: hypermax" in out


def test_an_invalid_config_exits_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    data = json.loads(config.read_text("utf-8"))
    data["search"]["method"] = "no-such-method"
    config.write_text(json.dumps(data), "utf-8")
    code, _, err = run_cli(capsys, str(config))
    assert code == 2
    assert "search.method" in err
    assert not results_dir(tmp_path).exists()


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_search_stored_in_postgresql(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
    postgres_search: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, name=postgres_search, storage=postgres_url)
    code, out, err = run_cli(capsys, str(config))
    assert code == 0, err
    assert len(trial_lines(out)) == 5

    folder = results_dir(tmp_path, postgres_search)
    assert (folder / "config.json").is_file()
    assert (folder / "trials.csv").is_file()
    assert not (folder / "hypermax.db").exists()
    with SQLStorage(postgres_url, postgres_search, create=False) as storage:
        assert [t.number for t in storage.trials()] == [1, 2, 3, 4, 5]
        saved = storage.load_config()
        assert saved is not None
        assert saved["search"]["name"] == postgres_search

    code, out, err = run_cli(capsys, "export", str(folder), "--format", "json")
    assert code == 0, err
    trials = json.loads(out)
    assert [t["trial"] for t in trials] == [1, 2, 3, 4, 5]
    assert {t["status"] for t in trials} == {"ok"}

    code, out, _ = run_cli(capsys, "export", str(folder))
    assert code == 0
    assert out == (folder / "trials.csv").read_text("utf-8")

    # Resuming reads the trials back from PostgreSQL.
    code, out, err = run_cli(capsys, str(config))
    assert code == 0, err
    assert trial_lines(out) == []

    # --fresh renames the search in the database and starts over.
    code, out, err = run_cli(capsys, str(config), "--fresh", "--iterations", "2")
    assert code == 0, err
    assert [int(m.group(1)) for m in trial_lines(out)] == [1, 2]
    with SQLStorage(postgres_url, postgres_search, create=False) as storage:
        assert len(storage.trials()) == 2
    moved = re.search(r"renamed to '([^']+)'", err)
    assert moved is not None, err
    assert moved.group(1).startswith(f"{postgres_search}.old-")
    with SQLStorage(postgres_url, moved.group(1), create=False) as storage:
        assert len(storage.trials()) == 5


# --- what models do ------------------------------------------------------------------------

FAILING_MODEL = """\
calls = 0


def train(p):
    global calls
    calls += 1
    if calls == 2:
        raise ValueError(f"boom on call {calls}")
    return (p["x"] - 1) ** 2
"""


def test_a_failing_trial_is_recorded_and_the_search_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, model=FAILING_MODEL)
    code, out, err = run_cli(capsys, str(config))
    assert code == 0, err
    assert [m.group(4) for m in trial_lines(out)] == ["ok", "failed", "ok", "ok", "ok"]
    assert "ValueError: boom on call 2" in out

    folder = results_dir(tmp_path)
    code, out, err = run_cli(capsys, "export", str(folder), "--format", "json")
    assert code == 0, err
    trials = {t["trial"]: t for t in json.loads(out)}
    assert sorted(trials) == [1, 2, 3, 4, 5]
    failed = trials[2]
    assert failed["status"] == "failed"
    assert failed["loss"] is None
    assert failed["error"] == "ValueError: boom on call 2"
    assert failed["traceback"].startswith("Traceback (most recent call last):")
    assert "model.py" in failed["traceback"]
    assert 'raise ValueError(f"boom on call {calls}")' in failed["traceback"]
    assert failed["traceback"].rstrip().endswith("ValueError: boom on call 2")
    assert all(trials[n]["traceback"] is None for n in (1, 3, 4, 5))

    row = csv_rows((folder / "trials.csv").read_text("utf-8"))[1]
    assert (row["status"], row["loss"], row["error"]) == (
        "failed",
        "",
        "ValueError: boom on call 2",
    )
    assert json.loads((folder / "best.json").read_text("utf-8"))["trial"] != 2
    assert "ValueError: boom on call 2" in (folder / "logs" / "trial-2.log").read_text("utf-8")


def test_a_search_where_every_trial_fails_still_completes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, model="def train(p):\n    raise RuntimeError('nope')\n")
    code, out, err = run_cli(capsys, str(config), "--iterations", "3")
    assert code == 0, err
    assert [m.group(4) for m in trial_lines(out)] == ["failed"] * 3
    assert "No trial succeeded yet." in out
    folder = results_dir(tmp_path)
    assert [row["status"] for row in csv_rows((folder / "trials.csv").read_text("utf-8"))] == [
        "failed"
    ] * 3
    assert not (folder / "best.json").exists()


PRINTING_MODEL = """\
import sys


def train(p):
    print(f"marker stdout x={p['x']!r}")
    print(f"marker stderr x={p['x']!r}", file=sys.stderr)
    return (p["x"] - 1) ** 2
"""


def assert_logs_hold_the_printed_text(folder: Path) -> None:
    with SQLStorage(sqlite_url(folder), NAME, create=False) as storage:
        trials = storage.trials()
    assert [t.number for t in trials] == [1, 2, 3, 4, 5]
    for trial in trials:
        log = folder / "logs" / f"trial-{trial.number}.log"
        assert trial.log_path == str(log)
        text = log.read_text("utf-8")
        assert f"marker stdout x={trial.params['x']!r}" in text, (trial.number, text)
        assert f"marker stderr x={trial.params['x']!r}" in text, (trial.number, text)
        assert text.count("marker stdout") == 1


def test_what_a_model_prints_goes_to_its_trial_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, model=PRINTING_MODEL)
    code, out, err = run_cli(capsys, str(config))
    assert code == 0, err
    assert "marker" not in out
    assert "marker" not in err
    assert_logs_hold_the_printed_text(results_dir(tmp_path))


# --- the console script --------------------------------------------------------------------


def test_the_console_script_runs_a_search(tmp_path: Path) -> None:
    write_config(tmp_path, model=PRINTING_MODEL)
    script = Path(sys.executable).parent / "hypermax"
    assert script.is_file()
    environment = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM")}
    completed = subprocess.run(
        [str(script), "search.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "\x1b" not in out  # no terminal: plain progress lines, no progress bar
    lines = out.splitlines()
    assert lines[:3] == [
        f"hypermax {__version__}: search 'demo', method random",
        f"results: {results_dir(tmp_path)}",
        "search: 0/5 trials done",
    ]
    progress = trial_lines(out)
    assert [int(m.group(1)) for m in progress] == [1, 2, 3, 4, 5]
    assert [m.group(0).split()[2] for m in progress] == [f"[{n}/5]" for n in range(1, 6)]
    assert {m.group(4) for m in progress} == {"ok"}
    assert any(line.startswith("Best trial: ") for line in lines)
    assert "marker" not in out
    folder = results_dir(tmp_path)
    assert (folder / "trials.csv").is_file()
    assert_logs_hold_the_printed_text(folder)


def console_script(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``command`` through the shell, ``hypermax`` being this installation's script."""
    script = Path(sys.executable).parent / "hypermax"
    return subprocess.run(
        command.replace("hypermax", str(script), 1),
        shell=True,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        executable="/bin/bash",
    )


@pytest.mark.parametrize("command", ["hypermax schema", "hypermax export hypermax_results/demo"])
def test_output_nobody_reads_ends_quietly(finished: Path, command: str) -> None:
    """As with ``| head``, once head has left: the reader is gone before the first write."""
    piped = console_script(
        f"set -o pipefail; {{ sleep 0.3; exec {command}; }} | true", finished.parent.parent
    )
    assert piped.stderr == ""  # no traceback, no "Exception ignored"
    assert piped.returncode == 141  # as for a command SIGPIPE ended


def test_a_search_whose_output_is_no_longer_read_goes_on_and_finishes(tmp_path: Path) -> None:
    """``hypermax search.json | head -1``: head leaves after the first line."""
    write_config(tmp_path, iterations=8)
    piped = console_script("hypermax search.json | head -1", tmp_path)
    assert piped.stdout.startswith("hypermax ")
    assert "Traceback" not in piped.stderr and "Exception" not in piped.stderr
    with SQLStorage(sqlite_url(results_dir(tmp_path)), NAME) as storage:
        trials = storage.trials()
    assert [t.status.value for t in trials] == ["ok"] * 8


# --- staged tuning and the warm start ------------------------------------------------------


@pytest.mark.parametrize("initial", [[], [{"x": 2.0}]], ids=["defaults", "defaults+initial"])
def test_the_defaults_and_initial_sets_run_outside_the_stages(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    initial: list[dict[str, Any]],
) -> None:
    """Without ``iterations``, a staged search runs the warm-start sets (the defaults, then
    ``search.initial``) first and then every trial of every stage: 6 + 6 stay 6 + 6."""
    monkeypatch.chdir(tmp_path)
    hyperparameters = json.loads(json.dumps(HYPERPARAMETERS))
    hyperparameters["properties"]["x"]["default"] = 0.5
    search = {
        "name": NAME,
        "method": "random",
        "seed": 3,
        "initial": initial,
        "stages": [
            {"parameters": ["x"], "iterations": 6},
            {"parameters": ["model"], "iterations": 6},
        ],
    }
    config = tmp_path / "search.json"
    config.write_text(
        json.dumps(
            {
                "hyperparameters": hyperparameters,
                "function": {"type": "python_function", "module": "model", "name": "train"},
                "search": search,
            }
        ),
        "utf-8",
    )
    (tmp_path / "model.py").write_text(MODEL, "utf-8")
    code, out, err = run_cli(capsys, str(config), "--no-ui")
    assert code == 0, err
    warm = 1 + len(initial)
    assert f"search: 0/{warm + 12} trials done" in out  # what the user is told first
    with SQLStorage(sqlite_url(results_dir(tmp_path)), NAME, create=False) as storage:
        trials = storage.trials()
    assert [t.flat.get("$stage") for t in trials] == [None] * warm + [0] * 6 + [1] * 6
    assert trials[0].params["x"] == 0.5
    # run again: resumed, nothing more to do
    code, out, err = run_cli(capsys, str(config), "--no-ui")
    assert code == 0, err
    with SQLStorage(sqlite_url(results_dir(tmp_path)), NAME, create=False) as storage:
        assert len(storage.trials()) == warm + 12
