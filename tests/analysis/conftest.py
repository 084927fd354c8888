"""Real results folders for the analysis tests: a model module and a search.json in a folder,
run through the ``hypermax`` command in-process, exactly as a user would."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hypermax.cli import main


def call_cli(*argv: str | Path) -> tuple[int, str, str]:
    """Run ``hypermax ARGV`` in-process; returns the exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def run_search(
    folder: Path,
    model: str,
    hyperparameters: dict[str, Any],
    *,
    name: str,
    iterations: int,
    seed: int = 3,
) -> Path:
    """Write ``<name>_model.py`` and ``search.json`` into ``folder``, run the search through the
    CLI (it must exit 0) and return its results folder."""
    folder.mkdir(parents=True, exist_ok=True)
    module = f"{name.replace('-', '_')}_model"  # one module name per search: no stale imports
    (folder / f"{module}.py").write_text(model, "utf-8")
    config = {
        "hyperparameters": hyperparameters,
        "function": {"type": "python_function", "module": module, "name": "train"},
        "search": {"name": name, "method": "random", "iterations": iterations, "seed": seed},
    }
    path = folder / "search.json"
    path.write_text(json.dumps(config, indent=2), "utf-8")
    code, out, err = call_cli(path)
    assert code == 0, f"the search failed to run:\n{out}\n{err}"
    results = folder / "hypermax_results" / name
    assert (results / "config.json").is_file()
    return results


@pytest.fixture(scope="session")
def search_runner() -> Callable[..., Path]:
    """``run_search`` as a fixture (usable from module-scoped fixtures):
    ``search_runner(folder, model_source, hyperparameters, name=..., iterations=...)``."""
    return run_search


@pytest.fixture(scope="session")
def cli() -> Callable[..., tuple[int, str, str]]:
    """``call_cli`` as a fixture: ``code, out, err = cli("analyze", folder)``."""
    return call_cli
