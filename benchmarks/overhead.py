"""Framework overhead: wall time per trial of a whole search with a trivial objective.

Compares `hypermax.optimize` (TPE and random, one warm worker process, every trial written to
storage) with the optimizer's suggest time alone. `python benchmarks/overhead.py [--trials N]`.
"""

from __future__ import annotations

import argparse
import time

import hypermax
from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus

SPACE = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 5},
        "n": {"type": "integer", "min": 1, "max": 10},
        "kind": {"type": "string", "enum": ["a", "b", "c"]},
    },
}


def trivial(params: dict) -> float:
    return params["x"] ** 2 + params["n"]


def suggest_only(method: str, trials: int) -> float:
    optimizer = create_optimizer(method, Space.from_schema(SPACE), seed=0)
    history: list[Trial] = []
    started = time.perf_counter()
    for number in range(1, trials + 1):
        (flat,) = optimizer.suggest(history, 1)
        history.append(Trial(number, flat, flat, TrialStatus.OK, loss=trivial(flat)))
    return (time.perf_counter() - started) / trials


def whole_search(method: str, trials: int) -> float:
    started = time.perf_counter()
    hypermax.optimize(trivial, SPACE, method=method, iterations=trials, seed=0)
    return (time.perf_counter() - started) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    options = parser.parse_args()
    print(f"{options.trials} trials, trivial objective; milliseconds per trial")
    print(f"{'method':<8}{'whole search':>14}{'suggest only':>14}{'framework':>12}")
    for method in ("random", "tpe"):
        total = whole_search(method, options.trials) * 1000
        suggest = suggest_only(method, options.trials) * 1000
        print(f"{method:<8}{total:>14.2f}{suggest:>14.2f}{total - suggest:>12.2f}", flush=True)


if __name__ == "__main__":
    main()
