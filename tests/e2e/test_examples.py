"""The shipped examples run as a user would run them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import HYPERMAX

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, tmp_path: Path, iterations: int) -> dict:
    folder = tmp_path / name
    # results of an earlier `make demo` would make this a resumed search
    shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns("hypermax_results"))
    done = subprocess.run(
        [HYPERMAX, "search.json", "--iterations", str(iterations)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = folder / "hypermax_results" / name
    assert len((results / "trials.csv").read_text().splitlines()) == iterations + 1
    return json.loads((results / "best.json").read_text())


def test_shell_script_example(tmp_path: Path) -> None:
    best = run_example("shell", tmp_path, 25)
    assert best["loss"] < 3.0
    assert set(best["params"]) == {"x", "y", "method"}


@pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed (`make services` installs it)"
)
@pytest.mark.slow
def test_node_example(tmp_path: Path) -> None:
    best = run_example("node", tmp_path, 20)
    assert 0.5 < best["metrics"]["accuracy"] <= 1.0
    assert 1 <= len(best["params"]["layers"]) <= 4


@pytest.mark.slow
def test_quickstart_example(tmp_path: Path) -> None:
    best = run_example("quickstart", tmp_path, 8)
    assert best["metrics"]["accuracy"] > 0.9
