"""Opening storage: searches starting at once on a new database (SQLite and PostgreSQL), and a
PostgreSQL server that never answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hypermax.errors import ConfigError
from hypermax.storage import SQLStorage
from hypermax.storage import sql as sql_storage
from hypermax.storage.sql import normalize_url

# before creation was serialised, 4 of 5 rounds failed ("duplicate key" on PostgreSQL, "table
# hypermax_searches already exists" on SQLite)
STARTERS = 6

START_ON_GO = """\
import sys
from hypermax.storage import SQLStorage, sqlite_url
print("ready", flush=True)
sys.stdin.readline()
with SQLStorage(sys.argv[1], sys.argv[2]) as storage:
    print(storage.load_config(), flush=True)
"""


@pytest.mark.parametrize("round_", range(2))
def test_searches_starting_at_once_on_a_new_database_all_start(
    new_database: str, round_: int
) -> None:
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", START_ON_GO, new_database, "race"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(STARTERS)
    ]
    for process in starters:  # every interpreter up, then all go at once
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in starters:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [process.communicate(timeout=60) for process in starters]
    assert [p.returncode for p in starters] == [0] * STARTERS, [err for _, err in results]
    engine = create_engine(normalize_url(new_database))
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT name FROM hypermax_searches")).scalars()
            assert list(rows) == ["race"]  # one search row, found by all
    finally:
        engine.dispose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for each in accepted:
            each.close()
        listener.close()


@pytest.mark.parametrize(
    ("query", "expected"), [("?connect_timeout=2", 2), ("", 3)], ids=["given", "default"]
)
def test_a_server_that_never_answers_fails_after_the_connect_timeout(
    silent_server: int, monkeypatch: pytest.MonkeyPatch, query: str, expected: int
) -> None:
    monkeypatch.setattr(sql_storage, "CONNECT_TIMEOUT", 3)  # the default, shortened
    began = time.monotonic()
    with pytest.raises(ConfigError, match=r"search\.storage") as caught:
        SQLStorage(f"postgresql://user:secret@127.0.0.1:{silent_server}/db{query}", "s")
    waited = time.monotonic() - began
    assert expected - 0.5 <= waited <= expected + 5
    assert "secret" not in str(caught.value)


def test_postgresql_urls_get_a_connect_timeout_unless_they_set_one() -> None:
    added = sql_storage._with_connect_timeout(make_url("postgresql+psycopg://u@h/db"))
    assert added.query == {"connect_timeout": "10"}
    kept = sql_storage._with_connect_timeout(make_url("postgresql://u@h/db?connect_timeout=30"))
    assert kept.query == {"connect_timeout": "30"}
    sqlite = sql_storage._with_connect_timeout(make_url("sqlite:///x.db"))
    assert sqlite.query == {}
