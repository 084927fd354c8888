"""What SQL storage promises beyond the shared contract: in-memory databases, readers that
never write, times kept as instants whatever the machine's time zone, older databases
migrated on either backend, and errors that name the database without its password."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, text

from hypermax.errors import ConfigError
from hypermax.storage import SQLStorage, StorageError, sqlite_url
from hypermax.storage.sql import normalize_url, trials_table
from hypermax.trial import Trial, TrialStatus
from tests.test_results_errors import read_only


def trial(number: int = 1, status: TrialStatus = TrialStatus.OK) -> Trial:
    return Trial(number, {"x": 0.5}, {"x": 0.5}, status, loss=0.25 if status.finished else None)


def test_an_in_memory_database_is_one_database_for_every_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A UI thread of the search process reads what the loop wrote (each thread would get an
    empty database of its own otherwise), and there is no file to lock."""
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        with SQLStorage(url, "memory") as storage:
            storage.save_trial(trial())
            seen: list[list[Trial]] = []
            reader = threading.Thread(target=lambda: seen.append(storage.trials()))  # noqa: B023
            reader.start()
            reader.join()
            assert [t.number for t in seen[0]] == [1]
            with storage.writer_lock():
                pass
    assert list(tmp_path.iterdir()) == []


def test_reading_a_database_that_does_not_exist_finds_nothing_and_creates_nothing(
    tmp_path: Path,
) -> None:
    storage = SQLStorage(sqlite_url(tmp_path), "absent", create=False)
    assert storage.trials() == [] and storage.load_config() is None
    storage.close()
    assert list(tmp_path.iterdir()) == []


def test_a_reader_cannot_change_the_database(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with SQLStorage(url, "s") as writer:
        writer.save_trial(trial())
    before = (tmp_path / "hypermax.db").read_bytes()
    reader = SQLStorage(url, "s", create=False)
    with pytest.raises(StorageError, match="read-only"):
        reader.save_trial(trial(2))
    reader.close()
    assert (tmp_path / "hypermax.db").read_bytes() == before


def test_a_reader_sees_what_a_writer_commits_after_it_opened(tmp_path: Path) -> None:
    """A reader opened while no writer runs (no ``-shm`` file) must still read the writer's
    log later: only in a read-only folder may it read the file as never changing."""
    url = sqlite_url(tmp_path)
    with SQLStorage(url, "s") as writer:
        writer.save_trial(trial())
    assert not (tmp_path / "hypermax.db-shm").exists()
    reader = SQLStorage(url, "s", create=False)
    assert [t.number for t in reader.trials()] == [1]
    with SQLStorage(url, "s") as writer:
        writer.save_trial(trial(2))
        assert [t.number for t in reader.trials()] == [1, 2]  # from the write-ahead log
    reader.close()


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's time zone 9 hours from UTC: SQLite keeps no offset, so anything stored in
    local time would come back 9 hours off."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("far_from_utc")
def test_times_are_instants_whatever_the_machines_time_zone(tmp_path: Path) -> None:
    started = datetime(2024, 5, 17, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
    with SQLStorage(sqlite_url(tmp_path), "tz") as storage:
        storage.save_trial(
            Trial(1, {}, {}, TrialStatus.RUNNING, started_at=started, finished_at=None)
        )
        before = datetime.now(timezone.utc)
        assert storage.mark_interrupted() == [1]
        (found,) = storage.trials()
    assert found.started_at == started
    assert found.finished_at is not None
    assert before - timedelta(seconds=1) <= found.finished_at <= datetime.now(timezone.utc)


def test_an_older_database_gains_the_newer_columns_on_either_backend(new_database: str) -> None:
    with SQLStorage(new_database, "old") as storage:
        storage.save_trial(trial())
    engine = create_engine(normalize_url(new_database))
    with engine.begin() as connection:  # as hypermax wrote it before these columns existed
        for column in ("intermediate", "interruptions"):
            connection.execute(text(f"ALTER TABLE hypermax_trials DROP COLUMN {column}"))
    with SQLStorage(new_database, "old") as storage:
        storage.save_trial(Trial(2, {}, {}, TrialStatus.RUNNING, intermediate=[[1, 0.5]]))
        storage.mark_interrupted()
        older, newer = storage.trials()
    assert older.intermediate == [] and older.interruptions == 0
    assert newer.intermediate == [[1, 0.5]] and newer.interruptions == 1
    kinds = {
        column.name: column.type.python_type
        for column in Table("hypermax_trials", MetaData(), autoload_with=engine).columns
        if column.name == "interruptions"
    }
    engine.dispose()
    assert kinds == {"interruptions": trials_table.c.interruptions.type.python_type}


def test_a_database_from_before_live_records_is_read_whole_then_gains_them(
    new_database: str,
) -> None:
    with SQLStorage(new_database, "old") as storage:
        storage.save_trial(trial())
    engine = create_engine(normalize_url(new_database))
    with engine.begin() as connection:  # as hypermax wrote it before heartbeats and revisions
        connection.execute(text("DROP INDEX ix_hypermax_trials_revision"))
        connection.execute(text("ALTER TABLE hypermax_trials DROP COLUMN revision"))
        connection.execute(text("DROP TABLE hypermax_runs"))
        connection.execute(text("DROP TABLE hypermax_samples"))
    engine.dispose()
    with SQLStorage(new_database, "old", create=False) as reader:
        found, cursor = reader.trials_since(0)
        assert [t.number for t in found] == [1] and cursor == 0
        assert reader.heartbeat() is None and reader.samples() == {}
    with SQLStorage(new_database, "old") as writer:  # the next run brings the tables back
        writer.save_trial(Trial(2, {}, {}, TrialStatus.RUNNING))
        writer.save_samples({2: {"ram_mib": 1.0}})
        changed, _ = writer.trials_since(cursor or 0)
        assert [t.number for t in changed] == [1, 2]  # the old trial has no revision yet
        _, after = writer.trials_since(0)
        writer.save_trial(Trial(3, {}, {}, TrialStatus.RUNNING))
        assert [t.number for t in writer.trials_since(after)[0]] == [3]
        assert writer.samples() == {2: {"ram_mib": 1.0}}


def test_an_unreachable_database_is_named_without_its_password() -> None:
    url = "postgresql://someone:s3cret@127.0.0.1:1/results"
    with pytest.raises(ConfigError) as caught:
        SQLStorage(url, "search")
    message = str(caught.value)
    assert "'postgresql://someone:***@127.0.0.1:1/results'" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:p%3A//x@h/db?a=b://c", "postgresql+psycopg://u:p%3A//x@h/db?a=b://c"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),  # a driver named
        ("sqlite:///r/hypermax.db", "sqlite:///r/hypermax.db"),
    ],
)
def test_plain_postgresql_urls_use_psycopg_3(given: str, used: str) -> None:
    assert normalize_url(given) == used


@pytest.mark.parametrize(
    ("url", "advice"),
    [
        ("mysql+mysqldb://u@127.0.0.1:1/db", "install the Python package of the 'mysqldb' driver"),
        ("postgresql://u@127.0.0.1:1/db", "pip install 'psycopg[binary]>=3.1,<4'"),
    ],
)
def test_a_missing_database_driver_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, advice: str
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as where it is not installed
    with pytest.raises(ConfigError) as caught:
        SQLStorage(url, "search")
    message = str(caught.value)
    assert "psycopg" in message or "MySQLdb" in message  # the module that is missing
    assert advice in message
    assert ("PostgreSQL" in message) == url.startswith("postgresql")


def test_a_damaged_database_is_reported_as_corrupt_and_left_alone(tmp_path: Path) -> None:
    """Its header intact, a page in the middle overwritten: SQLite says "malformed"."""
    url = sqlite_url(tmp_path)
    with SQLStorage(url, "s") as storage:
        for number in range(1, 200):
            storage.save_trial(Trial(number, {"x": "y" * 500}, {}, TrialStatus.OK, loss=1.0))
    database = tmp_path / "hypermax.db"
    damaged = bytearray(database.read_bytes())
    damaged[8192:16384] = b"\xff" * 8192
    database.write_bytes(bytes(damaged))
    with pytest.raises(StorageError) as caught:
        SQLStorage(url, "s").trials()
    assert str(caught.value) == (
        f"{database} is corrupt or not a SQLite database (database disk image is malformed); "
        "hypermax has not changed it. Restore it from a backup, or run with --fresh to move "
        "these results aside and start over"
    )
    assert database.read_bytes() == bytes(damaged)


def test_a_database_in_a_read_only_folder_cannot_be_opened_for_writing(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    with SQLStorage(sqlite_url(folder), "s") as storage:
        storage.save_trial(trial())
    with read_only(folder), pytest.raises(StorageError) as caught:
        SQLStorage(sqlite_url(folder), "s")
    message = str(caught.value)
    assert message.startswith(
        f"{folder} is read-only, so hypermax.db cannot be opened for writing"
    )
    assert message.endswith("make the folder writable, or set results.directory to another folder")
