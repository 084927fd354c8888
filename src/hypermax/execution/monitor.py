"""Watching and ending trial processes: memory of a process tree, limits, kills.

Shared by every executor that runs trials on this machine, so that limits mean the same for a
Python worker and for an executable.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

MIB = 1024 * 1024
SAMPLE_INTERVAL = 0.1
KILL_GRACE = 1.0


@dataclass(frozen=True)
class Limits:
    """Auto-kill thresholds; None disables one. Memory in MiB (1024-based)."""

    max_time: float | None = None
    max_ram: float | None = None
    max_system_ram: float | None = None

    def breaches(self, running: Sequence[tuple[Hashable, float, float]]) -> dict[Hashable, str]:
        """Which running trials to kill and why, given ``(key, seconds, peak MiB)`` of each.

        Past the system limit only the largest trial goes per sample: that frees the most
        memory without killing trials that did nothing wrong.
        """
        kills: dict[Hashable, str] = {}
        for key, seconds, ram in running:
            if self.max_time is not None and seconds > self.max_time:
                kills[key] = f"ran {seconds:.1f} s, past auto_kill_max_time ({self.max_time} s)"
            elif self.max_ram is not None and ram > self.max_ram:
                kills[key] = f"used {ram:.0f} MiB, past auto_kill_max_ram ({self.max_ram} MiB)"
        if self.max_system_ram is not None and running:
            used = system_ram_used()
            if used > self.max_system_ram:
                largest = max(running, key=lambda entry: entry[2])[0]
                kills.setdefault(
                    largest,
                    f"system memory in use reached {used:.0f} MiB, past "
                    f"auto_kill_max_system_ram ({self.max_system_ram} MiB)",
                )
        return kills


def system_ram_used() -> float:
    memory = psutil.virtual_memory()
    return (memory.total - memory.available) / MIB


def die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the search process dies (even by kill -9)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def log_tail(path: Path, size: int = 2000) -> str:
    try:
        with open(path, "rb") as stream:
            stream.seek(0, os.SEEK_END)
            stream.seek(max(0, stream.tell() - size))
            return stream.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss(pid: int) -> float:
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / MIB


def kill_tree(pid: int, grace: float = KILL_GRACE) -> None:
    """SIGTERM a process and all its descendants, then SIGKILL whatever is left."""
    processes = _tree(pid)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=grace)


def exit_description(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the trial's process was killed by {name}"
    return f"the trial's process exited with code {exitcode} before returning a result"
