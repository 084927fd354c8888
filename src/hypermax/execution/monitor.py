"""Watching and ending trial processes: memory of a process tree, limits, kills.

Shared by every executor that runs trials on this machine, so that limits mean the same for a
Python worker and for an executable.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.execution.processes import Ledger
from hypermax.execution.trial_log import cap_log

MIB = 1024 * 1024
SAMPLE_INTERVAL = 0.1
PSS_INTERVAL = 2.0  # seconds between readings of a trial's proportional set size, at most
SYSTEM_KILL_PAUSE = 1.0  # after a kill for system memory, before the next one
KILL_GRACE = 0.3  # SIGTERM, then SIGKILL this long after: a kill lands within 0.5 s


@dataclass
class Usage:
    """What one running trial uses, as sampled; peaks are kept across samples."""

    seconds: float = 0.0
    ram: float = 0.0  # at the last sample
    peak_ram: float = 0.0
    peak_gpu_ram: float = 0.0
    # the last reading of the tree's proportional set size, and its resident size then
    pss_read: float = 0.0
    rss_then: float = 0.0
    read_at: float = -math.inf
    read_cost: float = 0.0
    pids_then: frozenset[int] = frozenset()

    def resources(self) -> dict[str, float]:
        """The peaks as stored with the trial (and usable as ``ram``/``gpu_ram`` metrics)."""
        found = {"peak_ram_mib": self.peak_ram, "peak_gpu_ram_mib": self.peak_gpu_ram}
        return {name: round(value, 1) for name, value in found.items() if value}


@dataclass(frozen=True)
class Limits:
    """Auto-kill thresholds, and the size a trial's log keeps; None disables one. Memory and
    log size in MiB (1024-based)."""

    max_time: float | None = None
    max_ram: float | None = None
    max_system_ram: float | None = None
    max_gpu_ram: float | None = None
    max_log: float | None = None

    def breaches(self, running: Mapping[Hashable, Usage]) -> dict[Hashable, str]:
        """Which running trials to kill for their own limits, and why (the system limit is
        the ``Watcher``'s: it needs to remember its last kill)."""
        kills: dict[Hashable, str] = {}
        for key, use in running.items():
            if self.max_time is not None and use.seconds > self.max_time:
                kills[key] = (
                    f"ran {use.seconds:.1f} s, past auto_kill_max_time ({self.max_time} s)"
                )
            elif self.max_ram is not None and use.peak_ram > self.max_ram:
                kills[key] = (
                    f"used {use.peak_ram:.0f} MiB, past auto_kill_max_ram ({self.max_ram} MiB)"
                )
            elif self.max_gpu_ram is not None and use.peak_gpu_ram > self.max_gpu_ram:
                kills[key] = (
                    f"used {use.peak_gpu_ram:.0f} MiB of GPU memory, past "
                    f"auto_kill_max_gpu_ram ({self.max_gpu_ram} MiB)"
                )
        return kills

    def peak_breach(self, usage: Usage) -> str | None:
        """Why a trial that returned is still over its RAM limit: its peak, read after it
        ended (a high-water mark), passed the limit between two samples. The user asked for no
        such configurations, so it counts as killed."""
        if self.max_ram is not None and usage.peak_ram > self.max_ram:
            return (
                f"killed: peak {usage.peak_ram:.0f} MiB past auto_kill_max_ram "
                f"({self.max_ram} MiB), measured after the trial"
            )
        return None


def watch_gpu(limits: Limits) -> GpuMemory | None:
    """The GPU watcher when a GPU can be watched; a GPU limit that cannot be enforced is a
    config error rather than a silent no-op."""
    gpu = GpuMemory()
    if gpu.available:
        return gpu
    if limits.max_gpu_ram is not None:
        raise ConfigError(
            ConfigIssue(
                "function.auto_kill_max_gpu_ram",
                f"cannot watch GPU memory: {gpu.problem}; remove the limit on a machine "
                "without an NVIDIA GPU and driver",
            )
        )
    return None


class Watcher:
    """What every local executor needs to watch its trials: sampling every
    ``SAMPLE_INTERVAL`` at most, the limits, GPU memory, ending trees without blocking, and
    the ledger of the processes trials started."""

    def __init__(self, limits: Limits, ledger: Ledger | None = None):
        self.limits = limits
        self.ledger = ledger or Ledger()
        self.gpu: GpuMemory | None = None
        self.terminator = Terminator()
        self._last_sample = 0.0
        self._system_kill_pause_until = 0.0

    def start(self) -> None:
        self.gpu = watch_gpu(self.limits)

    def breaches(self, running: Mapping[Hashable, Usage]) -> dict[Hashable, str]:
        """Which running trials to kill and why. Past ``max_system_ram`` the trial using the
        most memory now goes, and no other for ``SYSTEM_KILL_PAUSE`` seconds unless memory
        in use is still past the limit by then: memory takes a moment to be freed, and trials
        that did nothing wrong must not be killed while it is."""
        kills = self.limits.breaches(running)
        limit = self.limits.max_system_ram
        if limit is None or not running:
            return kills
        used, now = system_ram_used(), time.monotonic()
        if used <= limit:
            self._system_kill_pause_until = 0.0
        elif now >= self._system_kill_pause_until:
            largest = max(running, key=lambda key: running[key].ram)
            kills.setdefault(
                largest,
                f"system memory in use reached {used:.0f} MiB, past "
                f"auto_kill_max_system_ram ({limit} MiB)",
            )
            self._system_kill_pause_until = now + SYSTEM_KILL_PAUSE
        return kills

    def cap_log(self, path: Path, running: bool = False) -> None:
        """Keep a trial's log within ``max_log`` (see ``trial_log``)."""
        if self.limits.max_log is not None:
            cap_log(path, int(self.limits.max_log * MIB), running)

    def due(self, now: float) -> bool:
        """True at most once per sample interval; also moves pending terminations along."""
        self.terminator.poll()
        if now - self._last_sample < SAMPLE_INTERVAL:
            return False
        self._last_sample = now
        return True

    def sample(
        self,
        usage: Usage,
        pid: int,
        seconds: float,
        baseline: float = 0.0,
        escaped: Sequence[psutil.Process] = (),
    ) -> list[psutil.Process]:
        """Update a trial's usage from the process tree rooted at ``pid`` and the processes
        that ``escaped`` it; the processes found. ``baseline`` is memory (PSS) the root had
        before the trial's code ran (pages shared with the search process after a fork)."""
        found = [*_tree(pid), *escaped]
        processes = list({process.pid: process for process in found}.values())
        self.ledger.record(processes)
        usage.seconds = seconds
        usage.ram = self._memory(usage, processes) - baseline
        usage.peak_ram = max(usage.peak_ram, usage.ram)
        if self.gpu is not None:
            pids = {p.pid for p in processes}
            usage.peak_gpu_ram = max(usage.peak_gpu_ram, self.gpu.used_mib(pids))
        return processes

    def _memory(self, usage: Usage, processes: Sequence[psutil.Process]) -> float:
        """The tree's memory (see ``process_memory``). Reading PSS costs milliseconds per
        100 MiB mapped, so it is read every ``PSS_INTERVAL``, and in between the resident-size
        growth of the same processes is added (new pages are theirs until they fork). An
        estimate is not trusted past ``max_ram`` or once the tree has forked (a child's
        resident pages are mostly shared): PSS is read again at once, or, to spend at most a
        tenth of the time reading it, the last reading stands until the next one."""
        rss = sum(_resident(process) for process in processes)
        pids = frozenset(process.pid for process in processes)
        estimate = usage.pss_read + rss - usage.rss_then
        now = time.monotonic()
        since = now - usage.read_at
        doubtful = pids != usage.pids_then or (
            self.limits.max_ram is not None and estimate > self.limits.max_ram
        )
        if since >= PSS_INTERVAL or (doubtful and since >= 10 * usage.read_cost):
            usage.pss_read = sum(process_memory(process.pid) for process in processes)
            usage.rss_then, usage.pids_then, usage.read_at = rss, pids, now
            usage.read_cost = time.monotonic() - now
            return usage.pss_read
        return usage.pss_read if doubtful else estimate


class Terminator:
    """Ends process trees without blocking the search: SIGTERM at once, SIGKILL to whatever
    is left ``grace`` seconds later, checked on each ``poll``. It never reaps: a process that
    is our own child is reaped by its owner (multiprocessing or subprocess), which must learn
    its exit status."""

    def __init__(self, grace: float = KILL_GRACE):
        self.grace = grace
        self._pending: list[tuple[list[psutil.Process], float]] = []

    def end(self, pid: int, also: Sequence[psutil.Process] = ()) -> None:
        """End the tree of ``pid`` and the processes ``also`` (found outside it)."""
        processes = [*_tree(pid), *also]
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        self._pending.append((processes, time.monotonic() + self.grace))

    def poll(self) -> None:
        now, still = time.monotonic(), []
        for processes, deadline in self._pending:
            alive = [p for p in processes if _alive(p)]
            if alive and now >= deadline:
                for process in alive:
                    with contextlib.suppress(psutil.Error):
                        process.kill()
            elif alive:
                still.append((alive, deadline))
        self._pending = still

    def finish(self) -> None:
        """Wait (at most the grace) for every pending tree to end, killing what is left."""
        deadline = time.monotonic() + self.grace
        while self._pending and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.01)
        for processes, _ in self._pending:
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    process.kill()
        self._pending = []


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def system_ram_used() -> float:
    memory = psutil.virtual_memory()
    return (memory.total - memory.available) / MIB


class GpuMemory:
    """GPU memory per process through NVML (nvidia-ml-py); ``available`` is False without an
    NVIDIA driver, and ``problem`` then says why."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
            if not self._handles:
                self.problem = "the NVIDIA driver lists no GPU"
        except Exception as error:  # no library, no driver, no device: all mean "cannot watch"
            self.problem = f"NVML is not usable here ({type(error).__name__}: {error})"

    @property
    def available(self) -> bool:
        return self._nvml is not None and bool(self._handles)

    def used_mib(self, pids: set[int]) -> float:
        """GPU memory used by these processes on every GPU."""
        total = 0
        for handle in self._handles:
            for query in (
                self._nvml.nvmlDeviceGetComputeRunningProcesses,
                self._nvml.nvmlDeviceGetGraphicsRunningProcesses,
            ):
                with contextlib.suppress(self._nvml.NVMLError):
                    for process in query(handle):
                        if process.pid in pids and process.usedGpuMemory:
                            total += process.usedGpuMemory
        return total / MIB


def become_subreaper() -> None:
    """Linux: orphans of this process's descendants become its children, so that processes a
    trial starts in the background (double fork) can still be found and ended."""
    if sys.platform.startswith("linux"):
        _prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def _prctl(option: int, value: int) -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(option, value)


def die_with_parent() -> None:
    """Linux: have the kernel kill this worker when the search process dies (even by kill -9)."""
    if sys.platform.startswith("linux"):
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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


def tree_memory(pid: int) -> float:
    """Memory (MiB, see ``process_memory``) of a process and its descendants."""
    return sum(process_memory(process.pid) for process in _tree(pid))


def has_children(pid: int) -> bool:
    """Whether a process has child processes, read from /proc without scanning every process
    (Linux); True when that cannot be told cheaply, so callers fall back to a full look."""
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                if listing.read().strip():
                    return True
        return False
    except OSError:
        return True


def reset_peak_rss() -> None:
    """Linux: restart this process's resident-memory high-water mark (VmHWM), so that
    ``peak_rss`` covers one trial even in a warm worker."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def peak_rss() -> float:
    """This process's resident-memory high-water mark in MiB (0 where it cannot be read).
    Unlike sampling, it catches a peak however briefly it lasted."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _resident(process: psutil.Process) -> float:
    try:
        return float(process.memory_info().rss) / MIB
    except psutil.Error:
        return 0.0


def process_memory(pid: int) -> float:
    """The memory (MiB) a process uses, with pages it shares with other processes split among
    them (its proportional set size, PSS, from Linux's ``/proc/PID/smaps_rollup``).

    Resident size (RSS) would count a copy-on-write page once per process that maps it: a
    model with four forked idle workers would weigh five times what it allocated. Where PSS
    cannot be read (not Linux, an old kernel), RSS is the fallback.
    """
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    try:
        return psutil.Process(pid).memory_info().rss / MIB
    except psutil.Error:
        return 0.0


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
        hint = (
            " (the OS out-of-memory killer does this when the machine runs out of memory; "
            "see the system log, or set auto_kill_max_ram)"
            if exitcode == -signal.SIGKILL
            else ""
        )
        return f"the trial's process was killed by {name}{hint}"
    return f"the trial's process exited with code {exitcode} before returning a result"
