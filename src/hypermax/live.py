"""Following searches from any process: what the console and web UIs read.

Storage is the one source: a reader in another terminal, or on another machine against
PostgreSQL, sees what the search process writes. ``find_searches`` lists the searches in a
results folder, a folder of them, or a database; a ``Follower`` keeps one search's trials
current by fetching only those changed since its last poll (cheap every second on 10,000
trials), and says how the search stands from its heartbeat.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hypermax.errors import NotAResultsFolder
from hypermax.storage.base import Heartbeat
from hypermax.storage.sql import SQLITE_FILENAME, SQLStorage, search_names, sqlite_url
from hypermax.trial import Trial, TrialStatus, best_trial

STALE_AFTER = 10.0  # seconds without a heartbeat after which a running search counts as dead


@dataclass(frozen=True)
class SearchRef:
    """Where one search lives: its name and database, and its results folder when it has
    one (a search in a shared database may have its folder on another machine)."""

    name: str
    url: str
    folder: Path | None = None


def find_searches(location: str | Path) -> list[SearchRef]:
    """The searches at ``location``: a database URL (every search in it), a results folder
    (its search), or a folder of results folders (``hypermax_results``: each of them)."""
    text = str(location)
    if "://" in text:
        return [SearchRef(name, text) for name in search_names(text)]
    folder = Path(location).resolve()
    if _is_results_folder(folder):
        return [_folder_search(folder)]
    found = sorted(p for p in folder.iterdir() if _is_results_folder(p)) if folder.is_dir() else []
    if not found:
        raise NotAResultsFolder(
            f"{folder} holds no search: give a results folder (hypermax_results/NAME), the "
            "folder of them (hypermax_results), or a database URL"
        )
    return [_folder_search(p) for p in found]


def _is_results_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file() or (folder / SQLITE_FILENAME).is_file()


def _folder_search(folder: Path) -> SearchRef:
    search: dict[str, Any] = {}
    config = folder / "config.json"
    if config.is_file():
        search = json.loads(config.read_text(encoding="utf-8")).get("search", {})
    url = search.get("storage") or sqlite_url(folder)
    return SearchRef(search.get("name", folder.name), url, folder)


@dataclass
class SearchStatus:
    """How a search stands. ``state``: ``running``, ``finished``, ``stopped``, ``failed``,
    ``dead`` (its run stopped beating without saying why: killed, or its machine went away),
    or ``not started``."""

    name: str
    state: str
    heartbeat: Heartbeat | None
    counts: dict[TrialStatus, int] = field(default_factory=dict)
    best: Trial | None = None

    @property
    def finished(self) -> int:
        return sum(count for status, count in self.counts.items() if status.finished)

    @property
    def total(self) -> int | None:
        return self.heartbeat.iterations if self.heartbeat else None


class Follower:
    """One search followed from outside: ``poll()`` brings ``trials`` up to date."""

    def __init__(self, ref: SearchRef):
        self.ref = ref
        self.storage = SQLStorage(ref.url, ref.name, create=False)
        self.trials: dict[int, Trial] = {}
        self._cursor = 0

    def poll(self) -> list[Trial]:
        """The trials that changed since the last poll (all of them the first time)."""
        changed, self._cursor = self.storage.trials_since(self._cursor)
        self.trials.update((trial.number, trial) for trial in changed)
        return changed

    def status(self) -> SearchStatus:
        """The search as of the last poll, and its run as of now."""
        beat = self.storage.heartbeat()
        ordered = [self.trials[n] for n in sorted(self.trials)]
        counts = Counter(t.status for t in ordered)
        return SearchStatus(
            self.ref.name, run_state(beat), beat, dict(counts), best_trial(ordered)
        )

    def samples(self) -> dict[int, dict[str, Any]]:
        """The live samples of the trials running now."""
        return self.storage.samples()

    def close(self) -> None:
        self.storage.close()

    def __enter__(self) -> Follower:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_state(beat: Heartbeat | None, now: datetime | None = None) -> str:
    """What a heartbeat says of its run; a ``running`` one is ``dead`` when it has not beaten
    for ``STALE_AFTER`` seconds, or at once when its process is gone from this machine."""
    if beat is None:
        return "not started"
    if beat.state != "running":
        return beat.state
    silent = ((now or datetime.now(timezone.utc)) - beat.last_seen).total_seconds()
    gone = beat.host == socket.gethostname() and not _process_exists(beat.pid)
    return "dead" if gone or silent > STALE_AFTER else "running"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
