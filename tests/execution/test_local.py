"""The local executor with real worker processes: results, failures, kills, logs."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil
import pytest

from hypermax.errors import ConfigError
from hypermax.execution.base import OutcomeKind, TrialOutcome, TrialRequest
from hypermax.execution.local import Limits, LocalExecutor, Recycling
from hypermax.execution.monitor import Watcher
from hypermax.execution.python_function import FunctionSource
from tests.execution.conftest import next_outcome

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
        ("unpicklable", "the model returned a function"),
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
    assert "died while loading" in str(caught.value)
    assert "code 4" in str(caught.value)


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
