"""Resuming the original Hypermax way: ``hypermax search.json RESULTS_DIR`` continues the search
stored in that folder, and ``hypermax resume RESULTS_DIR`` continues it from the config saved
there, from any working folder, without the original config file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from hypermax.cli import main
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.trial import TrialStatus

NAME = "demo"
SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": -5, "max": 5}}}
MODEL = "def train(p):\n    return (p['x'] - 1) ** 2\n"


def write(folder: Path, iterations: int = 3, file: str = "search.json", **extra: Any) -> Path:
    """model.py and a config in ``folder``; ``extra`` sections replace the defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(MODEL, "utf-8")
    config = {
        "hyperparameters": SPACE,
        "function": {"module": "model", "name": "train"},
        "search": {"name": NAME, "method": "random", "iterations": iterations, "seed": 2},
        **extra,
    }
    path = folder / file
    path.write_text(json.dumps(config), "utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def numbers(folder: Path, name: str = NAME, url: str | None = None) -> list[int]:
    with SQLStorage(url or sqlite_url(folder), name, create=False) as storage:
        trials = storage.trials()
    assert all(t.status is TrialStatus.OK for t in trials)
    return [t.number for t in trials]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tmp_path / "project"


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder: not the config's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_a_results_folder_after_the_config_continues_the_search_stored_there(
    project: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(project)
    results = project / "hypermax_results" / NAME
    assert run(capsys, config)[0] == 0
    # another config file, another search name: the folder's name and database win
    other = write(project, iterations=5, file="other.json")
    data = json.loads(other.read_text("utf-8"))
    data["search"]["name"] = "renamed"
    other.write_text(json.dumps(data), "utf-8")

    code, out, err = run(capsys, other, results)
    assert code == 0, err
    assert numbers(results) == [1, 2, 3, 4, 5]
    assert f"results: {results}" in out
    assert not (project / "hypermax_results" / "renamed").exists()
    assert json.loads((results / "config.json").read_text("utf-8"))["search"]["name"] == NAME

    code, _, err = run(capsys, "run", other, results, "--iterations", "6", "--no-ui")
    assert code == 0, err
    assert numbers(results) == [1, 2, 3, 4, 5, 6]


def test_a_new_results_folder_starts_the_search_there(
    project: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(project)
    target = elsewhere / "runs" / "first"
    code, _, err = run(capsys, config, "runs/first")
    assert code == 0, err
    assert numbers(target) == [1, 2, 3]
    assert {"config.json", "origin.json", "trials.csv", "best.json"} <= {
        p.name for p in target.iterdir()
    }
    assert not (project / "hypermax_results").exists()
    # an empty folder is a new one too
    (elsewhere / "empty").mkdir()
    code, _, err = run(capsys, config, elsewhere / "empty")
    assert code == 0, err
    assert numbers(elsewhere / "empty") == [1, 2, 3]


def test_resume_continues_from_the_saved_config_alone_from_any_folder(
    project: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(project)
    results = project / "hypermax_results" / NAME
    assert run(capsys, config)[0] == 0
    origin = json.loads((results / "origin.json").read_text("utf-8"))
    assert origin["config_dir"] == str(project.resolve())
    assert origin["config_file"] == str(config.resolve())
    config.unlink()  # resume needs only the results folder (and the model)

    code, out, err = run(capsys, "resume", results, "--iterations", "5", "--no-ui")
    assert code == 0, err
    assert numbers(results) == [1, 2, 3, 4, 5]
    assert "Best trial:" in out
    # the saved config still tells where the search came from
    assert json.loads((results / "origin.json").read_text("utf-8")) == origin
    code, out, err = run(capsys, "resume", results)
    assert code == 0, err
    assert numbers(results) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("directory", [None, "out/runs"])
def test_resume_of_a_folder_an_earlier_version_wrote_finds_the_model_by_its_layout(
    project: Path,
    elsewhere: Path,
    capsys: pytest.CaptureFixture[str],
    directory: str | None,
) -> None:
    extra = {"results": {"directory": directory}} if directory else {}
    config = write(project, **extra)
    results = project / (directory or "hypermax_results") / NAME
    assert run(capsys, config)[0] == 0
    (results / "origin.json").unlink()  # as written before hypermax recorded it
    code, _, err = run(capsys, "resume", results, "--iterations", "4")
    assert code == 0, err
    assert numbers(results) == [1, 2, 3, 4]


def test_a_moved_folder_says_how_to_resume_and_the_config_then_continues_it(
    project: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(project)
    assert run(capsys, config)[0] == 0
    moved = elsewhere / "archive" / "old-run"
    moved.parent.mkdir()
    shutil.move(project / "hypermax_results" / NAME, moved)
    (moved / "origin.json").write_text(json.dumps({"config_dir": "/gone/away"}), "utf-8")

    code, _, err = run(capsys, "resume", moved)
    assert code == 2
    assert "cannot import module 'model'" in err
    assert "origin.json names /gone/away, which does not exist here" in err
    assert f"`hypermax path/to/search.json {moved}`" in err
    assert "Traceback" not in err

    code, _, err = run(capsys, config, moved, "--iterations", "4")
    assert code == 0, err
    assert numbers(moved) == [1, 2, 3, 4]
    assert not (project / "hypermax_results" / NAME).exists()


def test_fresh_with_a_results_folder_moves_that_folder_aside(
    project: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(project)
    target = elsewhere / "exp"
    assert run(capsys, config, target)[0] == 0
    code, _, err = run(capsys, config, target, "--fresh", "--iterations", "2")
    assert code == 0, err
    assert "earlier results moved to" in err
    assert numbers(target) == [1, 2]
    (aside,) = elsewhere.glob("exp.old-*")
    assert numbers(aside) == [1, 2, 3]


def test_folders_that_are_not_results_folders_are_argument_errors(
    project: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(project)
    assert run(capsys, config)[0] == 0
    results = project / "hypermax_results" / NAME

    code, _, err = run(capsys, "resume", project / "hypermax_results")
    assert code == 2
    assert "is not a hypermax results folder (it has no config.json)" in err
    assert f"it holds the results folders {NAME}: e.g. {results}" in err

    code, _, err = run(capsys, "resume", elsewhere / "missing")
    assert code == 2
    assert "does not exist" in err

    (elsewhere / "notes").mkdir()
    (elsewhere / "notes" / "todo.txt").write_text("x", "utf-8")
    code, _, err = run(capsys, config, elsewhere / "notes")
    assert code == 2
    assert "not a hypermax results folder" in err
    assert not (elsewhere / "notes" / "hypermax.db").exists()

    code, _, err = run(capsys, config, elsewhere / "notes" / "todo.txt")
    assert code == 2
    assert "is a file" in err

    code, _, err = run(capsys, results)  # the folder given where the config goes
    assert code == 2
    assert f"continue its search with `hypermax resume {results}`" in err

    (elsewhere / "other").mkdir()
    (elsewhere / "other" / "config.json").write_text('{"name": "not hypermax"}', "utf-8")
    code, _, err = run(capsys, "resume", elsewhere / "other")
    assert code == 2
    assert "is not the config of a hypermax search" in err

    copy = elsewhere / "no-database"
    shutil.copytree(results, copy)
    (copy / "hypermax.db").unlink()
    code, _, err = run(capsys, "resume", copy)
    assert code == 2
    assert "has no database" in err
    assert not (copy / "hypermax.db").exists()


@pytest.mark.postgres
def test_resume_of_a_postgresql_search_continues_in_its_database(
    project: Path,
    elsewhere: Path,
    capsys: pytest.CaptureFixture[str],
    postgres_url: str,
    postgres_search: str,
) -> None:
    search = {"name": postgres_search, "method": "random", "iterations": 2}
    config = write(project, search={**search, "storage": postgres_url})
    results = project / "hypermax_results" / postgres_search
    assert run(capsys, config)[0] == 0
    code, _, err = run(capsys, "resume", results, "--iterations", "3")
    assert code == 0, err
    assert numbers(results, postgres_search, postgres_url) == [1, 2, 3]
    assert not (results / "hypermax.db").exists()
