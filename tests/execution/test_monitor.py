"""The monitor's parts one at a time, on real processes: what a limit means, how memory is
read, how a process tree is ended. The executors' tests show the same through whole trials."""

from __future__ import annotations

import builtins
import io
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from hypermax.errors import ConfigError
from hypermax.execution import monitor
from hypermax.execution.monitor import (
    MIB,
    GpuMemory,
    Limits,
    Terminator,
    Usage,
    Watcher,
    become_subreaper,
    die_with_parent,
    exit_description,
    has_children,
    kill_tree,
    log_tail,
    peak_rss,
    process_memory,
    reset_peak_rss,
    system_ram_used,
    tree_memory,
    watch_gpu,
)
from hypermax.execution.processes import Ledger
from tests.execution.fake_nvml import Device, FakeNvml, GpuProcess, NVMLError

# Holds the MiB it is told on stdin (real pages, not zero pages the kernel has not given it),
# answering each line once the memory is in place; "fork" starts a child sharing its pages.
HOLDER = textwrap.dedent(
    """
    import os, sys, time
    held = []
    for line in sys.stdin:
        if line.strip() == "fork":
            if os.fork() == 0:  # shares every page it holds with its parent
                time.sleep(60)
                os._exit(0)
        else:
            held.append(b"\\1" * (int(line) * 1024 * 1024))
        print("ok", flush=True)
    """
)


class Holder:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "ok"


@pytest.fixture
def holder() -> Iterator[Holder]:
    started = Holder()
    yield started
    kill_tree(started.pid, grace=0.1)
    started.process.wait()


# --- limits


def test_a_limit_is_passed_only_beyond_it_and_the_first_one_passed_is_named() -> None:
    limits = Limits(max_time=10, max_ram=100, max_gpu_ram=50)
    running = {
        "at every limit": Usage(seconds=10, peak_ram=100, peak_gpu_ram=50),
        "slow": Usage(seconds=10.5, ram=1, peak_ram=500),
        "big": Usage(seconds=1, ram=20, peak_ram=101),  # judged on its peak, not the last sample
        "gpu": Usage(seconds=1, peak_ram=1, peak_gpu_ram=51),
    }
    kills = limits.breaches(running)
    assert kills == {
        "slow": "ran 10.5 s, past auto_kill_max_time (10 s)",
        "big": "used 101 MiB, past auto_kill_max_ram (100 MiB)",
        "gpu": "used 51 MiB of GPU memory, past auto_kill_max_gpu_ram (50 MiB)",
    }
    assert Limits().breaches(running) == {}


def test_a_peak_past_the_ram_limit_found_after_the_trial_counts() -> None:
    limits = Limits(max_ram=100)
    assert limits.peak_breach(Usage(peak_ram=100)) is None
    assert limits.peak_breach(Usage(peak_ram=130.4)) == (
        "killed: peak 130 MiB past auto_kill_max_ram (100 MiB), measured after the trial"
    )
    assert Limits().peak_breach(Usage(peak_ram=10_000)) is None


def test_resources_keep_the_peaks_measured_rounded() -> None:
    assert Usage(peak_ram=12.345, peak_gpu_ram=0.0).resources() == {"peak_ram_mib": 12.3}
    assert Usage(peak_ram=1.06, peak_gpu_ram=2.04).resources() == {
        "peak_ram_mib": 1.1,
        "peak_gpu_ram_mib": 2.0,
    }


def test_a_gpu_limit_that_cannot_be_watched_is_a_config_error() -> None:
    if monitor.GpuMemory().available:
        pytest.skip("this machine has a GPU NVML can watch")
    assert watch_gpu(Limits()) is None
    with pytest.raises(ConfigError) as error:
        watch_gpu(Limits(max_gpu_ram=1000))
    message = str(error.value)
    assert "function.auto_kill_max_gpu_ram" in message and "NVML is not usable here" in message
    assert message.endswith("remove the limit on a machine without an NVIDIA GPU and driver")


# --- system memory: one kill, then a pause while memory is freed


def test_past_system_ram_only_the_largest_trial_goes_then_a_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_use = [5000.0]
    monkeypatch.setattr(monitor, "system_ram_used", lambda: in_use[0])
    monkeypatch.setattr(monitor, "SYSTEM_KILL_PAUSE", 0.2)
    watcher = Watcher(Limits(max_system_ram=4000))
    running = {1: Usage(ram=10), 2: Usage(ram=900), 3: Usage(ram=30)}
    assert watcher.breaches(running) == {
        2: "system memory in use reached 5000 MiB, past auto_kill_max_system_ram (4000 MiB)"
    }
    del running[2]
    assert watcher.breaches(running) == {}  # memory is still being freed
    time.sleep(0.25)
    assert list(watcher.breaches(running)) == [3]  # still past the limit after the pause


def test_memory_back_under_the_system_limit_ends_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_use = [5000.0]
    monkeypatch.setattr(monitor, "system_ram_used", lambda: in_use[0])
    watcher = Watcher(Limits(max_system_ram=4000))
    assert list(watcher.breaches({1: Usage(ram=5), 2: Usage(ram=7)})) == [2]
    in_use[0] = 4000.0  # at the limit is not past it
    assert watcher.breaches({1: Usage(ram=5)}) == {}
    in_use[0] = 4500.0
    assert list(watcher.breaches({1: Usage(ram=5)})) == [1]  # at once: no pause pending


def test_a_trial_past_its_own_limit_keeps_its_own_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(monitor, "system_ram_used", lambda: 9000.0)
    watcher = Watcher(Limits(max_ram=100, max_system_ram=4000))
    kills = watcher.breaches({1: Usage(ram=150, peak_ram=150), 2: Usage(ram=20)})
    assert kills == {1: "used 150 MiB, past auto_kill_max_ram (100 MiB)"}
    assert Watcher(Limits(max_system_ram=4000)).breaches({}) == {}


# --- sampling


def test_samples_are_due_once_per_interval() -> None:
    watcher = Watcher(Limits())
    now = time.monotonic()
    assert watcher.due(now)
    assert not watcher.due(now + monitor.SAMPLE_INTERVAL / 2)
    assert watcher.due(now + monitor.SAMPLE_INTERVAL * 1.01)  # (now + 0.1) - now < 0.1


def test_a_sample_reads_the_trees_memory_and_records_its_processes(
    holder: Holder, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "ledger.txt")
    watcher = Watcher(Limits(), ledger)
    usage = Usage()
    idle = watcher.sample(usage, holder.pid, seconds=1.5)
    assert [process.pid for process in idle] == [holder.pid] and usage.seconds == 1.5
    start = usage.ram
    assert 1 < start < 60  # an idle interpreter
    holder.tell("200")
    watcher.sample(usage, holder.pid, seconds=2.0, baseline=start)
    # read between two PSS readings: the last one plus what the resident size grew by
    assert usage.read_at > 0 and 190 < usage.ram < 215
    assert usage.peak_ram == usage.ram
    assert f"{holder.pid} " in ledger.path.read_text()  # type: ignore[union-attr]


def test_a_tree_that_forked_is_read_again_not_estimated(holder: Holder) -> None:
    """A child's resident pages are mostly shared with its parent: adding them would count
    the parent's memory twice."""
    holder.tell("150")
    watcher = Watcher(Limits())
    usage = Usage()
    watcher.sample(usage, holder.pid, seconds=0)
    first = usage.ram
    holder.tell("fork")
    time.sleep(0.2)
    processes = watcher.sample(usage, holder.pid, seconds=0.2)
    assert len(processes) == 2 and usage.pids_then == {p.pid for p in processes}
    assert abs(usage.ram - first) < 40  # not 300: the child shares its pages


def test_past_max_ram_the_estimate_is_not_trusted(holder: Holder) -> None:
    watcher = Watcher(Limits(max_ram=100))
    usage = Usage()
    watcher.sample(usage, holder.pid, seconds=0)
    read_at = usage.read_at
    holder.tell("150")
    watcher.sample(usage, holder.pid, seconds=0.1)
    assert usage.read_at > read_at  # read again at once: a kill must rest on a measurement
    assert usage.ram > 140


def test_memory_of_a_process_and_its_tree(holder: Holder) -> None:
    holder.tell("120")
    assert not has_children(holder.pid)
    alone = process_memory(holder.pid)
    assert 120 < alone < 160
    assert tree_memory(holder.pid) == pytest.approx(alone, abs=2)
    holder.tell("fork")
    time.sleep(0.2)
    assert has_children(holder.pid)
    assert alone - 5 < tree_memory(holder.pid) < alone + 40  # shared pages split, not doubled


def test_a_process_that_is_gone_uses_nothing() -> None:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert process_memory(finished.pid) == 0.0 and tree_memory(finished.pid) == 0.0
    assert has_children(finished.pid)  # cannot tell cheaply: callers look the slow way


# --- ending processes


STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def test_the_terminator_kills_what_ignores_sigterm_after_the_grace() -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", STUBBORN])
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(0.3)  # the handler is in place
    terminator = Terminator(grace=0.5)
    terminator.end(stubborn.pid, also=[psutil.Process(polite.pid)])
    assert polite.wait(5) == -signal.SIGTERM
    terminator.poll()
    time.sleep(0.15)
    assert stubborn.poll() is None  # within the grace it may still clean up
    time.sleep(0.6)
    terminator.poll()
    assert stubborn.wait(5) == -signal.SIGKILL


def test_finishing_the_terminator_leaves_nothing_behind() -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", STUBBORN])
    time.sleep(0.3)
    terminator = Terminator(grace=0.2)
    terminator.end(stubborn.pid)
    terminator.finish()
    assert stubborn.wait(5) == -signal.SIGKILL


def test_kill_tree_ends_the_children_too(holder: Holder) -> None:
    holder.tell("fork")
    (child,) = psutil.Process(holder.pid).children()
    kill_tree(holder.pid, grace=0.2)  # reaps its own children: Popen learns no status
    assert not psutil.pid_exists(holder.pid)
    child.wait(5)  # psutil raises TimeoutExpired were it alive


def test_a_dead_worker_is_explained() -> None:
    assert exit_description(-signal.SIGKILL).startswith(
        "the trial's process was killed by SIGKILL (the OS out-of-memory killer"
    )
    assert exit_description(-signal.SIGTERM) == "the trial's process was killed by SIGTERM"
    assert exit_description(-200) == "the trial's process was killed by signal 200"
    assert exit_description(3) == (
        "the trial's process exited with code 3 before returning a result"
    )
    assert exit_description(None).endswith("code None before returning a result")
    assert exit_description(0) == (
        "the trial's process exited with code 0 before returning a result"
    )
    assert exit_description(-signal.SIGKILL).endswith(
        "see the system log, or set auto_kill_max_ram)"
    )


def test_log_tail_is_the_end_of_the_log(tmp_path: Path) -> None:
    log = tmp_path / "trial.log"
    log.write_bytes(b"a" * 3000 + b"\xff" + b"end")
    assert log_tail(log) == "a" * 1996 + "\ufffd" + "end"
    assert log_tail(log, size=3) == "end"
    assert log_tail(tmp_path / "missing.log") == ""
    (tmp_path / "short.log").write_text("hello")
    assert log_tail(tmp_path / "short.log") == "hello"  # shorter than the tail: all of it


def in_a_fork(body: Callable[[], str]) -> str:
    """What ``body`` returns, run in a child forked from this process (so that it can change
    process-wide state, and so that mutation testing's switched-on mutant runs there too)."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.close(reader)
        try:
            os.write(writer, body().encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as answer:
        text = answer.read()
    os.waitpid(child, 0)
    return text


def test_the_peak_is_a_high_water_mark_that_can_be_reset() -> None:
    def measure() -> str:
        held = b"\1" * (300 * 1024 * 1024)
        del held
        before = peak_rss()
        kernel = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the same mark
        reset_peak_rss()
        return f"{before} {kernel} {peak_rss()}"

    before, kernel, after = map(float, in_a_fork(measure).split())
    assert before > 300 and before == pytest.approx(kernel, rel=0.05)
    assert after < before - 250  # what the process holds now
    reset_peak_rss()  # here too: harmless, and mutation testing sees what each test reaches
    assert 0 < peak_rss() < before


def test_orphans_of_a_trial_become_the_watchers_children() -> None:
    def adopt() -> str:
        become_subreaper()
        if os.fork() == 0:  # a child that starts a grandchild and leaves it behind
            if os.fork() == 0:
                time.sleep(0.5)
                os._exit(0)
            os._exit(0)
        os.wait()  # the child
        _, status = os.wait()  # the grandchild: ours to reap once it was orphaned
        return str(os.WEXITSTATUS(status) == 0)

    assert in_a_fork(adopt) == "True"


def test_a_worker_dies_with_the_search_even_when_the_search_is_killed() -> None:
    def start_worker_and_die() -> str:
        worker = os.fork()
        if worker == 0:
            # holds no end of in_a_fork's pipe: the answer comes when the "search" exits,
            # not 60 s later when a worker left alive would
            os.closerange(3, 65536)
            die_with_parent()
            time.sleep(60)
            os._exit(0)
        time.sleep(0.3)  # the worker has asked to die with its parent
        return str(worker)

    def ended() -> bool:
        try:
            return psutil.Process(worker).status() == psutil.STATUS_ZOMBIE  # not yet reaped
        except psutil.NoSuchProcess:
            return True

    worker = int(in_a_fork(start_worker_and_die))  # the "search" has exited
    die_with_parent()  # and undone at once (PR_SET_PDEATHSIG 0): seen here by mutation testing
    monitor._prctl(1, 0)
    deadline = time.monotonic() + 5
    while not ended() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not ended():
        os.kill(worker, signal.SIGKILL)  # leave nothing behind, then fail
    assert ended()


def test_system_memory_in_use_is_what_is_not_available() -> None:
    memory = psutil.virtual_memory()
    expected = (memory.total - memory.available) / 2**20
    assert system_ram_used() == pytest.approx(expected, abs=200)  # memory moves meanwhile


def test_without_an_nvidia_driver_gpu_memory_reads_as_unwatchable() -> None:
    gpu = monitor.GpuMemory()
    if gpu.available:
        pytest.skip("this machine has a GPU NVML can watch")
    assert gpu.problem is not None and gpu.problem.startswith("NVML is not usable here (")
    assert gpu.used_mib({os.getpid()}) == 0.0


GRACEFUL = (
    "import signal, sys, time\n"
    "def leave(*_):\n"
    "    time.sleep(0.1)\n"
    "    open(sys.argv[1], 'w').write('cleaned up')\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, leave)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_tree_ended_at_the_end_gets_its_grace_to_clean_up(tmp_path: Path) -> None:
    terminator = Terminator(grace=0.5)
    for round_ in range(2):  # the terminator is reusable once finished
        note = tmp_path / f"note-{round_}"
        graceful = subprocess.Popen(
            [sys.executable, "-c", GRACEFUL, str(note)], stdout=subprocess.PIPE, text=True
        )
        assert graceful.stdout is not None and graceful.stdout.readline() == "ready\n"
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()  # ended and reaped: ending it again must not fail
        started = time.monotonic()
        terminator.end(graceful.pid, also=[psutil.Process(graceful.pid), _reaped(gone.pid)])
        terminator.finish()
        assert time.monotonic() - started < 0.9
        assert graceful.wait(5) == 0 and note.read_text() == "cleaned up"


def _reaped(pid: int) -> psutil.Process:
    """A Process object for a process that has ended (psutil raises on any use)."""
    process = psutil.Process.__new__(psutil.Process)
    process._pid = pid  # type: ignore[attr-defined]
    process._init(pid, _ignore_nsp=True)  # type: ignore[attr-defined]
    return process


def test_a_process_is_alive_until_it_ends_or_is_a_zombie() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    process = psutil.Process(child.pid)
    assert monitor._alive(process)
    child.kill()
    time.sleep(0.3)  # a zombie until reaped
    assert not monitor._alive(process)
    child.wait()
    assert not monitor._alive(process)


GRANDPARENT = (
    "import subprocess, sys, time\n"
    "subprocess.Popen(['sh', '-c', 'sleep 60 & wait'])\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.mark.parametrize("ending", ["kill_tree", "terminator"])
def test_the_whole_tree_ends_grandchildren_included(ending: str) -> None:
    top = subprocess.Popen([sys.executable, "-c", GRANDPARENT], stdout=subprocess.PIPE, text=True)
    assert top.stdout is not None and top.stdout.readline() == "ready\n"
    time.sleep(0.2)
    tree = [psutil.Process(top.pid), *psutil.Process(top.pid).children(recursive=True)]
    assert len(tree) == 3  # python, sh, sleep
    started = time.monotonic()
    if ending == "kill_tree":
        kill_tree(top.pid, grace=0.3)
    else:
        terminator = Terminator(grace=0.3)
        terminator.end(top.pid)
        terminator.finish()
    assert time.monotonic() - started < 2
    top.wait(5)
    for process in tree[1:]:
        process.wait(5)  # psutil raises TimeoutExpired were it alive


def test_kill_tree_does_not_wait_on_what_ignores_sigterm() -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", STUBBORN])
    time.sleep(0.3)
    started = time.monotonic()
    kill_tree(stubborn.pid, grace=0.2)
    assert time.monotonic() - started < 1.5
    assert not psutil.pid_exists(stubborn.pid) or stubborn.wait(1) == -signal.SIGKILL


def test_a_forked_child_weighs_its_proportional_share(holder: Holder) -> None:
    """PSS, not resident size: a child that shares its parent's 150 MiB weighs half of them."""
    holder.tell("150")
    holder.tell("fork")
    time.sleep(0.2)
    (child,) = psutil.Process(holder.pid).children()
    resident = child.memory_info().rss / 2**20
    assert resident > 140
    assert process_memory(child.pid) < 0.7 * resident


def test_the_log_is_capped_to_max_log(tmp_path: Path) -> None:
    log = tmp_path / "trial.log"
    log.write_bytes(b"a" * 3 * 2**20)
    Watcher(Limits()).cap_log(log)
    assert log.stat().st_size == 3 * 2**20  # no max_log: left alone
    Watcher(Limits(max_log=2)).cap_log(log, running=True)
    assert log.stat().st_size == 3 * 2**20  # still written to: cut only well past the cap
    Watcher(Limits(max_log=1)).cap_log(log)
    assert 0.9 * 2**20 < log.stat().st_size <= 2**20
    log.write_bytes(b"a" * 3 * 2**19)  # 1.5 MiB: past the cap, not "well past" it
    Watcher(Limits(max_log=1)).cap_log(log)  # the trial has ended: cut to the cap
    assert log.stat().st_size <= 2**20
    text = log.read_bytes()
    assert text.startswith(b"aaa") and text.endswith(b"aaa")


def test_memory_the_worker_had_before_the_trial_is_not_the_trials(holder: Holder) -> None:
    holder.tell("100")
    watcher = Watcher(Limits())
    plain, less = Usage(), Usage()
    watcher.sample(plain, holder.pid, seconds=0)  # no baseline: all of it
    watcher.sample(less, holder.pid, seconds=0, baseline=60.0)
    assert plain.ram == pytest.approx(process_memory(holder.pid), abs=0.6)
    assert plain.ram - less.ram == pytest.approx(60.0, abs=3)


def test_finishing_with_nothing_pending_returns_at_once() -> None:
    started = time.monotonic()
    Terminator(grace=0.5).finish()
    assert time.monotonic() - started < 0.2


def test_between_pss_readings_the_tree_is_not_read_again(holder: Holder) -> None:
    """Reading PSS costs time: within ``PSS_INTERVAL`` a tree that has neither forked nor
    neared its limit is estimated from its resident size."""
    watcher = Watcher(Limits())
    usage = Usage()
    watcher.sample(usage, holder.pid, seconds=0)
    read_at = usage.read_at
    holder.tell("50")
    watcher.sample(usage, holder.pid, seconds=0.1)
    assert usage.read_at == read_at and usage.ram > 45


def test_a_doubtful_estimate_waits_for_the_next_reading_when_reading_is_slow(
    holder: Holder,
) -> None:
    """Past ``max_ram`` the estimate is not trusted, but a tree whose PSS takes long to read
    is not read again at once either (a tenth of the time at most goes to reading it): the
    last reading stands, so that no kill rests on an estimate."""
    watcher = Watcher(Limits(max_ram=100))
    usage = Usage()
    watcher.sample(usage, holder.pid, seconds=0)
    read_at, idle = usage.read_at, usage.ram
    usage.read_cost = 1.0  # as if reading it had taken a second (a large tree)
    holder.tell("150")
    watcher.sample(usage, holder.pid, seconds=0.1)
    assert usage.read_at == read_at and usage.ram == idle


def test_a_doubtful_estimate_is_read_again_once_ten_times_the_reading_cost_has_passed(
    holder: Holder,
) -> None:
    """The other side of the tenth: once ten times what the last reading cost has passed,
    a doubtful tree is read again without waiting for ``PSS_INTERVAL``."""
    watcher = Watcher(Limits(max_ram=1))  # every estimate is past the limit
    usage = Usage()
    watcher.sample(usage, holder.pid, seconds=0)
    read_at = usage.read_at
    usage.read_cost = 0.05  # as if reading it had taken 50 ms
    time.sleep(0.51)
    watcher.sample(usage, holder.pid, seconds=0.5)
    assert usage.read_at > read_at


def test_a_terminator_without_grace_kills_at_once_and_a_process_gone_is_no_error() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    terminator = Terminator(grace=0)
    terminator.end(sleeper.pid, also=[_reaped(gone.pid)])
    terminator.finish()  # SIGKILL to the tree and to what was gone already
    assert sleeper.wait(5) in (-signal.SIGTERM, -signal.SIGKILL)


# --- what /proc says, and what is left where it says nothing


def shadow_proc_file(monkeypatch: pytest.MonkeyPatch, path: str, content: str | None) -> None:
    """Have the monitor (only) read ``content`` from the file ``path``, or fail to open it
    when ``content`` is None (a kernel without it, a sandbox that hides it)."""

    def fake_open(file: object, *args: object, **kwargs: object) -> object:
        if str(file) == path:
            if content is None:
                raise PermissionError(13, "Permission denied", path)
            return io.StringIO(content)
        return builtins.open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(monitor, "open", fake_open, raising=False)


def _vm_hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/self/status")


def test_the_peak_is_the_kernels_high_water_mark_in_mib() -> None:
    before = _vm_hwm_kib()
    peak = peak_rss()
    after = _vm_hwm_kib()  # the mark only rises
    assert before / 1024 <= peak <= after / 1024


@pytest.mark.parametrize(
    "status",
    [None, "Name:\tpython\nVmHWM:\t     lots kB\n", "Name:\tpython\nVmRSS:\t  2048 kB\n"],
    ids=["unreadable", "malformed", "no VmHWM"],
)
def test_a_peak_that_cannot_be_read_is_zero(
    monkeypatch: pytest.MonkeyPatch, status: str | None
) -> None:
    shadow_proc_file(monkeypatch, "/proc/self/status", status)
    assert peak_rss() == 0.0


def test_a_peak_that_cannot_be_reset_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    shadow_proc_file(monkeypatch, "/proc/self/clear_refs", None)
    reset_peak_rss()  # no error: the peak then covers more than one trial
    assert peak_rss() > 0


def test_a_process_memory_is_its_pss_in_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    rollup = "55d0c5a4e000-7ffd1c1b3000 ---p 00000000 00:00 0   [rollup]\n"
    rollup += "Rss:              409600 kB\nPss:              307712 kB\n"
    shadow_proc_file(monkeypatch, "/proc/4242/smaps_rollup", rollup)
    assert process_memory(4242) == 300.5


@pytest.mark.parametrize(
    "rollup", [None, "Rss:\t  4096 kB\nPss:\t  lots kB\n"], ids=["unreadable", "malformed"]
)
def test_without_pss_a_process_memory_is_its_resident_size(
    holder: Holder, monkeypatch: pytest.MonkeyPatch, rollup: str | None
) -> None:
    holder.tell("30")
    shadow_proc_file(monkeypatch, f"/proc/{holder.pid}/smaps_rollup", rollup)
    resident = psutil.Process(holder.pid).memory_info().rss / 2**20
    assert resident > 30
    assert process_memory(holder.pid) == pytest.approx(resident, abs=1)


def test_a_process_that_has_ended_is_resident_in_nothing() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert monitor._resident(_reaped(gone.pid)) == 0.0


# --- GPU memory


@pytest.fixture
def nvml(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeNvml]:
    """A fake NVML installed as ``pynvml`` (tests/execution/fake_nvml.py): this machine has no
    NVIDIA GPU, where the real NVML only says it cannot be used, so the driver's part is
    played by a fake and the monitor's own logic runs as it is. The real NVML is exercised by
    the device check on a GPU machine."""

    def install(*devices: Device, init_error: NVMLError | None = None) -> FakeNvml:
        fake = FakeNvml(*devices, init_error=init_error)
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        return fake

    return install


def test_gpus_that_nvml_lists_can_be_watched(nvml: Callable[..., FakeNvml]) -> None:
    nvml(Device(), Device())
    gpu = GpuMemory()
    assert gpu.available and gpu.problem is None
    assert gpu.used_mib({os.getpid()}) == 0.0  # nothing on them yet
    assert isinstance(watch_gpu(Limits(max_gpu_ram=1000)), GpuMemory)


def test_without_a_driver_gpu_memory_cannot_be_watched_and_the_error_is_named(
    nvml: Callable[..., FakeNvml],
) -> None:
    nvml(Device(), init_error=NVMLError("Driver Not Loaded"))
    gpu = GpuMemory()
    assert not gpu.available
    assert gpu.problem == "NVML is not usable here (NVMLError: Driver Not Loaded)"
    assert watch_gpu(Limits()) is None
    with pytest.raises(ConfigError, match="cannot watch GPU memory: NVML is not usable here"):
        watch_gpu(Limits(max_gpu_ram=1000))


def test_without_nvidia_ml_py_gpu_memory_cannot_be_watched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml fails
    gpu = GpuMemory()
    assert not gpu.available
    assert gpu.problem is not None
    assert gpu.problem.startswith("NVML is not usable here (ModuleNotFoundError: ")


def test_a_driver_without_a_gpu_cannot_be_watched(nvml: Callable[..., FakeNvml]) -> None:
    nvml()  # NVML works, and lists no device
    assert not GpuMemory().available
    assert watch_gpu(Limits()) is None
    with pytest.raises(ConfigError, match="cannot watch GPU memory: the NVIDIA driver lists"):
        watch_gpu(Limits(max_gpu_ram=1000))


def test_gpu_memory_is_the_trials_processes_on_every_gpu_in_mib(
    nvml: Callable[..., FakeNvml],
) -> None:
    trial, its_child, other = 1001, 1002, 1003
    nvml(
        Device(
            compute=[GpuProcess(trial, 300 * MIB), GpuProcess(other, 5000 * MIB)],
            graphics=[GpuProcess(trial, 20 * MIB)],
        ),
        Device(
            compute=[GpuProcess(trial, None), GpuProcess(its_child, 100 * MIB + MIB // 2)],
            graphics=NVMLError("Not Supported"),  # the compute list still counts
        ),
        Device(compute=NVMLError("Unknown Error"), graphics=[GpuProcess(its_child, MIB)]),
    )
    gpu = GpuMemory()
    assert gpu.used_mib({trial, its_child}) == 421.5
    assert gpu.used_mib({trial}) == 320.0
    assert gpu.used_mib({other}) == 5000.0
    assert gpu.used_mib({4242}) == 0.0


def test_the_watcher_keeps_a_trees_peak_gpu_memory_and_kills_it_past_the_limit(
    holder: Holder, nvml: Callable[..., FakeNvml]
) -> None:
    holder.tell("fork")
    (child,) = psutil.Process(holder.pid).children()
    on_gpu = GpuProcess(child.pid, 700 * MIB)  # the trial's child, say a data loader
    nvml(
        Device(
            compute=[on_gpu, GpuProcess(os.getpid(), 9000 * MIB)],  # the search's is not counted
            graphics=[GpuProcess(holder.pid, 100 * MIB)],
        )
    )
    watcher = Watcher(Limits(max_gpu_ram=1000))
    watcher.start()
    usage = Usage()
    watcher.sample(usage, holder.pid, seconds=1)
    assert usage.peak_gpu_ram == 800.0
    assert watcher.breaches({"trial": usage}) == {}
    on_gpu.usedGpuMemory = 1200 * MIB
    watcher.sample(usage, holder.pid, seconds=2)
    on_gpu.usedGpuMemory = 0  # freed: the peak stays
    watcher.sample(usage, holder.pid, seconds=3)
    assert usage.peak_gpu_ram == 1300.0
    assert usage.resources()["peak_gpu_ram_mib"] == 1300.0
    assert watcher.breaches({"trial": usage}) == {
        "trial": "used 1300 MiB of GPU memory, past auto_kill_max_gpu_ram (1000 MiB)"
    }
