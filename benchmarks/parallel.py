"""Throughput of parallel trials: `parallel: 2` against `parallel: 1` with a 0.5 s objective.

`python benchmarks/parallel.py [--trials N]`.
"""

from __future__ import annotations

import argparse
import time

import hypermax

SPACE = {"type": "object", "properties": {"x": {"type": "number", "min": 0, "max": 1}}}


def half_second(params: dict) -> float:
    time.sleep(0.5)
    return params["x"]


def seconds_for(parallel: int, trials: int) -> float:
    started = time.perf_counter()
    hypermax.optimize(
        half_second, SPACE, method="tpe", iterations=trials, seed=0, parallel=parallel
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    options = parser.parse_args()
    one = seconds_for(1, options.trials)
    two = seconds_for(2, options.trials)
    print(
        f"{options.trials} trials of 0.5 s: parallel 1 {one:.2f} s, parallel 2 {two:.2f} s, "
        f"speed-up {one / two:.2f}x"
    )


if __name__ == "__main__":
    main()
