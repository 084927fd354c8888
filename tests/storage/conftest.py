"""Databases for storage tests: SQLite files and databases of their own on the PostgreSQL test
server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hypermax.storage import sqlite_url
from hypermax.storage.sql import normalize_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without hypermax tables: a new SQLite file, or a database of its own on the
    PostgreSQL test server (dropped after)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    postgres_url = request.getfixturevalue("postgres_url")
    name = f"hypermax_race_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
