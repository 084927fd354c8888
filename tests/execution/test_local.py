"""The local executor with real worker processes: results, failures, kills, logs."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from hypermax.errors import ConfigError
from hypermax.execution import local as local_module
from hypermax.execution.base import OutcomeKind, Report, TrialOutcome, TrialRequest
from hypermax.execution.local import Limits, LocalExecutor, Recycling
from hypermax.execution.monitor import SAMPLE_INTERVAL, Watcher
from hypermax.execution.processes import Ledger
from hypermax.execution.python_function import FunctionSource
from hypermax.execution.trial_log import MARKER
from tests.execution.conftest import every_outcome, next_outcome

MODEL = """
import ctypes, os, subprocess, sys, time

def square(p):
    return (p["x"] - 1) ** 2

def chatty(p):
    print("hello from the model", p["x"])
    print("to stderr", file=sys.stderr)
    return 0.5

def raises(p):
    raise ValueError("bad learning rate")

def exits(p):
    sys.exit(3)

def segfault(p):
    ctypes.string_at(0)

def hard_exit(p):
    os._exit(7)

def sleeps(p):
    time.sleep(p.get("seconds", 30))
    return 1.0

def spawns_child(p):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(p["pid_file"], "w") as f:
        f.write(str(child.pid))
    time.sleep(60)

def eats_memory(p):
    block = bytearray(400 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(30)

def unpicklable(p):
    return lambda: 1

def pid(p):
    return os.getpid()

def double_forks(p):
    os.system("sleep 123 &")
    return 0.0

def killed_like_by_the_oom_killer(p):
    import signal
    os.kill(os.getpid(), signal.SIGKILL)

def spins(p):
    while True:
        pass

def ignores_sigterm(p):
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)

def floods(p):
    line = "y" * 1023 + "\\n"
    for _ in range(200 * 1024):
        sys.stdout.write(line)
    return 0.5

HOARD = []

def hoards_memory(p):
    HOARD.append(bytearray(300 * 1024 * 1024))
    for i in range(0, len(HOARD[-1]), 4096):
        HOARD[-1][i] = 1
    return os.getpid()

def brief_peak(p):
    block = bytearray(300 * 1024 * 1024)
    del block
    return 0.5

def stamps(p):
    started = time.time()
    time.sleep(p["seconds"])
    return [started, time.time(), os.getpid()]

def leaves_a_child(p):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(p["pid_file"], "w") as f:
        f.write(str(child.pid))
    return 0.0

def leaves_a_family_quietly(p):
    parent = subprocess.Popen(
        [sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True
    )
    grandchild = parent.stdout.readline().strip()
    with open(p["pid_file"], "w") as f:
        f.write(f"{parent.pid} {grandchild}")
    sys.stdout = open(os.devnull, "w")  # as a model silencing a chatty library might
    return 0.0

FAMILY = (
    "import subprocess, time\\n"
    "child = subprocess.Popen(['sleep', '60'])\\n"
    "print(child.pid, flush=True)\\n"
    "time.sleep(60)\\n"
)

def slow_square(p):
    time.sleep(p["seconds"])
    return (p["x"] - 1) ** 2

def slow_raise(p):
    time.sleep(p["seconds"])
    raise ValueError("bad learning rate")

def slow_exit(p):
    time.sleep(p["seconds"])
    print("last words", flush=True)
    os._exit(7)

def slow_sigkill(p):
    import signal
    time.sleep(p["seconds"])
    print("last words", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

def slow_brief_peak(p):
    time.sleep(p["seconds"])
    return brief_peak(p)

def holds_memory(p):
    block = bytearray(p["mib"] * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(p["seconds"])
    return 0.5

def reports(p):
    import hypermax
    for step in range(p["steps"]):
        hypermax.report(1.0 / (step + 1), step)
        time.sleep(0.05)
    return 0.0

def reports_and_breaks_its_stdout(p):
    import hypermax
    print("epoch 0")
    hypermax.report(0.5, 0)
    hypermax.report(0.25, 1)
    sys.stdout.close()
    return os.getpid()

def prints_in_two_rounds(p):
    chunk = "z" * 1023 + "\\n"
    for index, kib in enumerate(p["kib"]):
        while index and not os.path.exists(p["go"]):
            time.sleep(0.02)
        sys.stdout.write(chunk * kib)
        sys.stdout.flush()
    while not os.path.exists(p["done"]):
        time.sleep(0.02)
    return 0.5

def reports_once(p):
    import hypermax
    hypermax.report(1.0, 0)
    while not os.path.exists(p["go"]):  # pruned meanwhile, but it never reports again
        time.sleep(0.02)
    return os.getpid()

def prints_and_waits(p):
    print("epoch 1")
    print("a warning", file=sys.stderr)
    while not os.path.exists(p["go"]):
        time.sleep(0.02)
    return 0.5

def starts_a_child_and_dies(p):
    child = subprocess.Popen(["sleep", "60"])
    with open(p["pid_file"], "w") as f:
        f.write(str(child.pid))
    os._exit(3)

def closes_stderr_and_raises(p):
    sys.stderr.close()
    raise ValueError("the real cause")

def writes_to_the_pipe(p):
    print("epoch 1", flush=True)
    time.sleep(p["seconds"])
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.write(int(fd), b"this is not a message at all")
        except OSError:
            pass
    time.sleep(0.5)
    return 1.0
"""

# imported by the workers only; its behaviour on import is switched by files next to it
FRAGILE = """
import os, time

_HERE = os.path.dirname(__file__)
if os.path.exists(os.path.join(_HERE, "slow")):
    time.sleep(10)
if os.path.exists(os.path.join(_HERE, "broken")):
    raise RuntimeError("the data folder is gone")

def train(p):
    time.sleep(p.get("seconds", 0))
    return os.getpid()
"""


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def run_trial(
    model_dir: Path, name: str, params: dict | None = None, limits: Limits | None = None
) -> TrialOutcome:
    source = FunctionSource(module="model", name=name, base_dir=str(model_dir))
    with LocalExecutor(source, limits=limits) as executor:
        executor.submit(TrialRequest(1, params or {"x": 3}, model_dir / "logs" / "trial-1.log"))
        return next_outcome(executor)


def test_result_comes_back_with_measured_time(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "square")
    assert outcome.kind is OutcomeKind.RESULT
    assert outcome.value == 4
    assert outcome.measured_time >= 0


def test_prints_go_to_the_trial_log(model_dir: Path) -> None:
    run_trial(model_dir, "chatty")
    log = (model_dir / "logs" / "trial-1.log").read_text()
    assert "hello from the model 3" in log
    assert "to stderr" in log


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("raises", "ValueError: bad learning rate"),
        ("exits", "SystemExit: 3"),
        ("segfault", "SIGSEGV"),
        ("hard_exit", "exited with code 7"),
        (
            "unpicklable",
            "TypeError: the model returned a function; return a number (the loss) or a dict "
            "of metrics",
        ),
        ("killed_like_by_the_oom_killer", "out-of-memory killer"),
    ],
)
def test_failures_are_contained(model_dir: Path, name: str, expected: str) -> None:
    outcome = run_trial(model_dir, name)
    assert outcome.kind is OutcomeKind.ERROR
    assert expected in (outcome.error or "")


def test_exception_traceback_is_kept(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "raises")
    assert "Traceback" in (outcome.traceback or "")
    assert "def raises" in (outcome.traceback or "") or "raise ValueError" in outcome.traceback


def test_time_limit_kills_the_trial(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "sleeps", limits=Limits(max_time=0.5))
    assert outcome.kind is OutcomeKind.KILLED
    assert "auto_kill_max_time" in (outcome.error or "")
    assert outcome.measured_time < 10


def test_ram_limit_kills_the_trial(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "eats_memory", limits=Limits(max_ram=200))
    assert outcome.kind is OutcomeKind.KILLED
    assert "auto_kill_max_ram" in (outcome.error or "")
    assert outcome.resources["peak_ram_mib"] > 200


def test_kill_takes_the_models_children_along(model_dir: Path) -> None:
    pid_file = model_dir / "child.pid"
    outcome = run_trial(
        model_dir, "spawns_child", {"pid_file": str(pid_file)}, limits=Limits(max_time=1.5)
    )
    assert outcome.kind is OutcomeKind.KILLED
    child = int(pid_file.read_text())
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE


def test_workers_are_reused_between_trials(model_dir: Path) -> None:
    source = FunctionSource(module="model", name="pid", base_dir=str(model_dir))
    pids = []
    with LocalExecutor(source) as executor:
        for number in (1, 2, 3):
            executor.submit(TrialRequest(number, {}, model_dir / f"trial-{number}.log"))
            outcomes = [next_outcome(executor)]
            pids.append(outcomes[0].value)
    assert len(set(pids)) == 1
    assert pids[0] != os.getpid()


def test_a_crashed_worker_is_replaced(model_dir: Path) -> None:
    source = FunctionSource(module="model", name="segfault", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        for number in (1, 2):
            executor.submit(TrialRequest(number, {}, model_dir / f"trial-{number}.log"))
            outcomes = [next_outcome(executor)]
            assert outcomes[0].kind is OutcomeKind.ERROR


def test_parallel_trials_run_at_once(model_dir: Path) -> None:
    source = FunctionSource(module="model", name="stamps", base_dir=str(model_dir))
    with LocalExecutor(source, capacity=2) as executor:
        for number in (1, 2):
            executor.submit(TrialRequest(number, {"seconds": 1.0}, model_dir / f"t{number}.log"))
        done: list[TrialOutcome] = []
        while len(done) < 2:
            done += executor.wait(1.0)
    assert {o.kind for o in done} == {OutcomeKind.RESULT}
    (first_start, first_end, first_pid), (second_start, second_end, second_pid) = (
        o.value for o in sorted(done, key=lambda o: o.number)
    )
    assert first_pid != second_pid
    assert second_start < first_end and first_start < second_end  # the two overlapped


def test_stop_leaves_no_process_behind(model_dir: Path) -> None:
    source = FunctionSource(module="model", name="sleeps", base_dir=str(model_dir))
    executor = LocalExecutor(source, capacity=2)
    executor.start()
    for number in (1, 2):
        executor.submit(TrialRequest(number, {}, model_dir / f"t{number}.log"))
    time.sleep(0.3)
    assert sorted(executor.stop()) == [1, 2]
    assert [p for p in psutil.Process().children(recursive=True) if p.status() != "zombie"] == []


@pytest.mark.parametrize(
    ("source", "path", "message"),
    [
        (FunctionSource(module="no_such_module", name="f"), "function.module", "No module named"),
        (FunctionSource(module="model", name="missing"), "function.name", "has no function"),
        (FunctionSource(src="nowhere.py", name="f"), "function.src", "does not exist"),
    ],
)
def test_a_model_that_cannot_load_is_a_config_error(
    model_dir: Path, source: FunctionSource, path: str, message: str
) -> None:
    source = FunctionSource(
        module=source.module, src=source.src, name=source.name, base_dir=str(model_dir)
    )
    with pytest.raises(ConfigError) as caught:
        LocalExecutor(source).start()
    assert caught.value.issues[0].path == path
    assert message in caught.value.issues[0].message


def test_a_callable_runs_in_another_process() -> None:
    source = FunctionSource(function=lambda params: os.getpid())
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, Path(os.devnull)))
        outcomes = [next_outcome(executor)]
    assert outcomes[0].value != os.getpid()


def test_results_come_back_as_plain_data_only(tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text(
        "class Score(float):\n    pass\n\n"
        "def train(p):\n    return {'loss': Score(0.5), 'detail': Score(2)}\n"
    )
    source = FunctionSource(src="custom.py", name="train", base_dir=str(tmp_path))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, tmp_path / "t1.log"))
        outcomes = [next_outcome(executor)]
    assert outcomes[0].kind is OutcomeKind.RESULT
    assert outcomes[0].value == {"loss": 0.5, "detail": 2.0}
    assert type(outcomes[0].value["loss"]) is float


def test_a_model_that_kills_its_process_on_import_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "dies.py").write_text("import os\nos._exit(4)\n")
    source = FunctionSource(module="dies", name="train", base_dir=str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        LocalExecutor(source).start()
    assert caught.value.issues[0].path == "function"
    assert caught.value.issues[0].message == (
        "the worker died while loading the model: the trial's process exited with code 4 "
        "before returning a result"
    )


def test_the_time_limit_does_not_count_a_replacement_workers_import(tmp_path: Path) -> None:
    (tmp_path / "slow_import.py").write_text(
        "import ctypes, time\ntime.sleep(1.5)\n\n"
        "def train(p):\n    if p['crash']:\n        ctypes.string_at(0)\n    return 1.0\n"
    )
    source = FunctionSource(module="slow_import", name="train", base_dir=str(tmp_path))
    kinds = []
    with LocalExecutor(source, limits=Limits(max_time=1.0)) as executor:
        for number, crash in ((1, True), (2, False)):
            executor.submit(TrialRequest(number, {"crash": crash}, tmp_path / f"{number}.log"))
            outcomes = [next_outcome(executor)]
            kinds.append(outcomes[0].kind)
    assert kinds == [OutcomeKind.ERROR, OutcomeKind.RESULT]


def pids_of_trials(model_dir: Path, name: str, count: int, recycling: Recycling) -> list[int]:
    source = FunctionSource(module="model", name=name, base_dir=str(model_dir))
    pids = []
    with LocalExecutor(source, recycling=recycling) as executor:
        for number in range(1, count + 1):
            executor.submit(TrialRequest(number, {}, model_dir / f"trial-{number}.log"))
            outcomes = [next_outcome(executor)]
            assert outcomes[0].kind is OutcomeKind.RESULT, outcomes[0].error
            pids.append(outcomes[0].value)
    return pids


@pytest.mark.parametrize(
    ("name", "recycling", "pattern"),
    [
        ("pid", Recycling(), [0, 0, 0, 0]),
        ("pid", Recycling(fresh_process=True), [0, 1, 2, 3]),
        ("pid", Recycling(max_trials=2), [0, 0, 1, 1]),
        ("hoards_memory", Recycling(max_idle_ram=200), [0, 1, 2, 3]),
    ],
    ids=["warm", "isolation-process", "max-trials-per-worker", "worker-max-ram"],
)
def test_workers_are_replaced_as_configured(
    model_dir: Path, name: str, recycling: Recycling, pattern: list[int]
) -> None:
    pids = pids_of_trials(model_dir, name, len(pattern), recycling)
    distinct = list(dict.fromkeys(pids))
    assert [distinct.index(pid) for pid in pids] == pattern


def test_processes_a_trial_leaves_running_are_ended(model_dir: Path) -> None:
    pid_file = model_dir / "child.pid"
    outcome = run_trial(model_dir, "leaves_a_child", {"pid_file": str(pid_file)})
    assert outcome.kind is OutcomeKind.RESULT
    child = int(pid_file.read_text())
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == psutil.STATUS_ZOMBIE
    assert "ending 1 process(es)" in (model_dir / "logs" / "trial-1.log").read_text()


@pytest.mark.ci_may_skip  # a machine with an NVIDIA GPU can enforce the limit
def test_a_gpu_limit_without_a_gpu_is_a_config_error(model_dir: Path) -> None:
    from hypermax.execution.monitor import GpuMemory

    if GpuMemory().available:
        pytest.skip("this machine has an NVIDIA GPU: the limit is enforceable here")
    source = FunctionSource(module="model", name="square", base_dir=str(model_dir))
    with pytest.raises(ConfigError) as caught:
        LocalExecutor(source, limits=Limits(max_gpu_ram=100)).start()
    assert caught.value.issues[0].path == "function.auto_kill_max_gpu_ram"
    assert "NVML" in caught.value.issues[0].message


@pytest.mark.parametrize("name", ["spins", "ignores_sigterm"])
def test_endless_and_sigterm_ignoring_trials_are_killed(model_dir: Path, name: str) -> None:
    outcome = run_trial(model_dir, name, limits=Limits(max_time=0.5))
    assert outcome.kind is OutcomeKind.KILLED
    assert outcome.measured_time < 5


def test_200_mb_of_prints_stream_to_the_log(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "floods")
    assert outcome.kind is OutcomeKind.RESULT
    assert (model_dir / "logs" / "trial-1.log").stat().st_size >= 200 * 1024 * 1024


def test_background_processes_of_a_trial_end_with_it(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "double_forks")
    assert outcome.kind is OutcomeKind.RESULT
    sleepers = [
        p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "123"]
    ]
    assert sleepers == []


def test_isolated_trials_leak_no_file_descriptors(model_dir: Path) -> None:
    before = psutil.Process().num_fds()
    pids_of_trials(model_dir, "pid", 40, Recycling(fresh_process=True))
    assert psutil.Process().num_fds() - before < 5


def test_memory_shared_with_the_search_process_is_not_the_trials(model_dir: Path) -> None:
    ballast = bytearray(300 * 1024 * 1024)
    for index in range(0, len(ballast), 4096):
        ballast[index] = 1
    outcome = run_trial(model_dir, "square")
    assert outcome.resources["peak_ram_mib"] < 100
    del ballast


def test_a_peak_past_the_ram_limit_between_samples_counts_as_killed(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No sample is taken (as for a trial shorter than the sampling interval): the peak read
    after the trial still counts."""
    monkeypatch.setattr(Watcher, "due", lambda self, now: False)
    outcome = run_trial(model_dir, "brief_peak", limits=Limits(max_ram=200))
    assert outcome.kind is OutcomeKind.KILLED
    assert "auto_kill_max_ram" in (outcome.error or "")
    assert outcome.resources["peak_ram_mib"] > 200


def until(executor: LocalExecutor, done: Callable[[], bool], timeout: float = 20.0) -> None:
    """Call ``wait`` (which samples the running trials) until ``done()``; no trial may end."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        assert executor.wait(0.05) == []


@pytest.mark.parametrize(
    ("name", "limits", "kind", "error", "traceback"),
    [
        ("slow_square", None, OutcomeKind.RESULT, None, None),
        (
            "slow_raise",
            None,
            OutcomeKind.ERROR,
            "ValueError: bad learning rate",
            "raise ValueError",
        ),
        (
            "slow_exit",
            None,
            OutcomeKind.ERROR,
            "the trial's process exited with code 7 before returning a result",
            "last words",  # the end of the trial's log
        ),
        (
            "slow_sigkill",
            None,
            OutcomeKind.ERROR,
            r"the trial's process was killed by SIGKILL \(the OS out-of-memory killer .*\)",
            "last words",
        ),
        (
            "slow_brief_peak",
            Limits(max_ram=200),
            OutcomeKind.KILLED,
            r"killed: peak \d+ MiB past auto_kill_max_ram \(200 MiB\), measured after the trial",
            None,
        ),
    ],
    ids=["result", "error", "exit", "signal", "peak-after-the-trial"],
)
def test_each_way_a_trial_ends_has_its_kind_error_and_measured_time(
    model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    limits: Limits | None,
    kind: OutcomeKind,
    error: str | None,
    traceback: str | None,
) -> None:
    """What the worker says (or its exit) decides the outcome: no sample is taken."""
    monkeypatch.setattr(Watcher, "due", lambda self, now: False)
    outcome = run_trial(model_dir, name, {"x": 3, "seconds": 0.3}, limits=limits)
    assert outcome.kind is kind
    assert 0.3 <= outcome.measured_time < 3
    if error is None:
        assert (outcome.value, outcome.error) == (4, None)
    else:
        assert re.fullmatch(error, outcome.error or "", re.DOTALL), outcome.error
    if traceback is not None:
        assert traceback in (outcome.traceback or "")


def test_the_pipe_carrying_garbage_fails_the_trial_with_the_end_of_its_log(
    model_dir: Path,
) -> None:
    outcome = run_trial(model_dir, "writes_to_the_pipe", {"seconds": 0.3})
    assert outcome.kind is OutcomeKind.ERROR
    assert (outcome.error or "").startswith(
        "the worker's pipe to the search carried something that is not a hypermax message ("
    )
    assert (outcome.error or "").endswith(
        "did the model write to a file descriptor it did not open? Its worker was replaced"
    )
    assert "epoch 1" in (outcome.traceback or "")
    assert 0.3 <= outcome.measured_time < 5


def test_pruning_a_trial_leaves_the_others_running(model_dir: Path) -> None:
    source = FunctionSource(module="model", name="reports", base_dir=str(model_dir))
    with LocalExecutor(source, capacity=3) as executor:  # one worker stays idle
        for number in (1, 2):
            executor.submit(TrialRequest(number, {"steps": 30}, model_dir / f"t{number}.log"))
        reporting: set[int] = set()

        def both_reported() -> bool:
            reporting.update(report.number for report in executor.reports())
            return reporting == {1, 2}

        until(executor, both_reported)
        executor.prune(1)
        executor.prune(99)  # no such trial: nothing happens
        outcomes = {o.number: o for o in every_outcome(executor, 2)}
    assert outcomes[1].kind is OutcomeKind.PRUNED
    assert 0.05 <= outcomes[1].measured_time < 1.5  # stopped well before its 30 steps
    assert outcomes[2].kind is OutcomeKind.RESULT


def test_pruning_a_trial_whose_worker_just_died_is_harmless(model_dir: Path) -> None:
    source = FunctionSource(module="model", name="hard_exit", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, model_dir / "t1.log"))
        time.sleep(0.5)  # the worker has exited; the search has not looked yet
        executor.prune(1)
        outcome = next_outcome(executor)
    assert outcome.kind is OutcomeKind.ERROR
    assert "exited with code 7" in (outcome.error or "")


def test_reports_and_the_result_of_a_worker_that_exited_before_the_search_looked(
    model_dir: Path,
) -> None:
    """The trial broke its worker's stdout, so the worker sent its reports and result, then
    exited: all of them still count, and the next trial gets a fresh worker."""
    source = FunctionSource(
        module="model", name="reports_and_breaks_its_stdout", base_dir=str(model_dir)
    )
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, model_dir / "t1.log"))
        time.sleep(1.0)
        first = next_outcome(executor)
        reports = executor.reports()
        executor.submit(TrialRequest(2, {}, model_dir / "t2.log"))
        second = next_outcome(executor)
    assert first.kind is OutcomeKind.RESULT
    assert reports == [Report(1, 0, 0.5), Report(1, 1, 0.25)]
    assert second.kind is OutcomeKind.RESULT, second.error
    assert second.value != first.value  # another worker's pid


def test_worker_max_ram_does_not_count_memory_inherited_from_the_search(
    model_dir: Path,
) -> None:
    ballast = bytearray(300 * 1024 * 1024)  # shared with each worker forked from here
    for index in range(0, len(ballast), 4096):
        ballast[index] = 1
    pids = pids_of_trials(model_dir, "pid", 3, Recycling(max_idle_ram=100))
    assert len(set(pids)) == 1
    del ballast


def test_memory_inherited_from_the_search_neither_inflates_nor_hides_a_trials_own(
    model_dir: Path,
) -> None:
    ballast = bytearray(300 * 1024 * 1024)
    for index in range(0, len(ballast), 4096):
        ballast[index] = 1
    source = FunctionSource(module="model", name="holds_memory", base_dir=str(model_dir))
    with LocalExecutor(source, limits=Limits(max_ram=150)) as executor:
        executor.submit(TrialRequest(1, {"mib": 0, "seconds": 0.6}, model_dir / "t1.log"))
        small = next_outcome(executor)
        executor.submit(TrialRequest(2, {"mib": 250, "seconds": 30}, model_dir / "t2.log"))
        large = next_outcome(executor)
    del ballast
    assert small.kind is OutcomeKind.RESULT
    assert small.resources.get("peak_ram_mib", 0) < 100
    assert large.kind is OutcomeKind.KILLED
    assert "auto_kill_max_ram" in (large.error or "")
    assert large.measured_time < 10  # while it ran, not when it returned after 30 s


def test_a_trials_log_is_capped_while_it_runs(model_dir: Path) -> None:
    """Cut only well past ``max_log`` while the trial writes (to cut rarely), to it after."""
    log = model_dir / "t1.log"
    go, done = model_dir / "go", model_dir / "done"
    mib = 1024 * 1024
    source = FunctionSource(module="model", name="prints_in_two_rounds", base_dir=str(model_dir))
    params = {"kib": [1280, 2048], "go": str(go), "done": str(done)}
    with LocalExecutor(source, limits=Limits(max_log=1)) as executor:
        executor.submit(TrialRequest(1, params, log))
        until(executor, lambda: log.exists() and log.stat().st_size >= 1.25 * mib)
        for _ in range(5):  # samples
            assert executor.wait(0.1) == []
        assert MARKER not in log.read_bytes()  # 1.25 MiB: within the slack
        go.touch()
        until(executor, lambda: MARKER in log.read_bytes())
        assert log.stat().st_size <= 1.5 * mib
        done.touch()
        outcome = next_outcome(executor)
    assert outcome.kind is OutcomeKind.RESULT
    assert log.stat().st_size <= mib


def test_a_worker_loading_the_model_too_long_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only while it loads: a warm worker older than the timeout runs its trial."""
    (tmp_path / "fragile.py").write_text(FRAGILE)
    source = FunctionSource(module="fragile", name="train", base_dir=str(tmp_path))
    with LocalExecutor(source, recycling=Recycling(fresh_process=True)) as executor:
        monkeypatch.setattr(local_module, "LOAD_TIMEOUT", 1.0)
        (tmp_path / "slow").touch()  # the fresh worker after trial 1 loads for 10 s
        executor.submit(TrialRequest(1, {"seconds": 1.5}, tmp_path / "t1.log"))
        warm = next_outcome(executor)
        executor.submit(TrialRequest(2, {}, tmp_path / "t2.log"))
        loading = next_outcome(executor)
    assert warm.kind is OutcomeKind.RESULT
    assert loading.kind is OutcomeKind.KILLED
    assert loading.error == "killed: loading the model took over 1 s"
    assert loading.measured_time == 0.0  # its trial had not started


def test_a_replacement_worker_that_cannot_load_the_model_fails_its_trial(
    tmp_path: Path,
) -> None:
    (tmp_path / "fragile.py").write_text(FRAGILE)
    source = FunctionSource(module="fragile", name="train", base_dir=str(tmp_path))
    outcomes = []
    with LocalExecutor(source, recycling=Recycling(fresh_process=True)) as executor:
        for number, broken in ((1, False), (2, True), (3, False)):
            (tmp_path / "broken").unlink(missing_ok=True)
            if broken:
                (tmp_path / "broken").touch()
            executor.submit(TrialRequest(number, {}, tmp_path / f"t{number}.log"))
            outcomes.append(next_outcome(executor))
    assert [o.kind for o in outcomes] == [
        OutcomeKind.RESULT,
        OutcomeKind.ERROR,
        OutcomeKind.RESULT,
    ]
    failed = outcomes[1]
    assert (failed.error or "").startswith("function.module: cannot import module 'fragile'")
    assert (failed.error or "").endswith("RuntimeError: the data folder is gone")
    assert "RuntimeError: the data folder is gone" in (failed.traceback or "")
    assert failed.measured_time == 0.0


def test_processes_a_trial_leaves_are_ended_with_their_children(model_dir: Path) -> None:
    """Even when the model had silenced its prints: the notice goes to the log."""
    pid_file = model_dir / "family.pid"
    outcome = run_trial(model_dir, "leaves_a_family_quietly", {"pid_file": str(pid_file)})
    assert outcome.kind is OutcomeKind.RESULT
    for pid in map(int, pid_file.read_text().split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert "ending 2 process(es)" in (model_dir / "logs" / "trial-1.log").read_text()


def test_trials_shorter_than_the_sampling_interval_are_not_slowed_to_it(
    model_dir: Path,
) -> None:
    """``wait`` returns as soon as a result arrives, not at the next sample."""
    source = FunctionSource(module="model", name="square", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        started = time.monotonic()
        for number in range(1, 21):
            executor.submit(TrialRequest(number, {"x": number}, model_dir / f"t{number}.log"))
            assert next_outcome(executor).kind is OutcomeKind.RESULT
        elapsed = time.monotonic() - started
    assert elapsed < 20 * SAMPLE_INTERVAL / 2


def test_a_prune_that_comes_too_late_is_ignored(model_dir: Path) -> None:
    """The trial reported, was pruned, but never reported again: it returns its result, and
    its worker runs the next trial."""
    go = model_dir / "go"
    source = FunctionSource(module="model", name="reports_once", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {"go": str(go)}, model_dir / "t1.log"))
        until(executor, lambda: bool(executor.reports()))
        executor.prune(1)
        go.touch()
        first = next_outcome(executor)
        executor.submit(TrialRequest(2, {"go": str(go)}, model_dir / "t2.log"))
        second = next_outcome(executor)
    assert first.kind is OutcomeKind.RESULT
    assert second.kind is OutcomeKind.RESULT
    assert second.value == first.value  # the same worker


def test_a_log_that_cannot_be_opened_fails_the_trial_and_replaces_the_worker(
    model_dir: Path,
) -> None:
    source = FunctionSource(module="model", name="pid", base_dir=str(model_dir))
    (model_dir / "a folder").mkdir()
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, model_dir / "first.log"))
        first = next_outcome(executor)
        executor.submit(TrialRequest(2, {}, model_dir / "a folder"))
        failed = next_outcome(executor)
        executor.submit(TrialRequest(3, {}, model_dir / "third.log"))
        third = next_outcome(executor)
    assert failed.kind is OutcomeKind.ERROR
    assert re.fullmatch(
        r"the worker could not start the trial \(IsADirectoryError: .*a folder'\); "
        r"did an earlier trial leave files open\?",
        failed.error or "",
    ), failed.error
    assert "Traceback" in (failed.traceback or "")
    assert failed.measured_time == 0.0
    assert (first.kind, third.kind) == (OutcomeKind.RESULT, OutcomeKind.RESULT)
    assert third.value != first.value  # a fresh worker


def test_prints_reach_the_log_while_the_trial_runs(model_dir: Path) -> None:
    log, go = model_dir / "t1.log", model_dir / "go"
    source = FunctionSource(module="model", name="prints_and_waits", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {"go": str(go)}, log))
        until(executor, lambda: log.exists() and "a warning" in log.read_text(), timeout=5)
        assert "epoch 1" in log.read_text()
        go.touch()
        assert next_outcome(executor).kind is OutcomeKind.RESULT


def test_a_child_of_a_trial_whose_worker_died_is_ended(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child left the worker's tree when the worker died, before any sample saw it: it is
    found by the trial's tag in its environment, as soon as the trial's outcome is known."""
    monkeypatch.setattr(Watcher, "due", lambda self, now: False)
    pid_file = model_dir / "child.pid"
    source = FunctionSource(
        module="model", name="starts_a_child_and_dies", base_dir=str(model_dir)
    )
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {"pid_file": str(pid_file)}, model_dir / "t1.log"))
        outcome = next_outcome(executor)
        child = psutil.Process(int(pid_file.read_text()))
        gone, _ = psutil.wait_procs([child], timeout=2)
        ended = bool(gone) or child.status() == psutil.STATUS_ZOMBIE
    assert outcome.kind is OutcomeKind.ERROR
    assert ended


def test_a_model_whose_import_hangs_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "fragile.py").write_text(FRAGILE)
    (tmp_path / "slow").touch()
    monkeypatch.setattr(local_module, "LOAD_TIMEOUT", 1.0)
    source = FunctionSource(module="fragile", name="train", base_dir=str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        LocalExecutor(source).start()
    assert caught.value.issues[0].path == "function"
    assert caught.value.issues[0].message == (
        "loading the model took over 1 s; does importing it hang?"
    )


def test_the_processes_of_a_running_trial_go_to_the_searchs_ledger(model_dir: Path) -> None:
    """So that the next run ends them if this one is killed before it can."""
    path, pid_file = model_dir / "ledger.txt", model_dir / "child.pid"
    source = FunctionSource(module="model", name="spawns_child", base_dir=str(model_dir))
    with LocalExecutor(source, ledger=Ledger(path)) as executor:
        executor.submit(TrialRequest(1, {"pid_file": str(pid_file)}, model_dir / "t1.log"))
        until(executor, lambda: pid_file.exists() and pid_file.read_text() != "")
        child = pid_file.read_text()
        until(executor, lambda: path.exists() and f"\n{child} " in "\n" + path.read_text())


def test_a_model_that_closed_sys_stderr_fails_with_its_own_error(model_dir: Path) -> None:
    outcome = run_trial(model_dir, "closes_stderr_and_raises")
    assert outcome.kind is OutcomeKind.ERROR
    assert outcome.error == "ValueError: the real cause"


def test_a_worker_that_died_while_idle_is_replaced_before_the_next_trial(
    model_dir: Path,
) -> None:
    """As when the OS's out-of-memory killer picks an idle worker."""
    source = FunctionSource(module="model", name="pid", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {}, model_dir / "t1.log"))
        first = next_outcome(executor)
        os.kill(first.value, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess):  # dead: a zombie, or reaped
            while psutil.Process(first.value).status() != psutil.STATUS_ZOMBIE:
                time.sleep(0.01)
        executor.submit(TrialRequest(2, {}, model_dir / "t2.log"))
        second = next_outcome(executor)
    assert second.kind is OutcomeKind.RESULT, second.error
    assert second.value != first.value


def test_the_folders_of_a_trials_log_are_created(model_dir: Path) -> None:
    log = model_dir / "results" / "logs" / "trial-1.log"
    source = FunctionSource(module="model", name="chatty", base_dir=str(model_dir))
    with LocalExecutor(source) as executor:
        executor.submit(TrialRequest(1, {"x": 3}, log))
        assert next_outcome(executor).kind is OutcomeKind.RESULT
    assert "hello from the model 3" in log.read_text()
