"""SQLite and PostgreSQL storage through SQLAlchemy Core (one schema for both)."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from hypermax.errors import ConfigError, ConfigIssue, SearchBusyError
from hypermax.storage.base import RESUME_HINT, Heartbeat, Storage, StorageError, file_error
from hypermax.storage.sql_schema import (
    add_missing_columns,
    metadata,
    runs,
    samples_table,
    searches,
    trials_table,
)
from hypermax.trial import IllegalTransition, Trial, TrialStatus

SQLITE_FILENAME = "hypermax.db"
CONNECT_TIMEOUT = 10  # seconds; a PostgreSQL URL's own connect_timeout wins
# held (per transaction) while a process creates or migrates the tables and its search's row,
# so searches starting at once against one PostgreSQL database do not collide
_SCHEMA_LOCK_KEY = zlib.crc32(b"hypermax:schema")

_TRIAL_FIELDS = [c.name for c in trials_table.columns if c.name not in ("search_id", "revision")]
# Built once: constructing statements per write cost more than running them.
_UNFINISHED = (TrialStatus.RUNNING.value, TrialStatus.INTERRUPTED.value)
_UPDATE_TRIAL = (
    update(trials_table)
    .where(trials_table.c.search_id == bindparam("key_search"))
    .where(trials_table.c.number == bindparam("key_number"))
    .where(trials_table.c.status.in_(_UNFINISHED))  # a finished trial is never changed
    .values({name: bindparam(f"new_{name}") for name in [*_TRIAL_FIELDS, "revision"]})
)
_INSERT_TRIAL = insert(trials_table)


def sqlite_url(results_dir: Path) -> str:
    return f"sqlite:///{results_dir / SQLITE_FILENAME}"


def results_lock_path(results_dir: Path) -> Path:
    """The run lock of a results folder lives beside it, so ``--fresh`` holds it while it
    moves the folder aside."""
    return results_dir.with_name(f".{results_dir.name}.lock")


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _with_connect_timeout(url: URL) -> URL:
    """A server that accepts connections but never answers fails after CONNECT_TIMEOUT
    seconds instead of hanging the search."""
    if url.get_backend_name() != "postgresql" or "connect_timeout" in url.query:
        return url
    return url.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})


def _driver_hint(url: str) -> str:
    """What to install when a URL's database driver is missing."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        # what the postgres extra installs, however hypermax itself was installed
        return "; install the PostgreSQL driver: pip install 'psycopg[binary]>=3.1,<4'"
    return (
        f"; install the Python package of the {parsed.get_driver_name()!r} driver for "
        f"{parsed.get_backend_name()}, or name a driver that is installed in the URL"
    )


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory ones."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).absolute()


def _read_only_url(database: Path) -> URL:
    """Open a SQLite file without creating or changing anything. In a read-only folder that has
    no ``-shm`` file, SQLite cannot coordinate with writers and refuses even to read; no one
    can be writing there, so the file is read as immutable."""
    query = {"mode": "ro", "uri": "true"}
    shm = database.with_name(database.name + "-shm")
    if _read_only_folder(database.parent) and not shm.exists():
        query["immutable"] = "1"
    return URL.create("sqlite", database=f"file:{quote(str(database))}", query=query)


def _read_only_folder(folder: Path) -> bool:
    """An existing folder this process cannot write in (a read-only mount stops root too)."""
    return folder.is_dir() and not os.access(folder, os.W_OK)


def _on_sqlite_connect(engine: Engine, writer: bool) -> None:
    """WAL lets UIs and exports read while the runner writes; FULL sync makes commits durable.
    A reader leaves the journal mode alone: changing it would be a write."""

    @event.listens_for(engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        if writer:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


class SQLStorage(Storage):
    """Storage in any database SQLAlchemy reaches; tables are created on first use.

    ``create=False`` opens for reading only: nothing is created or migrated, a SQLite file is
    opened read-only, and a SQLite file that does not exist reads as a database without this
    search (it is not created). ``lock_path`` is where a SQLite database's run lock lives
    (default: beside the file).
    """

    def __init__(
        self, url: str, search_name: str, create: bool = True, lock_path: Path | None = None
    ):
        self.search_name = search_name
        self._shown = _without_password(url)
        self._database: Path | None = None
        self._lock_path = lock_path
        self._writer = create
        self._search_id: int | None = None
        self._columns = list(_TRIAL_FIELDS)
        self._revision = 0  # of the last trial saved: the writer counts on from the stored one
        self._revisions = True  # whether trials carry a revision (older databases: no)
        self._live = True  # whether the heartbeat and samples tables exist (older: no)
        try:
            parsed = _with_connect_timeout(make_url(normalize_url(url)))
            self._database = _sqlite_file(parsed)
            if self._database is not None and not create:
                if not self._database.exists():
                    self.engine = create_engine(parsed)  # never connected: nothing to read
                    return
                parsed = _read_only_url(self._database)
            self.engine = (
                # one in-memory database, shared by every thread of this process (a UI thread
                # reads what the search loop writes)
                create_engine(
                    parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
                )
                if parsed.get_backend_name() == "sqlite" and self._database is None
                else create_engine(parsed)
            )
            if self.engine.dialect.name == "sqlite":
                _on_sqlite_connect(self.engine, writer=create)
            with self.engine.begin() as connection:
                self._search_id = self._create(connection) if create else self._find(connection)
        except (SQLAlchemyError, ImportError) as error:
            known = self._failure(error) if isinstance(error, SQLAlchemyError) else None
            if known is not None:
                raise known from error
            reason = getattr(error, "orig", None) or error
            hint = _driver_hint(url) if isinstance(error, ImportError) else ""
            raise ConfigError(
                ConfigIssue(
                    "search.storage", f"cannot use database {self._shown!r}: {reason}{hint}"
                )
            ) from error

    def _create(self, connection: Connection) -> int:
        """Tables, columns newer hypermax versions added, and this search's row: one
        transaction, serialised between processes (another may be starting the same search)."""
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before looking
        metadata.create_all(connection)
        add_missing_columns(connection)
        found = self._find(connection)
        if found is not None:
            return found
        created = connection.execute(
            insert(searches).values(name=self.search_name, created_at=datetime.now(timezone.utc))
        )
        return int(created.inserted_primary_key[0])  # type: ignore[index]

    def _find(self, connection: Connection) -> int | None:
        inspector = inspect(connection)
        if not inspector.has_table(searches.name):
            return None  # a database nobody has written a search into yet
        if inspector.has_table(trials_table.name):  # a reader of an older database reads
            present = {column["name"] for column in inspector.get_columns(trials_table.name)}
            self._columns = [name for name in _TRIAL_FIELDS if name in present]
            self._revisions = "revision" in present
        self._live = inspector.has_table(runs.name)
        found = connection.execute(
            select(searches.c.id).where(searches.c.name == self.search_name)
        ).scalar()
        if found is not None and self._revisions:
            self._revision = connection.execute(
                select(func.coalesce(func.max(trials_table.c.revision), 0)).where(
                    trials_table.c.search_id == found
                )
            ).scalar_one()
        return found

    def _failure(self, error: SQLAlchemyError) -> StorageError | None:
        """Disk full, a read-only or corrupt database: a StorageError saying so (None for
        anything else)."""
        reason = getattr(error, "orig", None) or error
        text = str(reason).lower()
        where = str(self._database) if self._database is not None else self._shown
        if "disk is full" in text or getattr(reason, "sqlstate", None) == "53100":
            return StorageError(f"the disk is full: {where} could not be written; {RESUME_HINT}")
        if self._database is not None and ("not a database" in text or "malformed" in text):
            return StorageError(
                f"{where} is corrupt or not a SQLite database ({reason}); hypermax has not "
                "changed it. Restore it from a backup, or run with --fresh to move these "
                "results aside and start over"
            )
        if self._database is not None and _read_only_folder(self._database.parent):
            if not self._writer:
                return StorageError(
                    f"{self._database} cannot be read in its read-only folder ({reason}); "
                    "copy the folder somewhere writable and read the copy"
                )
            return StorageError(
                f"{self._database.parent} is read-only, so {self._database.name} cannot be "
                f"opened for writing ({reason}); make the folder writable, or set "
                "results.directory to another folder"
            )
        if "readonly" in text or "read-only" in text:
            return StorageError(f"{where} is read-only ({reason}); make it writable")
        return None

    @contextmanager
    def _connection(self, write: bool) -> Iterator[Connection]:
        """A connection (in a transaction when writing); known failures become StorageError."""
        try:
            with self.engine.begin() if write else self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as error:
            known = self._failure(error)
            if known is None:
                raise
            raise known from error

    def save_config(self, config: dict[str, Any]) -> None:
        with self._connection(write=True) as connection:
            connection.execute(
                update(searches).where(searches.c.id == self._search_id).values(config=config)
            )

    def load_config(self) -> dict[str, Any] | None:
        if self._search_id is None:
            return None
        with self._connection(write=False) as connection:
            return connection.execute(
                select(searches.c.config).where(searches.c.id == self._search_id)
            ).scalar()

    def save_trial(self, trial: Trial) -> None:
        row = {name: getattr(trial, name) for name in _TRIAL_FIELDS}
        row["status"] = trial.status.value
        row["started_at"] = _utc(trial.started_at)  # SQLite keeps no offset: store UTC
        row["finished_at"] = _utc(trial.finished_at)
        self._revision += 1
        row["revision"] = self._revision
        changes = {f"new_{name}": value for name, value in row.items()}
        changes.update(key_search=self._search_id, key_number=trial.number)
        with self._connection(write=True) as connection:
            if connection.execute(_UPDATE_TRIAL, changes).rowcount:
                return
            stored = connection.execute(
                select(trials_table.c.status).where(
                    (trials_table.c.search_id == self._search_id)
                    & (trials_table.c.number == trial.number)
                )
            ).scalar()
            if stored is not None:
                raise IllegalTransition(
                    f"trial {trial.number} is stored {stored}: a finished trial is never changed"
                )
            connection.execute(_INSERT_TRIAL, {**row, "search_id": self._search_id})

    def trials(self) -> list[Trial]:
        if self._search_id is None:
            return []
        query = (
            select(*[trials_table.c[name] for name in self._columns])
            .where(trials_table.c.search_id == self._search_id)
            .order_by(trials_table.c.number)
        )
        with self._connection(write=False) as connection:
            rows = connection.execute(query).mappings().all()
        return [self._trial(row) for row in rows]

    def trials_since(self, revision: int) -> tuple[list[Trial], int]:
        if self._search_id is None:
            return [], revision
        columns = [trials_table.c[name] for name in self._columns]
        mine = trials_table.c.search_id == self._search_id
        if self._revisions:
            columns.append(trials_table.c.revision)
            if revision:
                mine &= trials_table.c.revision > revision
        with self._connection(write=False) as connection:
            rows = connection.execute(select(*columns).where(mine).order_by("number")).mappings()
            found = [(row.get("revision") or 0, self._trial(row)) for row in rows]
        return [trial for _, trial in found], max([revision, *(r for r, _ in found)])

    def beat(self, heartbeat: Heartbeat) -> None:
        row = {
            **vars(heartbeat),
            "started_at": _utc(heartbeat.started_at),
            "last_seen": _utc(heartbeat.last_seen),
        }
        mine = runs.c.search_id == self._search_id
        with self._connection(write=True) as connection:
            if not connection.execute(update(runs).where(mine).values(row)).rowcount:
                connection.execute(insert(runs).values(search_id=self._search_id, **row))

    def heartbeat(self) -> Heartbeat | None:
        if self._search_id is None or not self._live:
            return None
        columns = [c for c in runs.columns if c.name != "search_id"]
        with self._connection(write=False) as connection:
            row = (
                connection.execute(select(*columns).where(runs.c.search_id == self._search_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        found = dict(row)
        found["started_at"], found["last_seen"] = (
            _aware(found["started_at"]),
            _aware(found["last_seen"]),
        )
        return Heartbeat(**found)

    def save_samples(self, samples: dict[int, dict[str, Any]]) -> None:
        mine = samples_table.c.search_id == self._search_id
        with self._connection(write=True) as connection:
            connection.execute(delete(samples_table).where(mine))
            if samples:
                connection.execute(
                    insert(samples_table),
                    [
                        {"search_id": self._search_id, "number": number, "sample": sample}
                        for number, sample in samples.items()
                    ],
                )

    def samples(self) -> dict[int, dict[str, Any]]:
        if self._search_id is None or not self._live:
            return {}
        query = select(samples_table.c.number, samples_table.c.sample).where(
            samples_table.c.search_id == self._search_id
        )
        with self._connection(write=False) as connection:
            return {number: sample for number, sample in connection.execute(query)}

    @staticmethod
    def _trial(row: Any) -> Trial:
        values = dict(row)  # columns an older database lacks take the Trial's defaults
        values.pop("revision", None)
        values["intermediate"] = values.get("intermediate") or []
        values["interruptions"] = values.get("interruptions") or 0
        values["status"] = TrialStatus(values["status"])
        values["started_at"] = _aware(values["started_at"])
        values["finished_at"] = _aware(values["finished_at"])
        return Trial(**values)

    def mark_interrupted(self) -> list[int]:
        running = (trials_table.c.search_id == self._search_id) & (
            trials_table.c.status == TrialStatus.RUNNING.value
        )
        with self._connection(write=True) as connection:
            numbers = list(
                connection.execute(select(trials_table.c.number).where(running)).scalars()
            )
            connection.execute(
                update(trials_table)
                .where(running)
                .values(
                    revision=self._revision + 1,
                    status=TrialStatus.INTERRUPTED.value,
                    interruptions=func.coalesce(trials_table.c.interruptions, 0) + 1,
                    finished_at=func.coalesce(
                        trials_table.c.finished_at, _utc(datetime.now(timezone.utc))
                    ),
                )
            )
        self._revision += 1
        return numbers

    def rename_search(self, new_name: str) -> None:
        with self._connection(write=True) as connection:
            connection.execute(
                update(searches).where(searches.c.id == self._search_id).values(name=new_name)
            )
        self.search_name = new_name

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        if self.engine.dialect.name == "postgresql":
            with self._advisory_lock():
                yield
        elif self._database is not None:
            path = self._lock_path or self._database.with_name(f".{self._database.name}.lock")
            with file_lock(path, self.search_name):
                yield
        else:
            yield  # an in-memory database belongs to this process alone

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        key = zlib.crc32(f"hypermax:{self.search_name}".encode())
        with self.engine.connect() as connection:
            taken = connection.execute(select(func.pg_try_advisory_lock(key))).scalar()
            connection.commit()
            if not taken:
                raise SearchBusyError(_busy_message(self.search_name, self.engine.url))
            try:
                yield
            finally:
                connection.execute(select(func.pg_advisory_unlock(key)))
                connection.commit()

    def close(self) -> None:
        self.engine.dispose()


def search_names(url: str) -> list[str]:
    """The names of the searches stored in the database at ``url``, read without changing
    anything (a database hypermax never wrote holds none)."""
    engine = create_engine(_with_connect_timeout(make_url(normalize_url(url))))
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(searches.name):
                return []
            return list(connection.execute(select(searches.c.name).order_by("name")).scalars())
    except SQLAlchemyError as error:
        reason = getattr(error, "orig", None) or error
        raise StorageError(f"cannot read {_without_password(url)!r}: {reason}") from error
    finally:
        engine.dispose()


def _busy_message(name: str, where: Any) -> str:
    return (
        f"search {name!r} is already running in another process (its lock is held in "
        f"{where}); wait for that run to finish, or stop it, then run this command again"
    )


@contextmanager
def file_lock(path: Path, name: str) -> Iterator[None]:
    """The run lock of search ``name`` as an exclusive flock on ``path``; the kernel drops it
    if the process dies."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one writer is the user's to ensure
        yield
        return
    try:
        handle = open(path, "a")  # noqa: SIM115 (closed below, after the lock is released)
    except OSError as error:
        raise file_error(error, path) from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SearchBusyError(_busy_message(name, path)) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
