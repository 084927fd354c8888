"""How long the command line takes to answer: median wall time of 10 runs of each command.

`python benchmarks/startup.py` (on an idle machine: the figures are only as quiet as it is).
`validate` checks a config whose model is an executable, so no model module is imported: the
figure is hypermax's own start-up and config checking. Targets: --version, --help and schema
within 0.25 s; validate within 0.6 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10
HYPERMAX = str(Path(sys.executable).parent / "hypermax")
CONFIG = {
    "hyperparameters": {
        "type": "object",
        "properties": {
            "lr": {"type": "number", "min": 1e-5, "max": 1, "scaling": "logarithmic"},
            "layers": {"type": "number", "min": 1, "max": 8, "rounding": 1},
            "activation": {"enum": ["relu", "gelu", "tanh"]},
        },
    },
    "function": {"type": "executable", "command": ["sh", "train.sh"]},
    "search": {"iterations": 50},
}
TARGETS = {"--version": 0.25, "--help": 0.25, "schema": 0.25, "validate": 0.6}


def median_seconds(arguments: list[str], folder: Path) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([HYPERMAX, *arguments], cwd=folder, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "search.json").write_text(json.dumps(CONFIG))
        (folder / "train.sh").write_text("echo 0.5\n")
        commands = {
            "--version": ["--version"],
            "--help": ["--help"],
            "schema": ["schema"],
            "validate": ["validate", "search.json"],
        }
        print(f"{'command':<14}{'median (s)':>12}{'target (s)':>12}")
        for name, arguments in commands.items():
            seconds = median_seconds(arguments, folder)
            print(f"{name:<14}{seconds:>12.3f}{TARGETS[name]:>12.2f}")


if __name__ == "__main__":
    main()
