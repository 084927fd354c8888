"""The Storage contract (see ``hypermax.storage.base``), run against every backend.

Each test gets a ``backend``: a database URL (a fresh SQLite file, or the shared PostgreSQL test
database) and a search-name prefix unique to the test, so tests can share one PostgreSQL database.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hypermax.errors import ConfigError, SearchBusyError
from hypermax.storage import SQLStorage, Storage, sqlite_url
from hypermax.storage.base import Heartbeat
from hypermax.trial import IllegalTransition, Trial, TrialStatus

STARTED = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=timezone.utc)


class Backend:
    """One database to run the contract against; opens storages and closes them all."""

    def __init__(self, kind: str, url: str, prefix: str):
        self.kind = kind
        self.url = url
        self.prefix = prefix
        self._opened: list[SQLStorage] = []

    def name(self, suffix: str = "main") -> str:
        return f"{self.prefix}-{suffix}"

    def open(self, suffix: str = "main", create: bool = True) -> SQLStorage:
        storage = SQLStorage(self.url, self.name(suffix), create=create)
        self._opened.append(storage)
        return storage

    def close_all(self) -> None:
        for storage in self._opened:
            storage.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        chosen = Backend("sqlite", sqlite_url(tmp_path), "search")
    else:
        url = request.getfixturevalue("postgres_url")
        chosen = Backend("postgresql", url, request.getfixturevalue("postgres_search"))
    try:
        yield chosen
    finally:
        chosen.close_all()


@pytest.fixture
def storage(backend: Backend) -> Storage:
    return backend.open()


def full_trial(number: int = 1, **changes: object) -> Trial:
    """A trial with every field set, including awkward values."""
    trial = Trial(
        number=number,
        flat={
            "model.$branch": 1,
            "model.c": 0.5,
            "model.kernel": "rbf",
            "layers.0.units": 64,
            "layers.1.units": 32,
            "lr": 0.001,
            "use_bias": True,
        },
        params={
            "model": {"c": 0.5, "kernel": "rbf"},
            "layers": [{"units": 64}, {"units": 32}],
            "lr": 0.001,
            "use_bias": True,
        },
        status=TrialStatus.OK,
        loss=0.125,
        metrics={"accuracy": 0.93, "auc": 0.871234567890123},
        metadata={
            "history": [0.5, 0.3, {"epoch": 3, "tags": ["a", "b"]}],
            "nested": {"deep": {"x": [1, 2, 3]}, "flag": False, "nothing": None},
            "note": 'ünïcode ✓ and "quotes"\nand a newline',
            "count": 7,
        },
        time=1.5,
        measured_time=1.75,
        started_at=STARTED,
        finished_at=STARTED + timedelta(seconds=1, microseconds=750000),
        error="ValueError: boom",
        traceback=(
            "Traceback (most recent call last):\n"
            '  File "model.py", line 3, in train\n'
            "    raise ValueError('boom')\n"
            "ValueError: boom\n"
        ),
        log_path="/tmp/hypermax_results/demo/logs/trial-1.log",
        resources={"peak_ram_mib": 123.5, "gpus": [{"index": 0, "peak_mib": 1024}]},
        intermediate=[[0, 0.9], [1, 0.5], [2, 0.125]],
        interruptions=1,
    )
    return replace(trial, **changes)


def only(storage: Storage) -> Trial:
    trials = storage.trials()
    assert len(trials) == 1
    return trials[0]


# --- save_trial / trials -------------------------------------------------------------------


def test_new_search_has_no_trials_and_no_config(storage: Storage) -> None:
    assert storage.trials() == []
    assert storage.load_config() is None


def test_every_field_round_trips(storage: Storage) -> None:
    trial = full_trial()
    storage.save_trial(trial)
    loaded = only(storage)
    assert loaded == trial
    assert loaded is not trial
    assert isinstance(loaded.status, TrialStatus)
    assert loaded.params == {
        "model": {"c": 0.5, "kernel": "rbf"},
        "layers": [{"units": 64}, {"units": 32}],
        "lr": 0.001,
        "use_bias": True,
    }
    assert loaded.flat["model.$branch"] == 1
    assert isinstance(loaded.flat["layers.0.units"], int)
    assert loaded.metadata["history"][2] == {"epoch": 3, "tags": ["a", "b"]}
    assert loaded.metadata["nested"]["nothing"] is None


def test_a_minimal_running_trial_round_trips(storage: Storage) -> None:
    trial = Trial(number=1, flat={"x": 0.25}, params={"x": 0.25})
    storage.save_trial(trial)
    loaded = only(storage)
    assert loaded == trial
    assert loaded.status is TrialStatus.RUNNING
    assert loaded.loss is None
    assert loaded.metrics == {}
    assert loaded.metadata == {}
    assert loaded.resources == {}
    assert loaded.started_at is None
    assert loaded.finished_at is None
    assert loaded.error is None
    assert loaded.traceback is None
    assert loaded.log_path is None


@pytest.mark.parametrize("params", [[1, 2.5, "three"], "a string", 4, None])
def test_params_that_are_not_objects_round_trip(storage: Storage, params: object) -> None:
    storage.save_trial(Trial(number=1, flat={"": params}, params=params))
    assert only(storage).params == params


@pytest.mark.parametrize("loss", [None, 0.0, 0.125, -3.5, 1e-300, 1.7976931348623157e308])
def test_loss_round_trips(storage: Storage, loss: float | None) -> None:
    storage.save_trial(full_trial(loss=loss))
    assert only(storage).loss == loss


@pytest.mark.parametrize("status", list(TrialStatus))
def test_every_status_round_trips(storage: Storage, status: TrialStatus) -> None:
    storage.save_trial(full_trial(status=status))
    assert only(storage).status is status


@pytest.mark.parametrize(
    "zone",
    [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))],
)
def test_datetimes_come_back_timezone_aware_and_the_same_instant(
    storage: Storage, zone: timezone
) -> None:
    started = datetime(2024, 1, 31, 23, 59, 58, 654321, tzinfo=zone)
    finished = started + timedelta(days=1, seconds=3)
    storage.save_trial(full_trial(started_at=started, finished_at=finished))
    loaded = only(storage)
    assert loaded.started_at is not None and loaded.finished_at is not None
    assert loaded.started_at.tzinfo is not None
    assert loaded.finished_at.tzinfo is not None
    assert loaded.started_at == started
    assert loaded.finished_at == finished
    assert loaded.finished_at - loaded.started_at == timedelta(days=1, seconds=3)


def test_long_error_and_traceback_text_round_trip(storage: Storage) -> None:
    traceback = "".join(
        f'  File "deep.py", line {n}, in f{n}\n    f{n + 1}()\n' for n in range(500)
    )
    error = "RuntimeError: " + "x" * 5000
    storage.save_trial(full_trial(error=error, traceback=traceback))
    loaded = only(storage)
    assert loaded.error == error
    assert loaded.traceback == traceback


def test_save_trial_replaces_the_trial_with_the_same_number(storage: Storage) -> None:
    running = Trial(
        number=1,
        flat={"x": 1.0},
        params={"x": 1.0},
        started_at=STARTED,
        log_path="/tmp/logs/trial-1.log",
        error="an earlier error",
    )
    storage.save_trial(running)
    assert only(storage).status is TrialStatus.RUNNING

    finished = full_trial(number=1, error=None, traceback=None)
    storage.save_trial(finished)
    assert only(storage) == finished


def test_a_finished_trial_is_never_changed(storage: Storage) -> None:
    finished = full_trial(number=1)
    storage.save_trial(finished)
    rerun = replace(finished, status=TrialStatus.RUNNING, loss=None, metrics={}, finished_at=None)
    with pytest.raises(IllegalTransition, match="trial 1 is stored ok"):
        storage.save_trial(rerun)
    assert only(storage) == finished


def test_an_interrupted_trial_is_replaced_by_its_rerun(storage: Storage) -> None:
    interrupted = replace(full_trial(number=1), status=TrialStatus.INTERRUPTED, loss=None)
    storage.save_trial(interrupted)
    rerun = replace(interrupted, status=TrialStatus.RUNNING, finished_at=None)
    storage.save_trial(rerun)
    assert only(storage) == rerun


def test_trials_are_ordered_by_number(storage: Storage) -> None:
    for number in (3, 10, 1, 2, 20, 11):
        storage.save_trial(full_trial(number=number, loss=float(number)))
    trials = storage.trials()
    assert [t.number for t in trials] == [1, 2, 3, 10, 11, 20]
    assert [t.loss for t in trials] == [1.0, 2.0, 3.0, 10.0, 11.0, 20.0]


def test_trials_are_independent_copies(storage: Storage) -> None:
    trial = full_trial()
    storage.save_trial(trial)
    expected = copy.deepcopy(trial)

    # Changing the saved object changes nothing stored.
    trial.params["model"]["c"] = 99
    trial.flat["model.c"] = 99
    trial.metadata["history"].append("changed")
    trial.status = TrialStatus.FAILED
    assert only(storage) == expected

    # Changing a loaded trial changes nothing stored, nor other loaded copies.
    first = only(storage)
    first.params["layers"][0]["units"] = 1
    first.metrics["accuracy"] = 0.0
    first.metadata["nested"]["deep"]["x"].clear()
    first.resources["gpus"] = []
    first.loss = 123.0
    second = only(storage)
    assert second == expected
    assert second.params is not first.params
    assert second.metadata["nested"] is not first.metadata["nested"]


# --- mark_interrupted ----------------------------------------------------------------------


def test_mark_interrupted_turns_running_into_interrupted(storage: Storage) -> None:
    statuses = {
        1: TrialStatus.OK,
        2: TrialStatus.RUNNING,
        3: TrialStatus.FAILED,
        4: TrialStatus.RUNNING,
        5: TrialStatus.KILLED,
        6: TrialStatus.INTERRUPTED,
    }
    for number, status in statuses.items():
        storage.save_trial(full_trial(number=number, status=status))

    assert sorted(storage.mark_interrupted()) == [2, 4]

    after = {t.number: t.status for t in storage.trials()}
    assert after == {**statuses, 2: TrialStatus.INTERRUPTED, 4: TrialStatus.INTERRUPTED}
    # Everything else about the trials is kept; each counts one more interruption.
    assert only_number(storage, 2) == full_trial(
        number=2, status=TrialStatus.INTERRUPTED, interruptions=2
    )
    assert only_number(storage, 6).interruptions == 1  # was not running: not counted again
    assert storage.mark_interrupted() == []


def test_mark_interrupted_counts_each_interruption_and_sets_finished_at(
    storage: Storage,
) -> None:
    storage.save_trial(Trial(number=1, flat={"x": 1}, params={"x": 1}, started_at=STARTED))
    before = datetime.now(timezone.utc)
    assert storage.mark_interrupted() == [1]
    first = only(storage)
    assert first.interruptions == 1
    assert first.finished_at is not None
    assert before - timedelta(seconds=1) <= first.finished_at <= datetime.now(timezone.utc)

    for expected in (2, 3):  # re-run, and the search dies again
        storage.save_trial(replace(first, status=TrialStatus.RUNNING, finished_at=None))
        assert storage.mark_interrupted() == [1]
        first = only(storage)
        assert first.interruptions == expected


@pytest.mark.parametrize("count", [0, 1, 7])
def test_interruptions_round_trip(storage: Storage, count: int) -> None:
    storage.save_trial(full_trial(interruptions=count))
    assert only(storage).interruptions == count


def only_number(storage: Storage, number: int) -> Trial:
    return next(t for t in storage.trials() if t.number == number)


def test_mark_interrupted_without_running_trials(storage: Storage) -> None:
    assert storage.mark_interrupted() == []
    storage.save_trial(full_trial(number=1))
    assert storage.mark_interrupted() == []
    assert only(storage).status is TrialStatus.OK


def test_mark_interrupted_leaves_other_searches_alone(backend: Backend) -> None:
    first, second = backend.open("first"), backend.open("second")
    first.save_trial(full_trial(number=1, status=TrialStatus.RUNNING))
    second.save_trial(full_trial(number=1, status=TrialStatus.RUNNING))
    assert first.mark_interrupted() == [1]
    assert only(first).status is TrialStatus.INTERRUPTED
    assert only(second).status is TrialStatus.RUNNING


# --- config --------------------------------------------------------------------------------


def test_save_and_load_config(storage: Storage) -> None:
    config = {
        "hyperparameters": {
            "type": "object",
            "properties": {"x": {"type": "number", "min": -5.5, "max": 5}},
        },
        "function": {"type": "python_function", "module": "model", "name": "train"},
        "search": {"name": "demo", "method": "tpe", "iterations": 10, "seed": None},
        "notes": ["ünïcode ✓", {"deep": [1, [2, [3]]]}, True],
    }
    storage.save_config(config)
    assert storage.load_config() == config

    replacement = {**config, "search": {**config["search"], "iterations": 20}}
    storage.save_config(replacement)
    assert storage.load_config() == replacement

    loaded = storage.load_config()
    assert loaded is not None
    loaded["search"]["iterations"] = 0
    assert storage.load_config() == replacement


def test_config_and_trials_are_kept_apart(storage: Storage) -> None:
    storage.save_trial(full_trial())
    storage.save_config({"search": {"iterations": 1}})
    assert only(storage) == full_trial()
    storage.save_trial(full_trial(number=2))
    assert storage.load_config() == {"search": {"iterations": 1}}


# --- several searches, several readers, durability ----------------------------------------


def test_searches_with_different_names_stay_separate(backend: Backend) -> None:
    first, second = backend.open("first"), backend.open("second")
    first.save_config({"search": {"name": "first"}})
    second.save_config({"search": {"name": "second"}})
    first.save_trial(full_trial(number=1, loss=1.0))
    first.save_trial(full_trial(number=2, loss=2.0))
    second.save_trial(replace(full_trial(number=1, loss=-1.0), status=TrialStatus.RUNNING))

    assert [(t.number, t.loss) for t in first.trials()] == [(1, 1.0), (2, 2.0)]
    assert [(t.number, t.loss) for t in second.trials()] == [(1, -1.0)]
    assert first.load_config() == {"search": {"name": "first"}}
    assert second.load_config() == {"search": {"name": "second"}}

    second.save_trial(full_trial(number=1, loss=-2.0))  # replaces only the second's trial 1
    assert [t.loss for t in first.trials()] == [1.0, 2.0]
    assert [t.loss for t in second.trials()] == [-2.0]


def test_opening_an_existing_search_again_finds_it(backend: Backend) -> None:
    backend.open("shared").save_trial(full_trial(number=1))
    again = backend.open("shared")
    assert only(again) == full_trial(number=1)


def test_a_second_storage_sees_committed_trials(backend: Backend) -> None:
    writer = backend.open()
    reader = backend.open()  # another "process": its own engine and connections
    assert reader.trials() == []

    writer.save_config({"search": {"iterations": 3}})
    writer.save_trial(full_trial(number=1, status=TrialStatus.RUNNING, loss=None))
    assert only(reader).status is TrialStatus.RUNNING
    assert reader.load_config() == {"search": {"iterations": 3}}

    writer.save_trial(full_trial(number=1))
    writer.save_trial(full_trial(number=2))
    assert reader.trials() == [full_trial(number=1), full_trial(number=2)]


def test_another_process_reads_while_the_writer_is_open(backend: Backend) -> None:
    writer = backend.open()
    writer.save_trial(full_trial(number=1))
    writer.save_trial(full_trial(number=2, status=TrialStatus.RUNNING))
    script = (
        "import json, sys\n"
        "from hypermax.storage import SQLStorage\n"
        "with SQLStorage(sys.argv[1], sys.argv[2], create=False) as storage:\n"
        "    print(json.dumps([[t.number, t.status.value, t.loss] for t in storage.trials()]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, backend.url, backend.name()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == [[1, "ok", 0.125], [2, "running", 0.125]]
    writer.save_trial(full_trial(number=3))  # the writer carries on unhindered
    assert len(writer.trials()) == 3


def test_reopening_after_close_keeps_everything(backend: Backend) -> None:
    config = {"search": {"name": backend.name(), "iterations": 5}}
    trials = [full_trial(number=n, loss=n / 10) for n in (1, 2, 3)]
    trials.append(full_trial(number=4, status=TrialStatus.RUNNING, loss=None))
    with backend.open() as storage:
        storage.save_config(config)
        for trial in trials:
            storage.save_trial(trial)

    with backend.open() as reopened:
        assert reopened.trials() == trials
        assert reopened.load_config() == config
        assert reopened.mark_interrupted() == [4]

    with backend.open(create=False) as read_only:
        assert read_only.trials()[-1].status is TrialStatus.INTERRUPTED
        assert read_only.trials()[:3] == trials[:3]


def test_create_false_on_a_missing_search(backend: Backend) -> None:
    backend.open("existing").save_trial(full_trial())  # the tables exist
    missing = backend.open("missing", create=False)
    assert missing.trials() == []
    assert missing.load_config() is None
    # Looking did not create the search.
    assert backend.open("missing", create=False).load_config() is None
    assert only(backend.open("existing", create=False)) == full_trial()


# --- rename_search -------------------------------------------------------------------------


def test_rename_search_moves_records_aside(backend: Backend) -> None:
    storage = backend.open()
    config = {"search": {"name": backend.name()}}
    storage.save_config(config)
    storage.save_trial(full_trial(number=1))
    storage.save_trial(full_trial(number=2, loss=0.5))

    aside = backend.name("main.old-20240101-120000")
    storage.rename_search(aside)
    assert storage.search_name == aside

    moved = SQLStorage(backend.url, aside, create=False)
    try:
        assert moved.trials() == [full_trial(number=1), full_trial(number=2, loss=0.5)]
        assert moved.load_config() == config
    finally:
        moved.close()

    assert backend.open(create=False).trials() == []
    assert backend.open(create=False).load_config() is None

    # A new search under the old name starts empty and leaves the moved one alone.
    fresh = backend.open()
    assert fresh.trials() == []
    fresh.save_trial(full_trial(number=1, loss=9.0))
    assert [t.loss for t in fresh.trials()] == [9.0]
    moved_again = SQLStorage(backend.url, aside, create=False)
    try:
        assert [t.loss for t in moved_again.trials()] == [0.125, 0.5]
    finally:
        moved_again.close()


# --- errors --------------------------------------------------------------------------------


def _unreachable_sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'hypermax.db'}"


@pytest.mark.parametrize(
    "url",
    [
        "nosuchdialect://user@host/db",
        "this is not a database url",
        "mysql+mysqldb://user@127.0.0.1:1/db",  # its driver is not installed
        "postgresql://postgres@127.0.0.1:1/nothing_listens_here",
        _unreachable_sqlite,
    ],
    ids=["unknown-dialect", "not-a-url", "missing-driver", "refused", "missing-folder"],
)
def test_a_bad_url_is_a_config_error_naming_search_storage(tmp_path: Path, url: object) -> None:
    text = url(tmp_path) if callable(url) else url
    with pytest.raises(ConfigError) as caught:
        SQLStorage(str(text), "search")
    assert [issue.path for issue in caught.value.issues] == ["search.storage"]
    assert "search.storage" in str(caught.value)


def test_only_one_writer_at_a_time(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    with (
        first.writer_lock(),
        pytest.raises(SearchBusyError, match="already running"),
        second.writer_lock(),
    ):
        pass
    with second.writer_lock():
        pass


def test_a_database_from_before_intermediate_values_opens_and_keeps_its_trials(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path)
    with SQLStorage(url, "old") as storage:
        storage.save_trial(full_trial())
    with sqlite3.connect(tmp_path / "hypermax.db") as db:  # as an earlier hypermax wrote it
        db.execute("ALTER TABLE hypermax_trials DROP COLUMN intermediate")
    with SQLStorage(url, "old") as storage:
        assert only(storage) == full_trial(intermediate=[])
        storage.save_trial(full_trial(2))
        assert storage.trials()[1].intermediate == [[0, 0.9], [1, 0.5], [2, 0.125]]


def test_a_database_from_before_interruptions_gains_the_column(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with SQLStorage(url, "old") as storage:
        storage.save_trial(full_trial(status=TrialStatus.RUNNING))
    with sqlite3.connect(tmp_path / "hypermax.db") as db:  # as an earlier hypermax wrote it
        db.execute("ALTER TABLE hypermax_trials DROP COLUMN interruptions")
    with SQLStorage(url, "old") as storage:
        assert only(storage) == full_trial(status=TrialStatus.RUNNING, interruptions=0)
        assert storage.mark_interrupted() == [1]
        assert only(storage).interruptions == 1


# --- live records: what a UI following the search reads -------------------------------------


def running_trial(number: int) -> Trial:
    return replace(full_trial(number=number), status=TrialStatus.RUNNING, loss=None)


def numbers(trials: list[Trial]) -> list[int]:
    return [t.number for t in trials]


def test_a_follower_fetches_only_the_trials_saved_since_its_cursor(backend: Backend) -> None:
    writer = backend.open()
    reader = backend.open(create=False)
    for number in (1, 2, 3):
        writer.save_trial(running_trial(number))
    seen, cursor = reader.trials_since(0)
    assert numbers(seen) == [1, 2, 3]

    writer.save_trial(full_trial(number=2))  # finishes
    writer.save_trial(running_trial(4))
    changed, later = reader.trials_since(cursor)
    assert numbers(changed) == [2, 4] and later > cursor
    assert changed[0] == full_trial(number=2)
    assert reader.trials_since(later) == ([], later)


def test_interrupting_trials_is_a_change_followers_see(backend: Backend) -> None:
    writer = backend.open()
    writer.save_trial(running_trial(1))
    writer.save_trial(full_trial(number=2))
    _, cursor = writer.trials_since(0)
    writer.mark_interrupted()
    changed, _ = backend.open(create=False).trials_since(cursor)
    assert [(t.number, t.status) for t in changed] == [(1, TrialStatus.INTERRUPTED)]


def test_a_resumed_writer_counts_on_from_the_stored_revisions(backend: Backend) -> None:
    first = backend.open()
    first.save_trial(full_trial(number=1))
    first.save_trial(full_trial(number=2))
    _, cursor = backend.open(create=False).trials_since(0)
    first.close()
    backend.open().save_trial(running_trial(3))  # the next run of the same search
    changed, _ = backend.open(create=False).trials_since(cursor)
    assert numbers(changed) == [3]


def test_the_heartbeat_is_replaced_and_read_back(backend: Backend) -> None:
    writer = backend.open()
    assert backend.open(create=False).heartbeat() is None
    beat = Heartbeat(4321, "gpu-box", "tpe", 100, STARTED, STARTED + timedelta(seconds=1))
    writer.beat(beat)
    later = replace(beat, last_seen=STARTED + timedelta(seconds=9), state="finished")
    writer.beat(later)
    assert backend.open(create=False).heartbeat() == later


def test_live_samples_are_those_of_the_last_save(backend: Backend) -> None:
    writer = backend.open()
    reader = backend.open(create=False)
    assert reader.samples() == {}
    writer.save_samples({1: {"ram_mib": 12.5, "elapsed": 1.0}, 2: {"ram_mib": 3.0}})
    assert reader.samples() == {1: {"ram_mib": 12.5, "elapsed": 1.0}, 2: {"ram_mib": 3.0}}
    writer.save_samples({2: {"ram_mib": 4.0}})  # trial 1 ended
    assert reader.samples() == {2: {"ram_mib": 4.0}}
    writer.save_samples({})
    assert reader.samples() == {}


def test_searches_keep_their_own_live_records(backend: Backend) -> None:
    first, second = backend.open("first"), backend.open("second")
    first.beat(Heartbeat(1, "a", "tpe", 10, STARTED, STARTED))
    first.save_samples({1: {"ram_mib": 1.0}})
    second.save_samples({1: {"ram_mib": 2.0}})
    assert second.heartbeat() is None
    assert first.samples() == {1: {"ram_mib": 1.0}}
    assert second.samples() == {1: {"ram_mib": 2.0}}
