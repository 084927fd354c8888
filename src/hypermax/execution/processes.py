"""Every process a trial starts ends with its trial, also those that escape its process tree.

A program can leave its process group and session (``setsid``) and double-fork, so that its
daemon is re-parented to init and no longer a descendant of anything hypermax started. Such
processes are still found two ways:

- the tag every executable trial carries in its environment (``HYPERMAX_TRIAL_TAG``), which
  children inherit through forks, ``setsid`` and ``exec`` (only a program that wipes its own
  environment sheds it);
- a ledger of the processes seen in each trial's tree, kept in a file, so that a search killed
  with ``kill -9`` (which gives it no chance to clean up) ends them when it runs again.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import psutil

TAG_VARIABLE = "HYPERMAX_TRIAL_TAG"


def new_tag_prefix() -> str:
    """A prefix no other executor shares; a trial's tag is ``<prefix>:<number>``."""
    return uuid.uuid4().hex[:16]


def tagged(prefix: str) -> dict[str, list[psutil.Process]]:
    """Processes whose environment carries a tag starting with ``prefix``, by tag; read from
    ``/proc/PID/environ``, a few milliseconds for a few hundred processes."""
    wanted = f"\0{TAG_VARIABLE}={prefix}".encode()
    found: dict[str, list[psutil.Process]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as environ:
                    variables = b"\0" + environ.read()
                at = variables.find(wanted)
                if at >= 0:
                    end = variables.find(b"\0", at + 1)
                    tag = variables[at + len(TAG_VARIABLE) + 2 : end].decode("ascii", "replace")
                    found.setdefault(tag, []).append(psutil.Process(int(entry.name)))
            except (OSError, psutil.Error):
                continue  # ended meanwhile, or not ours to read
    return found


def kill_all(processes: Iterable[psutil.Process]) -> int:
    """SIGKILL each process that is still the one it was (a pid may have been reused); the
    number killed. No grace: these outlived their trial."""
    killed = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                process.kill()
                killed += 1
    return killed


class Ledger:
    """The processes trials are known to have started, kept in a file so that a later run
    ends those a killed search left behind. Without a path it only remembers in memory."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._known: dict[int, float] = {}

    def record(self, processes: Iterable[psutil.Process]) -> None:
        """Remember processes not seen before (appended to the file: cheap per sample)."""
        fresh = []
        for process in processes:
            with contextlib.suppress(psutil.Error):
                if self._known.get(process.pid) != process.create_time():
                    self._known[process.pid] = process.create_time()
                    fresh.append(f"{process.pid} {process.create_time()!r}\n")
        if fresh and self.path is not None:
            with contextlib.suppress(OSError), open(self.path, "a", encoding="ascii") as ledger:
                ledger.writelines(fresh)

    def end_leftovers(self) -> int:
        """Kill the recorded processes still running (from a run killed before it could end
        them) and start a new ledger; the number killed."""
        if self.path is None:
            return 0
        recorded: dict[int, float] = {}
        with contextlib.suppress(OSError, ValueError), open(self.path, encoding="ascii") as ledger:
            for line in ledger:
                pid, created = line.split()
                recorded[int(pid)] = float(created)
        survivors = []
        for pid, created in recorded.items():
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                if process.create_time() == created:
                    survivors.append(process)
        killed = kill_all(survivors)
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._known = {}
        return killed
