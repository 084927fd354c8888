"""Every process a trial starts ends with its trial, also those that escape its process tree.

A program can leave its process group and session (``setsid``) and double-fork, so that its
daemon is re-parented to init and no longer a descendant of anything hypermax started. Such
processes are still found two ways:

- the tag each trial puts in the environment of the programs it runs (``HYPERMAX_TRIAL_TAG``),
  which children inherit through forks, ``setsid`` and ``exec`` (only a program that wipes its
  own environment sheds it; a Python worker's forks without ``exec`` do not show it, but stay
  in the worker's tree, since the worker is their subreaper);
- a ledger of the processes seen in each trial's tree, kept in a file, so that a search killed
  with ``kill -9`` (which gives it no chance to clean up) ends them when it runs again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Collection, Iterable
from pathlib import Path

import psutil

TAG_VARIABLE = "HYPERMAX_TRIAL_TAG"


def tag_prefix(ledger_path: Path | None) -> str:
    """The prefix of the tags of a search's trials (a tag is ``<prefix>:<number>``): the same
    for every run of a search (derived from where its ledger lives), so that a run can find
    what an earlier one left; unique to the executor without a ledger."""
    if ledger_path is None:
        return uuid.uuid4().hex[:16]
    return hashlib.sha256(str(ledger_path.resolve()).encode()).hexdigest()[:16]


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


def carrying(tag: str) -> list[psutil.Process]:
    """The processes whose environment carries exactly ``tag``."""
    return tagged(tag).get(tag, [])


def end_tagged(prefix: str, tags: Collection[str]) -> int:
    """Kill the processes carrying one of ``tags`` (all starting with ``prefix``): those of
    the trials an executor ran, never those of another run of the same search."""
    found = tagged(prefix)
    return kill_all(process for tag in tags for process in found.get(tag, []))


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


LEDGER_NAME = "trial-processes.txt"


class Ledger:
    """The processes trials are known to have started, also kept in a file (when given a path)
    so that the next run of a search killed before it could end them ends them."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.tag_prefix = tag_prefix(path)
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

    def end_recorded(self) -> int:
        """Kill the processes this ledger recorded that still run and forget them (the file
        too); the number killed. An executor's last step: nothing it started outlives it."""
        killed = kill_all(_survivors(self._known))
        if self._known and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self._known = {}
        return killed


def end_leftovers(path: Path) -> int:
    """Kill the processes a ledger file lists that still run, and those carrying the search's
    tag: what a search killed before it could end them (``kill -9``, a crash) left. Call it
    holding the search's run lock, so that a live search's processes are never taken for
    leftovers; the number killed."""
    recorded: dict[int, float] = {}
    with contextlib.suppress(OSError, ValueError), open(path, encoding="ascii") as ledger:
        for line in ledger:
            pid, created = line.split()
            recorded[int(pid)] = float(created)
    tagged_processes = [p for found in tagged(tag_prefix(path)).values() for p in found]
    killed = kill_all([*_survivors(recorded), *tagged_processes])
    with contextlib.suppress(OSError):
        path.unlink()
    return killed


def _survivors(recorded: dict[int, float]) -> list[psutil.Process]:
    """The recorded processes that still run: same pid and start time (a pid can be reused)."""
    found = []
    for pid, created in recorded.items():
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if process.create_time() == created:
                found.append(process)
    return found
