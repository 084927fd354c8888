"""Searches written straight into storage for the console UI's tests, and helpers to drive
the app with Textual's pilot from plain (non-async) tests."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from hypermax.live import find_searches
from hypermax.storage import SQLStorage, sqlite_url
from hypermax.storage.base import Heartbeat
from hypermax.trial import Trial, TrialStatus
from hypermax.ui import HypermaxApp

POLL = 0.05  # seconds between the app's reads in tests
NAME = "demo"
PARAMS = {"model": {"lr": 0.01, "layers": [64, 32]}, "activation": "relu"}
FLAT = {"model.lr": 0.01, "model.layers.0": 64, "model.layers.1": 32, "activation": "relu"}
SAMPLE = {
    "elapsed": 12.5,
    "ram_mib": 512.0,
    "cpu_percent": 50.0,
    "gpu_ram_mib": 2048.0,
    "limits": {"ram": 0.62, "time": 0.1},
    "last_report": [3, 0.7],
}
LOG_TEXT = "epoch 1\nepoch 2\nValueError: bad\n"


def trial(number: int, status: TrialStatus, loss: float | None = None, **fields: Any) -> Trial:
    start = datetime.now(timezone.utc) - timedelta(seconds=30 - number)
    done = None if status is TrialStatus.RUNNING else start + timedelta(seconds=2)
    values: dict[str, Any] = {
        "flat": dict(FLAT, **{"model.lr": 0.01 * number}),
        "params": {**PARAMS, "model": {**PARAMS["model"], "lr": 0.01 * number}},
        "time": None if done is None else 2.0,
        "measured_time": None if done is None else 2.0,
        "started_at": start,
        "finished_at": done,
        **fields,
    }
    return Trial(number, status=status, loss=loss, **values)


@dataclass
class Written:
    """A search written for a test: its results folder and database URL."""

    folder: Path
    url: str

    def add(self, *trials: Trial) -> None:
        with SQLStorage(self.url, NAME) as storage:
            for one in trials:
                storage.save_trial(one)


def write_search(
    root: Path,
    state: str = "running",
    name: str = NAME,
    config: dict[str, Any] | None = None,
) -> Written:
    """Five trials (ok, failed with a log, killed, ok best, running with a live sample) of ten,
    the run's heartbeat in ``state``, and its config."""
    folder = root / "hypermax_results" / name
    folder.mkdir(parents=True)
    url = sqlite_url(folder)
    log = folder / "logs" / "trial-2.log"
    log.parent.mkdir()
    log.write_text(LOG_TEXT, encoding="utf-8")
    now = datetime.now(timezone.utc)
    with SQLStorage(url, name) as storage:
        storage.save_config(config or {"search": {"name": name, "iterations": 10}})
        storage.beat(
            Heartbeat(
                os.getpid(),
                socket.gethostname(),
                "tpe",
                10,
                now - timedelta(seconds=60),
                now,
                state,
            )
        )
        storage.save_trial(
            trial(1, TrialStatus.OK, 0.5, metrics={"auc": 0.9}, metadata={"epochs": 3})
        )
        storage.save_trial(
            trial(
                2,
                TrialStatus.FAILED,
                error="ValueError: bad",
                traceback='Traceback (most recent call last):\n  File "model.py"\nValueError: bad',
                log_path=str(log),
            )
        )
        storage.save_trial(trial(3, TrialStatus.KILLED, 1.0, error="killed: ram over 512 MiB"))
        storage.save_trial(trial(4, TrialStatus.OK, 0.25, metrics={"auc": 0.95}))
        storage.save_trial(trial(5, TrialStatus.RUNNING))
        storage.save_samples({5: SAMPLE})
    return Written(folder, url)


def make_app(location: Path | str, **options: Any) -> HypermaxApp:
    return HypermaxApp(find_searches(location), poll_interval=POLL, **options)


async def settle(pilot: Pilot, app: HypermaxApp, polls: int = 1, timeout: float = 5.0) -> None:
    """Wait until the app has applied ``polls`` more reads of the search."""
    target = app.polls + polls
    deadline = time.monotonic() + timeout
    while app.polls < target:
        if time.monotonic() > deadline:
            raise AssertionError(f"the app applied {app.polls} polls, not {target}")
        await pilot.pause(0.02)
    await pilot.pause()


def drive(
    app: HypermaxApp,
    body: Callable[[Pilot], Awaitable[None]],
    size: tuple[int, int] = (80, 24),
) -> None:
    """Run ``app`` headless at ``size``, wait for its first read, then ``body``."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            if len(app.refs) == 1:
                await settle(pilot, app)
            await body(pilot)

    asyncio.run(main())


def screen_text(app: HypermaxApp) -> str:
    """The characters on the app's screen now, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
