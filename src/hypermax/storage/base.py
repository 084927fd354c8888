"""The storage plug-in point: the single source of truth of a search.

An implementation promises:

- ``save_trial`` is atomic and durable when it returns: a crash right after loses nothing, a
  crash during it leaves the previous version of that trial.
- Exactly one process (the search runner) writes a search; any number of other processes may
  read it at the same time and see only committed trials.
- ``trials()`` returns trials ordered by number, as plain ``Trial`` objects that share nothing
  with the storage (changing them changes nothing stored).
- Several searches may share one database; each is addressed by its name.
"""

from __future__ import annotations

import errno
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hypermax.errors import StorageError
from hypermax.trial import Trial

__all__ = ["RESUME_HINT", "Heartbeat", "Storage", "StorageError", "file_error"]

RESUME_HINT = (
    "every trial saved before is intact in the database; free some space and run the same "
    "command again to resume"
)


def file_error(error: OSError, path: Path, done: str = "written") -> StorageError:
    """A clear message for a failed write of ``path`` (disk full, read-only, no permission)."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"the disk is full: {path} could not be {done}; {RESUME_HINT}")
    if error.errno == errno.EROFS:
        return StorageError(
            f"{path.parent} is read-only: {path.name} could not be {done}; make the folder "
            "writable, or choose another folder"
        )
    return StorageError(f"{path} could not be {done}: {error.strerror or error}")


@dataclass
class Heartbeat:
    """The run writing a search, as readers see it: who (``pid`` on ``host``), with which
    method (as the run described it), towards how many finished trials, since when, and when
    it was last seen alive. ``state`` is ``running`` until the run ends (``finished``,
    ``stopped`` by Ctrl-C or a signal, or ``failed``)."""

    pid: int
    host: str
    method: str
    iterations: int | None  # None in a heartbeat an earlier version wrote
    started_at: datetime
    last_seen: datetime
    state: str = "running"


class Storage(ABC):
    """Trials and config of one named search, and the live state of the run writing it."""

    search_name: str

    @abstractmethod
    def save_config(self, config: dict[str, Any]) -> None:
        """Record the resolved config the search runs with (replacing an older one)."""

    @abstractmethod
    def load_config(self) -> dict[str, Any] | None:
        """The config recorded by ``save_config``, or None for a new search."""

    @abstractmethod
    def save_trial(self, trial: Trial) -> None:
        """Insert the trial with ``trial.number``, or replace it while it is running or
        interrupted; a finished trial is never changed (IllegalTransition)."""

    @abstractmethod
    def trials(self) -> list[Trial]:
        """Every trial of the search, by number."""

    @abstractmethod
    def trials_since(self, revision: int) -> tuple[list[Trial], int]:
        """The trials saved after ``revision`` (0: all), by number, and the revision to ask
        from next time: a reader following a search fetches only what changed."""

    @abstractmethod
    def beat(self, heartbeat: Heartbeat) -> None:
        """Record the heartbeat of the run writing this search (replacing the last one)."""

    @abstractmethod
    def heartbeat(self) -> Heartbeat | None:
        """The last heartbeat recorded; None when no run has recorded one."""

    @abstractmethod
    def save_samples(self, samples: dict[int, dict[str, Any]]) -> None:
        """Replace the live samples of running trials (by number) with ``samples``."""

    @abstractmethod
    def samples(self) -> dict[int, dict[str, Any]]:
        """The live samples of the trials running at the last ``save_samples``."""

    @abstractmethod
    def mark_interrupted(self) -> list[int]:
        """Turn trials left ``running`` by a dead search into ``interrupted``; their numbers.

        Each such trial's ``interruptions`` grows by one (so a trial that keeps killing the
        search can be capped) and its ``finished_at`` is set when it had none."""

    @abstractmethod
    def rename_search(self, new_name: str) -> None:
        """Move this search's records aside under another name (``--fresh``)."""

    @abstractmethod
    def writer_lock(self) -> AbstractContextManager[None]:
        """Held by the one process that writes this search; raises SearchBusyError at once when
        another process holds it, so two runs of one search can never overwrite each other."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
