"""The tables of SQL storage, one schema for SQLite and PostgreSQL, and how an older
database is brought up to it (new columns are nullable and added in place)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
)

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
    # the search's change counter when the trial was last saved: readers ask for what changed
    # after the revision they saw (NULL in older databases: read whole)
    Column("revision", Integer, nullable=True),
)
trials_by_revision = Index(
    "ix_hypermax_trials_revision", trials_table.c.search_id, trials_table.c.revision
)
# the heartbeat of the run writing a search: one row per search, replaced every beat
runs = Table(
    "hypermax_runs",
    metadata,
    Column("search_id", Integer, ForeignKey("hypermax_searches.id"), primary_key=True),
    Column("pid", Integer, nullable=False),
    Column("host", String(255), nullable=False),
    Column("method", Text, nullable=False),
    Column("iterations", Integer, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),
)
# the last live sample of each running trial, replaced as a whole at most once a second
samples_table = Table(
    "hypermax_samples",
    metadata,
    Column("search_id", Integer, ForeignKey("hypermax_searches.id"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("sample", JSON, nullable=False),
)


def add_missing_columns(connection: Connection) -> None:
    """Databases written by an earlier hypermax lack the newer (nullable) columns and the
    index on them."""
    inspector = inspect(connection)
    for table in (trials_table, runs):
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=connection.dialect)
                connection.exec_driver_sql(
                    f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"
                )
    trials_by_revision.create(connection, checkfirst=True)
