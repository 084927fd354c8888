"""Executables as models, with real processes: parameters in, result out, failures contained."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import psutil
import pytest

from hypermax.errors import ConfigError
from hypermax.execution.base import OutcomeKind, TrialOutcome, TrialRequest
from hypermax.execution.executable import ExecutableExecutor, flat_arguments, parse_result_line
from hypermax.execution.monitor import Limits, Watcher
from hypermax.execution.processes import LEDGER_NAME, Ledger
from tests.execution.conftest import next_outcome

PROGRAM = r"""
import ctypes, json, os, signal, subprocess, sys, time

params = json.load(sys.stdin)
mode = params["mode"]
if mode == "echo":
    print("some progress text")
    print("0.5 is not alone on this line")
    with open(os.environ["HYPERMAX_PARAMS_FILE"]) as f:
        from_file = json.load(f)
    same = from_file == params
    print(json.dumps({"loss": params["x"] ** 2, "same": same, "argv": sys.argv[1:]}))
    print("trailing chatter after the result")
elif mode == "number":
    print(12.5)
elif mode == "garbage":
    print("no result here {not json")
elif mode == "fails":
    print("about to fail", file=sys.stderr)
    print("ValueError: bad things", file=sys.stderr)
    sys.exit(3)
elif mode == "flood":
    line = "x" * 1023 + "\n"
    block = line * 1024
    for _ in range(200):
        sys.stdout.write(block)
    print(0.25)
elif mode == "sleep":
    print("params", params, flush=True)
    time.sleep(60)
elif mode == "ignore_term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(60)
elif mode == "leave_child":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open("child.pid", "w") as f:
        f.write(str(child.pid))
    print(1.0)
elif mode == "segfault":
    ctypes.string_at(0)
elif mode == "nan":
    print("nan")
elif mode == "brief_peak":
    block = bytearray(300 * 1024 * 1024)
    del block
    print(0.5)
elif mode == "long_result":
    print(json.dumps({"loss": 0.5, "weights": list(range(300_000))}))
elif mode in ("daemon", "silent_daemon"):
    if os.fork() == 0:  # the classic daemon: leave the session, fork again, keep stdout
        os.setsid()
        if os.fork() == 0:
            with open("daemon.pid.tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename("daemon.pid.tmp", "daemon.pid")
            while True:
                if mode == "daemon":
                    print("the daemon is still writing", flush=True)
                time.sleep(0.01)
        os._exit(0)
    while not os.path.exists("daemon.pid"):
        time.sleep(0.01)
    print(1.0, flush=True)
    time.sleep(params.get("linger", 0))
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    (tmp_path / "program.py").write_text(PROGRAM)
    return tmp_path


def run(
    folder: Path, params: dict, limits: Limits | None = None, arguments: bool = False
) -> TrialOutcome:
    executor = ExecutableExecutor(
        [sys.executable, "program.py"], folder, limits=limits, arguments=arguments
    )
    with executor:
        executor.submit(TrialRequest(1, params, folder / "logs" / "trial-1.log"))
        return next_outcome(executor)


def log_of(folder: Path) -> str:
    return (folder / "logs" / "trial-1.log").read_text(errors="replace")


def test_the_last_result_line_is_the_result_and_params_arrive_three_ways(program: Path) -> None:
    outcome = run(program, {"mode": "echo", "x": 3, "model": {"c": 0.5}}, arguments=True)
    assert outcome.kind is OutcomeKind.RESULT
    assert outcome.value["loss"] == 9
    assert outcome.value["same"] is True
    assert outcome.value["argv"] == ["--mode=echo", "--x=3", "--model.c=0.5"]
    log = log_of(program)
    assert "some progress text" in log
    assert "trailing chatter" in log


def test_a_plain_number_is_a_result(program: Path) -> None:
    assert run(program, {"mode": "number"}).value == 12.5


def test_output_without_a_result_line_fails_the_trial(program: Path) -> None:
    outcome = run(program, {"mode": "garbage"})
    assert outcome.kind is OutcomeKind.ERROR
    assert "printed no result" in (outcome.error or "")


def test_a_non_zero_exit_fails_with_the_tail_of_stderr(program: Path) -> None:
    outcome = run(program, {"mode": "fails"})
    assert outcome.kind is OutcomeKind.ERROR
    assert "exited with code 3" in (outcome.error or "")
    assert "ValueError: bad things" in (outcome.error or "")
    assert "about to fail" in (outcome.traceback or "")


def test_a_segfault_fails_the_trial(program: Path) -> None:
    outcome = run(program, {"mode": "segfault"})
    assert outcome.kind is OutcomeKind.ERROR
    assert "SIGSEGV" in (outcome.error or "")


def test_200_mb_of_output_streams_to_the_log(program: Path) -> None:
    """What the search's memory does meanwhile is benchmarks/streaming.py's to measure."""
    outcome = run(program, {"mode": "flood"})
    assert outcome.kind is OutcomeKind.RESULT
    assert outcome.value == 0.25
    assert (program / "logs" / "trial-1.log").stat().st_size > 200 * 1024 * 1024


def test_the_time_limit_kills_the_program(program: Path) -> None:
    outcome = run(program, {"mode": "sleep"}, limits=Limits(max_time=0.5))
    assert outcome.kind is OutcomeKind.KILLED
    assert "auto_kill_max_time" in (outcome.error or "")


def test_a_program_ignoring_sigterm_is_killed_anyway(program: Path) -> None:
    outcome = run(program, {"mode": "ignore_term"}, limits=Limits(max_time=0.5))
    assert outcome.kind is OutcomeKind.KILLED
    assert outcome.measured_time < 5


def test_children_left_running_end_with_the_trial(program: Path) -> None:
    outcome = run(program, {"mode": "leave_child"})
    assert outcome.kind is OutcomeKind.RESULT
    child = int((program / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(child) or psutil.Process(child).status() == "zombie"


def test_a_nan_line_comes_back_as_nan_for_the_loss_to_refuse(program: Path) -> None:
    outcome = run(program, {"mode": "nan"})
    assert outcome.kind is OutcomeKind.RESULT
    assert math.isnan(outcome.value)


def test_a_missing_program_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        ExecutableExecutor(["no-such-program-hm"], tmp_path).start()
    assert caught.value.issues[0].path == "function.command"


@pytest.mark.parametrize(
    ("line", "value"),
    [("0.5", 0.5), ("-3", -3.0), ('{"loss": 1}', {"loss": 1}), ("[1, 2]", None), ("abc", None)],
)
def test_parse_result_line(line: str, value: object) -> None:
    assert parse_result_line(line) == value


def test_flat_arguments_use_dotted_names_and_json_values() -> None:
    params = {"a": 1, "b": {"c": True, "d": "text"}, "layers": [{"u": 2}]}
    assert flat_arguments(params) == ["--a=1", "--b.c=true", "--b.d=text", "--layers.0.u=2"]
    assert json.loads(flat_arguments({"n": None})[0].split("=", 1)[1]) is None


def test_a_program_in_the_config_folder_runs_by_its_bare_name(tmp_path: Path) -> None:
    script = tmp_path / "model.sh"
    script.write_text("#!/bin/sh\necho 0.75\n")
    script.chmod(0o755)
    executor = ExecutableExecutor(["model.sh"], tmp_path)
    with executor:
        executor.submit(TrialRequest(1, {}, tmp_path / "logs" / "trial-1.log"))
        outcomes = [next_outcome(executor)]
    assert outcomes[0].value == 0.75


def test_a_program_that_cannot_start_fails_its_trial_only(tmp_path: Path) -> None:
    script = tmp_path / "model.sh"
    script.write_text("echo 0.75\n")  # no #! line: the kernel cannot execute it
    script.chmod(0o755)
    executor = ExecutableExecutor(["./model.sh"], tmp_path)
    with executor:
        executor.submit(TrialRequest(1, {}, tmp_path / "logs" / "trial-1.log"))
        outcomes = executor.wait(0.5)
    assert outcomes[0].kind is OutcomeKind.ERROR
    assert "cannot start" in (outcomes[0].error or "")


def test_the_log_is_written_as_output_arrives(program: Path) -> None:
    executor = ExecutableExecutor([sys.executable, "program.py"], program)
    log = program / "logs" / "trial-1.log"
    with executor:
        executor.submit(TrialRequest(1, {"mode": "sleep"}, log))
        deadline = time.monotonic() + 10
        while "params" not in log.read_text() and time.monotonic() < deadline:
            executor.wait(0.1)
        assert "params" in log.read_text()


def _daemon_ended(folder: Path) -> bool:
    pid = int((folder / "daemon.pid").read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie":
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("mode", ["daemon", "silent_daemon"])
def test_a_daemon_that_left_the_session_ends_with_its_trial(program: Path, mode: str) -> None:
    """setsid and a double fork re-parent it to init, out of the trial's tree and group; the
    one that keeps writing to the inherited stdout once hung the search for good."""
    started = time.monotonic()
    outcome = run(program, {"mode": mode})
    assert outcome.kind is OutcomeKind.RESULT, outcome.error
    assert outcome.value == 1.0
    assert time.monotonic() - started < 5
    assert _daemon_ended(program)


def test_the_time_limit_fires_while_a_daemon_writes(program: Path) -> None:
    outcome = run(program, {"mode": "daemon", "linger": 60}, limits=Limits(max_time=1.0))
    assert outcome.kind is OutcomeKind.KILLED
    assert _daemon_ended(program)


def test_stopping_the_search_ends_a_daemon_of_a_running_trial(program: Path) -> None:
    executor = ExecutableExecutor([sys.executable, "program.py"], program)
    executor.start()
    executor.submit(TrialRequest(1, {"mode": "daemon", "linger": 60}, program / "t1.log"))
    deadline = time.monotonic() + 10
    while not (program / "daemon.pid").exists() and time.monotonic() < deadline:
        executor.wait(0.1)
    assert executor.stop() == [1]
    assert _daemon_ended(program)


def test_a_result_line_over_the_limit_is_named_in_the_error(program: Path) -> None:
    outcome = run(program, {"mode": "long_result"})
    assert outcome.kind is OutcomeKind.ERROR
    assert "a line over 1 MiB was not read" in (outcome.error or "")


def test_another_run_of_the_same_search_leaves_a_running_trial_alone(program: Path) -> None:
    """`hypermax validate` beside a running search builds an executor with the same ledger
    and tag prefix; stopping it must not end the search's trials."""
    ledger = program / LEDGER_NAME
    running = ExecutableExecutor([sys.executable, "program.py"], program, ledger=Ledger(ledger))
    running.start()
    try:
        running.submit(TrialRequest(1, {"mode": "silent_daemon", "linger": 60}, program / "1.log"))
        deadline = time.monotonic() + 10
        while not (program / "daemon.pid").exists() and time.monotonic() < deadline:
            running.wait(0.1)
        daemon = psutil.Process(int((program / "daemon.pid").read_text()))
        other = ExecutableExecutor([sys.executable, "program.py"], program, ledger=Ledger(ledger))
        other.start()
        other.stop()
        assert daemon.is_running() and daemon.status() != "zombie"
    finally:
        running.stop()
    assert _daemon_ended(program)


@pytest.fixture
def no_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """As for a program that ends within one sampling interval: no sample is ever taken."""
    monkeypatch.setattr(Watcher, "due", lambda self, now: False)


@pytest.mark.usefixtures("no_samples")
def test_a_program_that_ends_before_a_sample_still_has_its_peak_memory(program: Path) -> None:
    outcome = run(program, {"mode": "number"})
    assert outcome.resources["peak_ram_mib"] > 1


@pytest.mark.usefixtures("no_samples")
def test_a_program_whose_peak_passed_the_ram_limit_counts_as_killed(program: Path) -> None:
    outcome = run(program, {"mode": "brief_peak"}, limits=Limits(max_ram=200))
    assert outcome.kind is OutcomeKind.KILLED
    assert "auto_kill_max_ram" in (outcome.error or "")
