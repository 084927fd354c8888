"""Each executor declares its own keys of the ``function`` section as its ``Settings``: the
section is checked against the keys every executor shares and those of its ``type``, a key of
another type says which type takes it, every problem is named by its path, and the section
loads as ``FunctionConfig`` with the executor's typed settings, which its factory reads."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from jsonschema import Draft202012Validator

from hypermax.config import Config, FunctionConfig, config_from_dict, config_schema
from hypermax.errors import ConfigError
from hypermax.execution import (
    EXECUTOR_MODULES,
    Executor,
    ExecutorSettings,
    TrialOutcome,
    TrialRequest,
    available_executors,
    executor_for,
    executor_settings,
    register_executor,
)
from hypermax.execution.executable import ExecutableExecutor
from hypermax.execution.local import LocalExecutor
from hypermax.execution.processes import Ledger
from hypermax.execution.program import ExecutableSettings
from hypermax.execution.python_function import PythonFunctionSettings
from hypermax.settings import spec

SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": 0, "max": 1}}}
PYTHON = {"module": "model", "name": "train"}
EXECUTABLE = {"type": "executable", "command": ["node", "model.js"]}


def load(function: Any, require_function: bool = True) -> Config:
    return config_from_dict(
        {"hyperparameters": SPACE, "function": function},
        base_dir=Path("."),
        require_function=require_function,
    )


def sections_by_type(function: dict[str, Any]) -> dict[str, Any]:
    """The printed ``function`` schema's section of each type."""
    return {
        case["then"]["properties"]["type"]["const"]: case["then"] for case in function["allOf"]
    }


def problems(function: Any, require_function: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(function, require_function)
    return [str(issue) for issue in caught.value.issues]


# (the function section, the only problem reported)
REFUSED = [
    # python_function's own keys
    (
        {**PYTHON, "isolation": "thread"},
        "function.isolation: 'thread' is not allowed; use one of 'worker', 'process'",
    ),
    (
        {**PYTHON, "max_trials_per_worker": 0},
        "function.max_trials_per_worker: 0 is less than the minimum of 1",
    ),
    (
        {**PYTHON, "max_trials_per_worker": 1.5},
        "function.max_trials_per_worker: must be of type integer, got float 1.5",
    ),
    (
        {**PYTHON, "worker_max_ram": 0},
        "function.worker_max_ram: 0 is less than or equal to the minimum of 0",
    ),
    ({**PYTHON, "module": 3}, "function.module: must be of type string, got int 3"),
    (
        {"src": ["model.py"], "name": "train"},
        "function.src: must be of type string, got list ['model.py']",
    ),
    (
        {"modul": "model", "name": "train"},
        "function.modul: unknown key 'modul'; did you mean 'module'?",
    ),
    ({"module": "model"}, "function.name: missing: the name of the function to call"),
    ({"name": "train"}, "function: give 'module' (importable name) or 'src' (file)"),
    ({**PYTHON, "src": "model.py"}, "function: give either 'module' or 'src', not both"),
    # executable's own keys
    ({**EXECUTABLE, "command": []}, "function.command: [] should be non-empty"),
    (
        {**EXECUTABLE, "command": ["node", 1]},
        "function.command.1: must be of type string, got int 1",
    ),
    ({**EXECUTABLE, "command": 5}, "function.command: must be of type string or array, got int 5"),
    (
        {**EXECUTABLE, "arguments": "yes"},
        "function.arguments: must be of type boolean, got str 'yes'",
    ),
    (
        {**EXECUTABLE, "argument": True},
        "function.argument: unknown key 'argument'; did you mean 'arguments'?",
    ),
    (
        {"type": "executable"},
        'function.command: missing: the program to run, e.g. ["node", "model.js"]',
    ),
    (
        {"type": "executable", "command": ""},
        'function.command: missing: the program to run, e.g. ["node", "model.js"]',
    ),
    # the keys every executor shares, with either type
    (
        {**PYTHON, "auto_kill_max_time": 0},
        "function.auto_kill_max_time: 0 is less than or equal to the minimum of 0",
    ),
    (
        {**EXECUTABLE, "max_log_size": -1},
        "function.max_log_size: -1 is less than or equal to the minimum of 0",
    ),
    ({**EXECUTABLE, "parallel": 0}, "function.parallel: 0 is less than the minimum of 1"),
    (
        {**EXECUTABLE, "auto_kill_mx_ram": 5},
        "function.auto_kill_mx_ram: unknown key "
        "'auto_kill_mx_ram'; did you mean 'auto_kill_max_ram'?",
    ),
    # the key of another type: which type takes it
    (
        {**PYTHON, "command": ["node", "model.js"]},
        "function.command: command is a setting of "
        "function type 'executable'; function.type is 'python_function' (the default), which does "
        'not take it: remove it, or set "type": "executable"',
    ),
    (
        {**EXECUTABLE, "isolation": "process"},
        "function.isolation: isolation is a setting of "
        "function type 'python_function'; function.type is 'executable', which does not take it: "
        'remove it, or set "type": "python_function"',
    ),
    # the type
    (
        {**PYTHON, "type": "shell"},
        "function.type: 'shell' is not allowed; use one of 'executable', 'python_function'",
    ),
    (
        {**PYTHON, "type": 3},
        "function.type: 3 is not allowed; use one of 'executable', 'python_function'",
    ),
]


@pytest.mark.parametrize(("function", "problem"), REFUSED, ids=[p for _, p in REFUSED])
def test_a_bad_key_or_value_is_named_by_its_path(function: dict[str, Any], problem: str) -> None:
    assert problems(function) == [problem]


def test_the_original_remote_type_is_refused_by_its_type_alone() -> None:
    """Its hosts, rsync and command belong to no executor here: the type says it all."""
    remote = {"type": "remote", "hosts": ["a", "b"], "command": "python m.py", "rsync": {}}
    assert problems(remote) == [
        "function.type: 'remote' is not allowed; use one of 'executable', 'python_function'"
    ]
    assert problems({**remote, "auto_kill_max_time": -1}) == [  # the shared keys are checked
        "function.auto_kill_max_time: -1 is less than or equal to the minimum of 0",
        "function.type: 'remote' is not allowed; use one of 'executable', 'python_function'",
    ]


def test_every_problem_of_the_section_is_listed_together() -> None:
    found = problems(
        {**EXECUTABLE, "arguments": 1, "auto_kill_max_ram": 0, "module": "m", "name": "f"}
    )
    assert [problem.split(":")[0] for problem in found] == [
        "function.arguments",
        "function.auto_kill_max_ram",
        "function.module",
        "function.name",
    ]


def test_what_a_section_lacks_is_asked_only_where_the_config_runs_the_model() -> None:
    assert load({"auto_kill_max_time": 5}, require_function=False).function == FunctionConfig(
        settings=PythonFunctionSettings(), auto_kill_max_time=5
    )
    assert problems({"type": "executable", "module": "m"}, require_function=False) == [
        "function.module: module is a setting of function type 'python_function'; function.type "
        'is \'executable\', which does not take it: remove it, or set "type": "python_function"'
    ]


def test_a_section_loads_with_its_executors_typed_settings() -> None:
    python = load({**PYTHON, "isolation": "process", "worker_max_ram": 300, "kill_loss": 2})
    assert python.function == FunctionConfig(
        type="python_function",
        settings=PythonFunctionSettings(
            module="model", name="train", isolation="process", worker_max_ram=300
        ),
        auto_kill_loss=2,
    )
    executable = load({**EXECUTABLE, "arguments": True, "max_log_size": 2, "parallel": 3})
    assert executable.function == FunctionConfig(
        type="executable",
        settings=ExecutableSettings(command=["node", "model.js"], arguments=True),
        max_log_size=2,
    )
    assert executable.search.parallel == 3
    assert load({"type": "executable", "command": "sh run.sh"}).function == FunctionConfig(
        type="executable", settings=ExecutableSettings(command="sh run.sh")
    )


def test_the_factories_read_the_typed_settings(tmp_path: Path) -> None:
    python = load({**PYTHON, "isolation": "process", "max_trials_per_worker": 4})
    local = executor_for(python, results_dir=tmp_path)
    assert isinstance(local, LocalExecutor)
    assert (local.source.module, local.source.name) == ("model", "train")
    assert local.recycling.fresh_process and local.recycling.max_trials == 4
    executable = executor_for(load({**EXECUTABLE, "arguments": True}), results_dir=tmp_path)
    assert isinstance(executable, ExecutableExecutor)
    assert (executable.argv, executable.arguments) == (["node", "model.js"], True)
    # a callable runs in local workers whatever the section says
    called = executor_for(load(EXECUTABLE), function=abs, results_dir=tmp_path)
    assert isinstance(called, LocalExecutor) and called.source.function is abs


def test_settings_given_in_python_are_checked_as_the_section_would_be(tmp_path: Path) -> None:
    config = load(EXECUTABLE)
    config.function = FunctionConfig(type="executable", settings=PythonFunctionSettings())
    with pytest.raises(ConfigError) as caught:
        executor_for(config, results_dir=tmp_path)
    assert caught.value.issues[0].path == "function"
    assert "must be ExecutableSettings or a mapping" in caught.value.issues[0].message


def test_the_printed_schema_shows_each_types_keys() -> None:
    function = config_schema()["$defs"]["function"]
    assert function["properties"]["type"]["enum"] == ["executable", "python_function"]
    then = sections_by_type(function)
    assert set(then["executable"]["properties"]) >= {"command", "arguments", "auto_kill_loss"}
    assert "module" not in then["executable"]["properties"]
    assert then["python_function"]["properties"]["isolation"]["enum"] == ["worker", "process"]
    assert then["python_function"]["properties"]["max_trials_per_worker"]["minimum"] == 1
    checker = Draft202012Validator(config_schema())

    def valid(section: dict[str, Any]) -> bool:
        return checker.is_valid({"hyperparameters": SPACE, "function": section})

    assert valid(PYTHON) and valid({**PYTHON, "type": "python_function"}) and valid(EXECUTABLE)
    assert not valid({**PYTHON, "command": "x"})
    assert not valid({**EXECUTABLE, "module": "m"})
    assert not valid({**PYTHON, "type": "remote"})
    assert not valid({**EXECUTABLE, "command": []})


def test_the_registry_names_each_built_in_types_settings() -> None:
    assert available_executors() == sorted(EXECUTOR_MODULES)
    assert executor_settings("python_function") is PythonFunctionSettings
    assert executor_settings("executable") is ExecutableSettings


@pytest.mark.parametrize(
    ("function", "loaded"),
    [
        (PYTHON, "hypermax.execution.python_function"),
        (EXECUTABLE, "hypermax.execution.program"),
    ],
)
def test_checking_a_config_loads_its_types_settings_and_no_executor(
    function: dict[str, Any], loaded: str
) -> None:
    """Start-up: the executors (multiprocessing, psutil, the monitor) load when a search runs."""
    script = (
        "import json, sys\n"
        "from hypermax.config import config_from_dict\n"
        f"config_from_dict({{'hyperparameters': {SPACE!r}, 'function': {function!r}}})\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('hypermax.execution.')]))\n"
        "print('psutil' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    modules = json.loads(out[0])
    assert loaded in modules
    assert not {"hypermax.execution.local", "hypermax.execution.executable"} & set(modules)
    assert out[1] == "False"


# --- a new executor touches only its own module and its registration -------------------------


@dataclass(frozen=True)
class ThrowawaySettings(ExecutorSettings):
    """A queue the trials go to."""

    queue: str = field(default="trials", metadata=spec("The queue's name.", minLength=1))
    retries: int = field(default=0, metadata=spec("Tries after the first.", minimum=0))
    mode: Literal["fast", "safe"] = field(default="safe", metadata=spec("How."))
    hosts: Sequence[str] = field(default=(), metadata=spec("Where."))


class ThrowawayExecutor(Executor):
    def __init__(self, settings: ThrowawaySettings):
        self.settings = settings

    def start(self) -> None:
        pass

    def submit(self, request: TrialRequest) -> None:
        pass

    def wait(self, timeout: float) -> list[TrialOutcome]:
        return []

    def stop(self) -> list[int]:
        return []


def throwaway_executor(
    config: Config, function: Callable[[Any], Any] | None, ledger: Ledger
) -> ThrowawayExecutor:
    from hypermax.settings import parse

    assert config.function is not None
    return ThrowawayExecutor(parse(ThrowawaySettings, config.function.settings, "function"))


@pytest.fixture
def throwaway(monkeypatch: pytest.MonkeyPatch) -> None:
    import hypermax.execution as registry

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    monkeypatch.setattr(registry, "_SETTINGS", dict(registry._SETTINGS))
    register_executor("throwaway", ThrowawaySettings)(throwaway_executor)


@pytest.mark.usefixtures("throwaway")
def test_a_new_executor_brings_its_keys_with_it(tmp_path: Path) -> None:
    section = {"type": "throwaway", "queue": "gpu", "retries": 2, "hosts": ["a", "b"]}
    config = load({**section, "auto_kill_max_time": 9})
    assert config.function == FunctionConfig(
        type="throwaway",
        settings=ThrowawaySettings(queue="gpu", retries=2, hosts=["a", "b"]),
        auto_kill_max_time=9,
    )
    executor = executor_for(config, results_dir=tmp_path)
    assert isinstance(executor, ThrowawayExecutor)
    assert executor.settings == ThrowawaySettings(queue="gpu", retries=2, hosts=["a", "b"])
    assert problems({**section, "retries": -1, "mode": "slow", "hosts": [1], "queu": "x"}) == [
        "function.queu: unknown key 'queu'; did you mean 'queue'?",
        "function.hosts.0: must be of type string, got int 1",
        "function.mode: 'slow' is not allowed; use one of 'fast', 'safe'",
        "function.retries: -1 is less than the minimum of 0",
    ]
    assert problems({**section, "module": "m"})[0].startswith(
        "function.module: module is a setting of function type 'python_function'; "
        "function.type is 'throwaway'"
    )
    assert problems({**PYTHON, "queue": "gpu"}) == [
        "function.queue: queue is a setting of function type 'throwaway'; function.type is "
        "'python_function' (the default), which does not take it: remove it, or set "
        '"type": "throwaway"'
    ]
    assert problems({**PYTHON, "type": "throwawa"}) == [
        "function.type: 'throwawa' is not allowed; use one of 'executable', 'python_function', "
        "'throwaway'"
    ]
    function = config_schema()["$defs"]["function"]
    assert "throwaway" in function["properties"]["type"]["enum"]
    then = sections_by_type(function)
    assert then["throwaway"]["properties"]["retries"]["minimum"] == 0
    assert then["throwaway"]["description"] == "type throwaway: A queue the trials go to."


@pytest.mark.usefixtures("throwaway")
def test_an_executor_registered_without_settings_takes_only_the_shared_keys() -> None:
    register_executor("bare")(throwaway_executor)
    assert executor_settings("bare") is ExecutorSettings
    assert load({"type": "bare", "parallel": 2}).function == FunctionConfig(
        type="bare", settings=ExecutorSettings()
    )
    assert problems({"type": "bare", "queue": "gpu"})[0].startswith(
        "function.queue: queue is a setting of function type 'throwaway'"
    )
