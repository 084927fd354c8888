"""Results that cannot be written or read: a clear message and exit code, never a traceback,
and nothing saved is lost (run through ``main(argv)`` against real folders and mounts)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from hypermax.cli import main
from hypermax.storage import SQLStorage, sqlite_url
from tests.test_cli import NAME, csv_rows, results_dir, run_cli, write_config

BIG_MODEL = """\
def train(p):
    return {"loss": (p["x"] - 1) ** 2, "blob": "y" * 50000}
"""


def _mount(*arguments: str) -> None:
    subprocess.run(["mount", *arguments], check=True, capture_output=True)


def _unmount(folder: Path) -> None:
    """Unmount; a mount kept busy (a file left open in it) is detached anyway, and fails."""
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        pytest.fail(f"a file under {folder} was left open")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` read-only for this process: chmod for a user; for root, whom chmod does
    not stop, a read-only bind mount (skips when root may not mount)."""
    if os.geteuid() != 0:
        folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
        for each in folders:
            each.chmod(0o555)
        try:
            yield
        finally:
            for each in folders:
                each.chmod(0o755)
        return
    try:
        _mount("--bind", str(folder), str(folder))
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"root, and a read-only bind mount is not allowed here: {error}")
    try:
        _mount("-o", "remount,bind,ro", str(folder))
        yield
    finally:
        _unmount(folder)


@contextmanager
def tiny_disk(folder: Path, size: str) -> Iterator[None]:
    """A tmpfs of ``size`` at ``folder``: a disk that fills up for real (root only)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"cannot mount a tmpfs here: {error}")
    try:
        yield
    finally:
        _unmount(folder)


def set_results_directory(config: Path, directory: str) -> None:
    data = json.loads(config.read_text("utf-8"))
    data["results"] = {"directory": directory}
    config.write_text(json.dumps(data), "utf-8")


def no_traceback(err: str) -> None:
    assert "Traceback" not in err, err


# --- writing --------------------------------------------------------------------------------


@pytest.mark.parametrize("inside", [False, True], ids=["is-the-file", "below-a-file"])
def test_results_directory_pointing_at_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], inside: bool
) -> None:
    config = write_config(tmp_path)
    (tmp_path / "afile").write_text("not a folder\n")
    set_results_directory(config, "afile/deeper" if inside else "afile")
    code, _, err = run_cli(capsys, str(config))
    assert code == 2
    no_traceback(err)
    assert "results.directory" in err
    assert f"{tmp_path / 'afile'} is a file" in err
    assert (tmp_path / "afile").read_text() == "not a folder\n"


def test_a_new_search_in_a_read_only_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    set_results_directory(config, "locked")
    with read_only(locked):
        code, _, err = run_cli(capsys, str(config))
    assert code == 1
    no_traceback(err)
    assert f"{locked} is read-only" in err
    assert "results.directory" in err
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("fresh", [False, True], ids=["resume", "fresh"])
def test_a_finished_search_in_a_read_only_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fresh: bool
) -> None:
    config = write_config(tmp_path, iterations=3)
    assert main([str(config)]) == 0
    folder = results_dir(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    capsys.readouterr()
    with read_only(folder.parent):
        code, _, err = run_cli(
            capsys, str(config), *(["--fresh"] if fresh else []), "--iterations", "5"
        )
    assert code == 1
    no_traceback(err)
    assert "is read-only" in err
    assert "unable to open database file" not in err
    assert sorted(p.name for p in folder.parent.iterdir()) == [f".{NAME}.lock", NAME]
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


def test_a_disk_that_fills_up_says_the_database_is_intact_and_resume_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, iterations=60, model=BIG_MODEL)
    disk = tmp_path / "disk"
    set_results_directory(config, "disk")
    with tiny_disk(disk, "1m"):
        code, _, err = run_cli(capsys, str(config), "--no-ui")
        assert code == 1
        no_traceback(err)
        assert "the disk is full" in err
        assert "every trial saved before is intact in the database" in err
        assert "run the same command again to resume" in err
        folder = disk / NAME
        with SQLStorage(sqlite_url(folder), NAME, create=False) as storage:
            saved = [t for t in storage.trials() if t.status.finished]
        assert 0 < len(saved) < 60

        _mount("-o", "remount,size=64m", str(disk))  # space freed: the same command resumes
        code, _, err = run_cli(capsys, str(config), "--no-ui")
        assert code == 0, err
        with SQLStorage(sqlite_url(folder), NAME, create=False) as storage:
            after = storage.trials()
        assert [t.number for t in after if t.status.finished] == list(range(1, 61))
        assert [(t.number, t.loss) for t in after[: len(saved)]] == [
            (t.number, t.loss) for t in saved
        ]


def test_a_database_that_fills_up_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same without root: SQLite's own page limit gives the real "disk is full" error."""
    from hypermax.storage import sql

    connected = sql._on_sqlite_connect

    def limited(engine: object, writer: bool) -> None:
        connected(engine, writer)  # type: ignore[arg-type]
        if writer:

            @sql.event.listens_for(engine, "connect")
            def _limit(connection: sqlite3.Connection, _record: object) -> None:
                connection.execute("PRAGMA max_page_count=40")

    monkeypatch.setattr(sql, "_on_sqlite_connect", limited)
    config = write_config(tmp_path, iterations=60, model=BIG_MODEL)
    code, _, err = run_cli(capsys, str(config), "--no-ui")
    assert code == 1
    no_traceback(err)
    assert "the disk is full" in err
    assert "every trial saved before is intact in the database" in err

    monkeypatch.setattr(sql, "_on_sqlite_connect", connected)
    code, _, err = run_cli(capsys, str(config), "--no-ui")
    assert code == 0, err
    rows = csv_rows((results_dir(tmp_path) / "trials.csv").read_text("utf-8"))
    assert [row["status"] for row in rows] == ["ok"] * 60


# --- reading --------------------------------------------------------------------------------


@pytest.fixture
def finished(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    config = write_config(tmp_path, iterations=4)
    assert main([str(config)]) == 0
    capsys.readouterr()
    return results_dir(tmp_path)


def test_export_and_analyze_of_a_read_only_folder(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = (finished / "trials.csv").read_text("utf-8")
    before = sorted(p.name for p in finished.iterdir())
    with read_only(finished):
        code, out, err = run_cli(capsys, "export", str(finished))
        assert code == 0, err
        assert out == expected
        code, out, err = run_cli(capsys, "export", str(finished), "--format", "json")
        assert code == 0, err
        assert [t["trial"] for t in json.loads(out)] == [1, 2, 3, 4]

        code, _, err = run_cli(capsys, "analyze", str(finished))
        assert code == 1
        no_traceback(err)
        assert f"the report cannot be written into {finished / 'analysis'}" in err
        assert "Read-only file system" in err or "Permission denied" in err
        assert "--output" in err

        code, out, err = run_cli(capsys, "analyze", str(finished), "-o", str(tmp_path / "out"))
        assert code == 0, err
    assert (tmp_path / "out" / "report.html").is_file()
    assert sorted(p.name for p in finished.iterdir()) == before


def test_readers_never_create_a_database(
    finished: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (finished / "hypermax.db").unlink()
    for command in (["analyze"], ["export"], ["export", "--format", "json"]):
        code, _, err = run_cli(capsys, *command, str(finished))
        assert code == 2
        no_traceback(err)
        assert "has no database (hypermax.db is missing)" in err
        assert "its trials.csv lists 4 trials" in err
        assert not (finished / "hypermax.db").exists()
        assert not (finished / "analysis").exists()


def test_a_corrupt_database_is_reported_as_corrupt(
    finished: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = finished / "hypermax.db"
    database.write_bytes(os.urandom(8192))
    corrupt = database.read_bytes()
    for command in (["analyze", str(finished)], ["export", str(finished)]):
        code, _, err = run_cli(capsys, *command)
        assert code == 1
        no_traceback(err)
        assert "invalid config" not in err
        assert f"{database} is corrupt" in err
    config = finished.parent.parent / "search.json"
    code, _, err = run_cli(capsys, str(config))  # the run says so too, and changes nothing
    assert code == 1
    assert f"{database} is corrupt" in err
    assert "--fresh" in err
    assert database.read_bytes() == corrupt

    code, _, err = run_cli(capsys, str(config), "--fresh")  # the way out it names works
    assert code == 0, err
    aside = [p for p in finished.parent.iterdir() if p.name.startswith(f"{NAME}.old-")]
    assert (aside[0] / "hypermax.db").read_bytes() == corrupt


def test_reading_a_database_of_an_older_hypermax_in_a_read_only_folder(
    finished: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # as an earlier hypermax wrote it; closed, or SQLite keeps the file open in this process
    with closing(sqlite3.connect(finished / "hypermax.db")) as db:
        db.execute("ALTER TABLE hypermax_trials DROP COLUMN interruptions")
        db.commit()
    with read_only(finished):
        code, out, err = run_cli(capsys, "export", str(finished), "--format", "json")
    assert code == 0, err
    assert [t["trial"] for t in json.loads(out)] == [1, 2, 3, 4]


# --- what people read ------------------------------------------------------------------------

UNICODE_MODEL = """\
def train(p):
    return (p["学习率"] - 0.5) ** 2
"""


def test_unicode_parameter_names_are_printed_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, iterations=3, model=UNICODE_MODEL)
    data = json.loads(config.read_text("utf-8"))
    data["hyperparameters"] = {
        "type": "object",
        "properties": {"学习率": {"type": "number", "min": 0, "max": 1}},
    }
    config.write_text(json.dumps(data), "utf-8")
    code, out, err = run_cli(capsys, str(config), "--no-ui")
    assert code == 0, err
    folder = results_dir(tmp_path)
    outputs = [
        out,
        (folder / "best.json").read_text("utf-8"),
        run_cli(capsys, "export", str(folder), "--format", "json")[1],
        run_cli(capsys, "export", str(folder), "--what", "best", "--format", "json")[1],
        run_cli(capsys, "sample", str(config), "-n", "1")[1],
    ]
    for text in outputs:
        assert '"学习率"' in text, text
        assert "\\u" not in text, text


def test_config_json_is_private_and_the_rest_follow_the_umask(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, iterations=2)
    previous = os.umask(0o022)
    try:
        code, _, err = run_cli(capsys, str(config))
    finally:
        os.umask(previous)
    assert code == 0, err
    folder = results_dir(tmp_path)
    modes = {name: (folder / name).stat().st_mode & 0o777 for name in os.listdir(folder)}
    assert modes["config.json"] == 0o600
    assert modes["trials.csv"] == 0o644
    assert modes["best.json"] == 0o644
