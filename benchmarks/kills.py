"""Kill latency: how long after a trial crosses a limit it is killed (20 kills per limit).

Time limit: the trial sleeps; latency = when the kill is reported - (trial start + limit).
RAM limit (200 MiB): the trial holds 120 MiB, notes the time, then touches 150 MiB more;
latency = when the kill is reported - that moment (an upper bound: it includes the allocation).
`python benchmarks/kills.py [--kills N]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hypermax.execution.base import TrialRequest
from hypermax.execution.local import LocalExecutor
from hypermax.execution.monitor import Limits
from hypermax.execution.python_function import FunctionSource

MODEL = """
import time

def sleeps(p):
    time.sleep(60)

def touch(megabytes):
    block = bytearray(megabytes * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return block

def allocates(p):
    below = touch(120)
    with open(p["stamp"], "w") as f:
        f.write(repr(time.time()))
    above = touch(150)
    time.sleep(60)
"""
TIME_LIMIT = 0.5


def one_kill(executor: LocalExecutor, folder: Path, number: int, params: dict) -> float:
    executor.submit(TrialRequest(number, params, folder / f"trial-{number}.log"))
    submitted = time.time()
    while True:
        outcomes = executor.wait(0.05)
        if outcomes:
            return time.time() - (
                float(Path(params["stamp"]).read_text())
                if "stamp" in params
                else submitted + TIME_LIMIT
            )


def latencies(kind: str, kills: int) -> list[float]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "killme.py").write_text(MODEL)
        name = "sleeps" if kind == "time" else "allocates"
        limits = Limits(max_time=TIME_LIMIT) if kind == "time" else Limits(max_ram=200)
        source = FunctionSource(module="killme", name=name, base_dir=str(folder))
        with LocalExecutor(source, limits=limits) as executor:
            executor.wait(0)
            params = {} if kind == "time" else {"stamp": str(folder / "stamp")}
            return [one_kill(executor, folder, n, params) for n in range(1, kills + 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=20)
    options = parser.parse_args()
    print(f"kill latency over {options.kills} kills, milliseconds")
    print(f"{'limit':<6}{'min':>8}{'median':>8}{'p90':>8}{'max':>8}")
    for kind in ("time", "ram"):
        values = sorted(v * 1000 for v in latencies(kind, options.kills))
        p90 = values[int(0.9 * (len(values) - 1))]
        print(
            f"{kind:<6}{values[0]:>8.0f}{statistics.median(values):>8.0f}{p90:>8.0f}"
            f"{values[-1]:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
