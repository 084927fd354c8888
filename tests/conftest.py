"""Shared fixtures: the PostgreSQL server (required in CI), temporary search folders."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get(
    "HYPERMAX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_reachable() -> str | None:
    from sqlalchemy import create_engine, text

    from hypermax.storage.sql import normalize_url

    try:
        engine = create_engine(normalize_url(POSTGRES_URL))
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:
        return str(error)
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the test PostgreSQL database; skips locally when absent, fails in CI."""
    problem = _postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {problem}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the PostgreSQL tests; `make services`)")
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
def unique_name() -> str:
    """A search name no other test uses, so tests can share one database."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def postgres_search(postgres_url: str, unique_name: str) -> Iterator[str]:
    """A unique search-name prefix on the test PostgreSQL database; its records go after."""
    from sqlalchemy import create_engine, delete, select

    from hypermax.storage.sql import normalize_url, searches, trials_table

    yield unique_name
    engine = create_engine(normalize_url(postgres_url))
    try:
        with engine.begin() as connection:
            mine = select(searches.c.id).where(searches.c.name.startswith(unique_name))
            connection.execute(delete(trials_table).where(trials_table.c.search_id.in_(mine)))
            connection.execute(delete(searches).where(searches.c.name.startswith(unique_name)))
    finally:
        engine.dispose()
