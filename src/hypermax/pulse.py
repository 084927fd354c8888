"""The search's pulse in storage: the heartbeat that tells readers the run is alive, and the
live samples of its running trials, written at most once a second so that following a search
costs the trials nothing measurable."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timezone

from hypermax.execution import Sample
from hypermax.storage.base import Heartbeat, Storage
from hypermax.trial import Trial

INTERVAL = 1.0  # seconds between writes


class Pulse:
    """Beats for one run of a search into its storage."""

    def __init__(self, storage: Storage, method: str, iterations: int):
        now = datetime.now(timezone.utc)
        self.storage = storage
        host = socket.gethostname()
        self.heartbeat = Heartbeat(os.getpid(), host, method, iterations, now, now)
        self._written = -INTERVAL

    def start(self) -> None:
        self.storage.beat(self.heartbeat)
        self._written = time.monotonic()

    def beat(self, samples: Callable[[], list[Sample]], running: Mapping[int, Trial]) -> None:
        """Write the heartbeat and the running trials' ``samples()``, unless written less
        than ``INTERVAL`` ago. A sample carries the trial's last reported value."""
        now = time.monotonic()
        if now - self._written < INTERVAL:
            return
        self._written = now
        self.heartbeat.last_seen = datetime.now(timezone.utc)
        self.storage.beat(self.heartbeat)
        live = {}
        for sample in samples():
            trial = running.get(sample.number)
            if trial is not None:
                record = asdict(sample)
                del record["number"]
                record["last_report"] = trial.intermediate[-1] if trial.intermediate else None
                live[sample.number] = record
        self.storage.save_samples(live)

    def end(self, state: str) -> None:
        """The run ended: ``finished``, ``stopped`` (Ctrl-C, a signal) or ``failed``."""
        self.heartbeat.last_seen = datetime.now(timezone.utc)
        self.heartbeat.state = state
        self.storage.beat(self.heartbeat)
        self.storage.save_samples({})
