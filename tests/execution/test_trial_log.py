"""Trial logs keep their first and last part within function.max_log_size, whatever a model
prints, for Python models and programs alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import hypermax
from hypermax.execution.base import OutcomeKind, TrialRequest
from hypermax.execution.executable import ExecutableExecutor
from hypermax.execution.local import LocalExecutor
from hypermax.execution.monitor import Limits
from hypermax.execution.python_function import FunctionSource
from hypermax.execution.trial_log import MARKER
from tests.execution.conftest import next_outcome

MIB = 1024 * 1024

PRINTS = """
import sys

def flood(p=None):
    print("THE FIRST LINE")
    line = "y" * 1023 + "\\n"
    for _ in range(20 * 1024):  # 20 MiB
        sys.stdout.write(line)
    print("THE LAST LINE")
    return 0.5

if __name__ == "__main__":
    print(flood())
"""


def _kept_log(log: Path) -> bytes:
    text = log.read_bytes()
    assert len(text) <= MIB
    assert text.startswith(b"THE FIRST LINE\n")
    assert text.endswith(b"THE LAST LINE\n0.5\n") or text.endswith(b"THE LAST LINE\n")
    assert MARKER in text
    return text


@pytest.mark.parametrize("kind", ["python", "program"])
def test_a_log_keeps_its_head_and_tail_within_the_cap(tmp_path: Path, kind: str) -> None:
    (tmp_path / "prints.py").write_text(PRINTS)
    limits = Limits(max_log=1)
    executor = (
        LocalExecutor(
            FunctionSource(module="prints", name="flood", base_dir=str(tmp_path)), limits=limits
        )
        if kind == "python"
        else ExecutableExecutor([sys.executable, "prints.py"], tmp_path, limits=limits)
    )
    with executor:
        executor.submit(TrialRequest(1, {}, tmp_path / "trial-1.log"))
        outcome = next_outcome(executor)
    assert outcome.kind is OutcomeKind.RESULT
    _kept_log(tmp_path / "trial-1.log")


def test_max_log_size_in_the_config_caps_a_searchs_logs(tmp_path: Path) -> None:
    sys.path.insert(0, str(tmp_path))
    (tmp_path / "prints_model.py").write_text(PRINTS)
    try:
        from prints_model import flood  # type: ignore[import-not-found]

        result = hypermax.optimize(
            flood,
            {"type": "object", "properties": {"x": {"type": "number", "min": 0, "max": 1}}},
            iterations=2,
            method="random",
            name="logs",
            results_directory=str(tmp_path / "results"),
            function_options={"max_log_size": 1},
        )
    finally:
        sys.path.remove(str(tmp_path))
    for trial in result.trials:
        _kept_log(Path(trial.log_path or ""))
