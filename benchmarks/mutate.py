"""Mutation testing, one module at a time, each against the tests that exercise it.

`python benchmarks/mutate.py [MODULE ...]` (`make mutate MODULES='loss auto'`): for each module,
copies the checkout (tracked and untracked files, not ignored ones) to `.mutmut/MODULE/`, tells
mutmut to mutate that module only and to select among that module's tests only, runs mutmut
there, and prints the score. Each run starts afresh; the copy stays afterwards, so
`mutmut results` and `mutmut show NAME` in it list and show the survivors. Without arguments,
every module.

One module at a time keeps a run within hours on 2 cores: mutmut's test selection is by the
function a mutant sits in, and the whole suite's tests of `search.py`'s loop take minutes each.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from mutation import score_table

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutmut"

# module name -> (its source file, the tests that exercise it)
MODULES: dict[str, tuple[str, list[str]]] = {
    "loss": ("src/hypermax/loss.py", ["tests/test_loss.py"]),
    "auto": ("src/hypermax/optimizers/auto.py", ["tests/optimizers/test_auto.py"]),
    "sql": (
        "src/hypermax/storage/sql.py",
        ["tests/storage", "tests/test_results_errors.py"],
    ),
    "monitor": (
        "src/hypermax/execution/monitor.py",
        ["tests/execution/test_monitor.py", "tests/execution/test_local.py"],
    ),
    "local": (
        "src/hypermax/execution/local.py",
        [
            "tests/execution/test_local.py",
            "tests/execution/test_forking_models.py",
            "tests/execution/test_hostile_models.py",
            "tests/e2e/test_early_stopping.py",
        ],
    ),
    "search": (
        "src/hypermax/search.py",
        [
            "tests/test_search.py",
            "tests/e2e/test_resume.py",
            "tests/e2e/test_kills.py",
            "tests/e2e/test_warm_start.py",
            "tests/e2e/test_edit_space.py",
            "tests/e2e/test_early_stopping.py",
            "tests/e2e/test_chaos.py",
            "tests/test_fail_fast.py",
            "tests/test_resume_cli.py",
            "tests/test_cli.py",
        ],
    ),
    # split out of search.py: what runs next, and the trial lifecycle
    "planner": (
        "src/hypermax/planner.py",
        [
            "tests/test_search.py",
            "tests/e2e/test_warm_start.py",
            "tests/e2e/test_edit_space.py",
            "tests/e2e/test_resume.py",
            "tests/optimizers/test_staged.py",
            "tests/test_pareto.py",
            "tests/test_cli.py",
        ],
    ),
    "trial": ("src/hypermax/trial.py", ["tests/test_trial.py", "tests/test_search.py"]),
}


def checkout_copy(module: str) -> Path:
    """The project's files as they are now, in a folder of their own."""
    copy = WORK / module
    shutil.rmtree(copy, ignore_errors=True)
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = ROOT / name, copy / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return copy


def narrow_config(copy: Path, source: str, tests: list[str]) -> None:
    """mutmut reads its settings from pyproject.toml: this module only, these tests only."""
    quoted = ", ".join(f'"{test}"' for test in tests)
    settings = (
        "\n[tool.mutmut]\n"
        f'source_paths = ["{source}"]\n'
        'also_copy = ["src/"]\n'
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        'pytest_add_cli_args = ["-p", "no:randomly", "-q", "-p", "mutmut_forks"]\n'
    )
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + settings)


def run_module(module: str, children: int) -> None:
    source, tests = MODULES[module]
    copy = checkout_copy(module)
    narrow_config(copy, source, tests)
    # The mutated package must come first on the path when Python starts, ahead of the
    # editable install, or mutmut finds no test that reaches the mutants.
    (copy / "mutants" / "src").mkdir(parents=True, exist_ok=True)
    # mutmut_forks (in benchmarks/) counts what forked workers reach as reached by the test
    paths = [copy / "mutants" / "src", copy / "benchmarks"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, paths))}
    mutmut = str(Path(sys.executable).parent / "mutmut")
    subprocess.run([mutmut, "run", "--max-children", str(children)], cwd=copy, env=env)
    print(score_table(copy))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", choices=list(MODULES), default=[])
    parser.add_argument("--children", type=int, default=os.cpu_count() or 1)
    arguments = parser.parse_args()
    for module in arguments.modules or MODULES:
        run_module(module, arguments.children)


if __name__ == "__main__":
    main()
