"""SQLite and PostgreSQL storage through SQLAlchemy Core (one schema for both)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from hypermax.errors import ConfigError, ConfigIssue, SearchBusyError
from hypermax.storage.base import Storage
from hypermax.trial import Trial, TrialStatus

SQLITE_FILENAME = "hypermax.db"

metadata = MetaData()
searches = Table(
    "hypermax_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("config", JSON, nullable=True),
)
trials_table = Table(
    "hypermax_trials",
    metadata,
    Column("search_id", Integer, ForeignKey("hypermax_searches.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("flat", JSON, nullable=False),
    Column("loss", Float, nullable=True),
    Column("metrics", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("time", Float, nullable=True),
    Column("measured_time", Float, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("error", Text, nullable=True),
    Column("traceback", Text, nullable=True),
    Column("log_path", Text, nullable=True),
    Column("resources", JSON, nullable=False),
    # [step, value] pairs the model reported while it ran (hypermax.report)
    Column("intermediate", JSON, nullable=True),
    # times the search died while the trial ran (poison-trial cap); NULL in older databases
    Column("interruptions", Integer, nullable=True),
)
_TRIAL_FIELDS = [c.name for c in trials_table.columns if c.name != "search_id"]
# Built once: constructing statements per write cost more than running them.
_UPDATE_TRIAL = (
    update(trials_table)
    .where(trials_table.c.search_id == bindparam("key_search"))
    .where(trials_table.c.number == bindparam("key_number"))
    .values({name: bindparam(f"new_{name}") for name in _TRIAL_FIELDS})
)
_INSERT_TRIAL = insert(trials_table)


def sqlite_url(results_dir: Path) -> str:
    return f"sqlite:///{results_dir / SQLITE_FILENAME}"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _enable_sqlite_wal(engine: Engine) -> None:
    """WAL lets UIs and exports read while the runner writes; FULL sync makes commits durable."""

    @event.listens_for(engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
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
    """Storage in any database SQLAlchemy reaches; tables are created on first use."""

    def __init__(self, url: str, search_name: str, create: bool = True):
        self.url = normalize_url(url)
        self.search_name = search_name
        try:
            self.engine = (
                create_engine(self.url, poolclass=StaticPool)  # one shared in-memory database
                if self.url == "sqlite://"
                else create_engine(self.url)
            )
            if self.engine.dialect.name == "sqlite":
                _enable_sqlite_wal(self.engine)
            if create:
                metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
            self._search_id = self._find_or_create(create)
        except (SQLAlchemyError, ImportError) as error:
            reason = getattr(error, "orig", None) or error
            hint = "; pip install 'hypermax[postgres]'" if isinstance(error, ImportError) else ""
            shown = _without_password(url)
            raise ConfigError(
                ConfigIssue("search.storage", f"cannot use database {shown!r}: {reason}{hint}")
            ) from error

    def _find_or_create(self, create: bool) -> int | None:
        if not create and not inspect(self.engine).has_table(searches.name):
            return None  # a database nobody has written a search into yet
        with self.engine.begin() as connection:
            found = connection.execute(
                select(searches.c.id).where(searches.c.name == self.search_name)
            ).scalar()
            if found is not None or not create:
                return found
            created = connection.execute(
                insert(searches).values(
                    name=self.search_name, created_at=datetime.now(timezone.utc)
                )
            )
            return int(created.inserted_primary_key[0])  # type: ignore[index]

    def save_config(self, config: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(searches).where(searches.c.id == self._search_id).values(config=config)
            )

    def load_config(self) -> dict[str, Any] | None:
        if self._search_id is None:
            return None
        with self.engine.connect() as connection:
            return connection.execute(
                select(searches.c.config).where(searches.c.id == self._search_id)
            ).scalar()

    def save_trial(self, trial: Trial) -> None:
        row = {name: getattr(trial, name) for name in _TRIAL_FIELDS}
        row["status"] = trial.status.value
        row["started_at"] = _utc(trial.started_at)  # SQLite keeps no offset: store UTC
        row["finished_at"] = _utc(trial.finished_at)
        changes = {f"new_{name}": value for name, value in row.items()}
        changes.update(key_search=self._search_id, key_number=trial.number)
        with self.engine.begin() as connection:
            if not connection.execute(_UPDATE_TRIAL, changes).rowcount:
                connection.execute(_INSERT_TRIAL, {**row, "search_id": self._search_id})

    def trials(self) -> list[Trial]:
        if self._search_id is None:
            return []
        query = (
            select(*[trials_table.c[name] for name in _TRIAL_FIELDS])
            .where(trials_table.c.search_id == self._search_id)
            .order_by(trials_table.c.number)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [self._trial(row) for row in rows]

    @staticmethod
    def _trial(row: Any) -> Trial:
        values = dict(row)
        values["intermediate"] = values["intermediate"] or []
        values["interruptions"] = values["interruptions"] or 0
        values["status"] = TrialStatus(values["status"])
        values["started_at"] = _aware(values["started_at"])
        values["finished_at"] = _aware(values["finished_at"])
        return Trial(**values)

    def mark_interrupted(self) -> list[int]:
        running = (trials_table.c.search_id == self._search_id) & (
            trials_table.c.status == TrialStatus.RUNNING.value
        )
        with self.engine.begin() as connection:
            numbers = list(
                connection.execute(select(trials_table.c.number).where(running)).scalars()
            )
            connection.execute(
                update(trials_table)
                .where(running)
                .values(
                    status=TrialStatus.INTERRUPTED.value,
                    interruptions=func.coalesce(trials_table.c.interruptions, 0) + 1,
                    finished_at=func.coalesce(
                        trials_table.c.finished_at, _utc(datetime.now(timezone.utc))
                    ),
                )
            )
        return numbers

    def rename_search(self, new_name: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(searches).where(searches.c.id == self._search_id).values(name=new_name)
            )
        self.search_name = new_name

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        if self.engine.dialect.name == "postgresql":
            with self._advisory_lock():
                yield
        elif self.engine.url.database and self.engine.url.database != ":memory:":
            database = Path(self.engine.url.database)
            with _file_lock(database.with_name(f".{database.name}.lock"), self.search_name):
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


def _busy_message(name: str, where: Any) -> str:
    return (
        f"search {name!r} is already running in another process (its lock is held in "
        f"{where}); wait for that run to finish, or stop it, then run this command again"
    )


@contextmanager
def _file_lock(path: Path, name: str) -> Iterator[None]:
    """An exclusive flock beside the SQLite file; the kernel drops it if the process dies."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one writer is the user's to ensure
        yield
        return
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SearchBusyError(_busy_message(name, path)) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _add_missing_columns(engine: Engine) -> None:
    """Databases written by an earlier hypermax lack the newer (nullable) trial columns."""
    inspector = inspect(engine)
    if not inspector.has_table(trials_table.name):
        return
    present = {column["name"] for column in inspector.get_columns(trials_table.name)}
    with engine.begin() as connection:
        for column in trials_table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=engine.dialect)
                connection.exec_driver_sql(
                    f"ALTER TABLE {trials_table.name} ADD COLUMN {column.name} {kind}"
                )
