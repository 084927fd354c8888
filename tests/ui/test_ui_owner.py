"""A UI opened by the search it shows (``--owner PID``): q asks whether to stop the search,
s stops it with SIGINT (as Ctrl-C does). A dummy process stands in for the search."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hypermax.ui.screens import StopScreen
from tests.ui.uikit import Written, drive, make_app, settle, write_search

# exits 130 on SIGINT, as a search does, after saying it is ready for one
DUMMY = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGINT, lambda *_: sys.exit(130))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def owner() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, "-c", DUMMY], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_q_asks_and_y_stops_the_search_then_quits(
    search: Written, owner: subprocess.Popen[str]
) -> None:
    app = make_app(search.folder, owner=owner.pid)

    async def body(pilot: Pilot) -> None:
        assert f"owned by pid {owner.pid}" in str(app.query_one("#status").content)
        await pilot.press("q")
        assert isinstance(app.screen, StopScreen)
        await pilot.press("y")

    drive(app, body)
    assert owner.wait(timeout=5) == 130 and app.return_code == 0


def test_q_then_n_keeps_the_search_running(search: Written, owner: subprocess.Popen[str]) -> None:
    app = make_app(search.folder, owner=owner.pid)

    async def body(pilot: Pilot) -> None:
        await pilot.press("q")
        await pilot.press("n")

    drive(app, body)
    assert app.return_code == 0 and owner.poll() is None


def test_escape_goes_back_to_the_ui(search: Written, owner: subprocess.Popen[str]) -> None:
    app = make_app(search.folder, owner=owner.pid)

    async def body(pilot: Pilot) -> None:
        await pilot.press("q", "escape")
        assert not isinstance(app.screen, StopScreen) and app.is_running
        await settle(pilot, app)

    drive(app, body)
    assert owner.poll() is None


def test_s_stops_the_search_and_the_ui_stays(
    search: Written, owner: subprocess.Popen[str]
) -> None:
    app = make_app(search.folder, owner=owner.pid)

    async def body(pilot: Pilot) -> None:
        await pilot.press("s")
        assert owner.wait(timeout=5) == 130
        assert app.is_running
        assert any("stopping the search" in note.message for note in app._notifications)

    drive(app, body)


def test_without_an_owner_s_does_nothing_and_q_quits_at_once(
    search: Written, owner: subprocess.Popen[str]
) -> None:
    app = make_app(search.folder)

    async def body(pilot: Pilot) -> None:
        assert app.check_action("stop_search", ()) is False
        await pilot.press("s")
        await pilot.press("q")

    drive(app, body)
    assert app.return_code == 0 and owner.poll() is None


def test_an_owned_search_that_has_ended_quits_without_asking(
    tmp_path: Path, owner: subprocess.Popen[str]
) -> None:
    written = write_search(tmp_path, state="finished")
    app = make_app(written.folder, owner=owner.pid)

    async def body(pilot: Pilot) -> None:
        await pilot.press("q")

    drive(app, body)
    assert app.return_code == 0 and owner.poll() is None
