"""Shared fixtures: the PostgreSQL server (required in CI), temporary search folders.

With ``CI`` set (``.ci/run`` sets it) a skipped test fails instead, whatever skipped it
(``pytest.skip``, ``importorskip``, a ``skipif`` marker): CI must run every test, and says
what was missing. A test whose skip is right on some machines is marked
``ci_may_skip`` (e.g. one that can only run where there is no GPU).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator

import pytest

IN_CI = bool(os.environ.get("CI"))

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


def pytest_configure(config: pytest.Config) -> None:
    """A shell starts a background job (`make test &`) with Ctrl-C ignored, and the searches
    the tests start inherit that: the tests that press Ctrl-C on one need it delivered."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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

    from hypermax.storage.sql import normalize_url
    from hypermax.storage.sql_schema import runs, samples_table, searches, trials_table

    yield unique_name
    engine = create_engine(normalize_url(postgres_url))
    try:
        with engine.begin() as connection:
            mine = select(searches.c.id).where(searches.c.name.startswith(unique_name))
            for table in (trials_table, runs, samples_table):
                connection.execute(delete(table).where(table.c.search_id.in_(mine)))
            connection.execute(delete(searches).where(searches.c.name.startswith(unique_name)))
    finally:
        engine.dispose()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    if item.get_closest_marker("ci_may_skip") is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under CI={os.environ['CI']}, where every test must run: {reason}\n"
        "(install what is missing: `make services browser` does; or mark the test "
        "ci_may_skip if skipping it is right on some machines)"
    )
