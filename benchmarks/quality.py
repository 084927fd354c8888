"""Search quality: best loss found on Branin (optimum 0.397887) per method and budget.

Runs the optimizers directly (ask/tell, no processes) so that the figures measure the search
method alone. `python benchmarks/quality.py [--seeds N]`.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from hypermax.optimizers import create_optimizer
from hypermax.space import Space
from hypermax.trial import Trial, TrialStatus

BRANIN_OPTIMUM = 0.397887
SPACE = Space.from_schema(
    {
        "type": "object",
        "properties": {
            "x": {"type": "number", "min": -5, "max": 10},
            "y": {"type": "number", "min": 0, "max": 15},
        },
    }
)
METHODS = {
    "tpe (hypermax default: 10 start-up trials)": ("tpe", {}),
    "tpe (hyperopt default: 20 start-up trials)": ("tpe", {"startup_trials": 20}),
    "evolution (CMA-ES)": ("evolution", {}),
    "bayesian (GP + EI)": ("bayesian", {}),
    "random": ("random", {}),
}
BUDGETS = (25, 50, 100)


def branin(p: dict) -> float:
    x, y = p["x"], p["y"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


def best_so_far(method: str, settings: dict, seed: int, budget: int) -> list[float]:
    optimizer = create_optimizer(method, SPACE, seed=seed, settings=settings)
    history: list[Trial] = []
    best, curve = math.inf, []
    for number in range(1, budget + 1):
        (flat,) = optimizer.suggest(history, 1)
        loss = branin(flat)
        history.append(Trial(number, flat, flat, TrialStatus.OK, loss=loss))
        best = min(best, loss)
        curve.append(best)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    options = parser.parse_args()
    print(f"Branin, {options.seeds} seeds; best loss after N trials (optimum {BRANIN_OPTIMUM})")
    print(
        f"{'method':<46}"
        + "".join(f"{f'mean@{b}':>10}{f'median@{b}':>11}" for b in BUDGETS)
        + f"{'>1.0@100':>10}{'s/run':>8}"
    )
    for label, (method, settings) in METHODS.items():
        started = time.perf_counter()
        curves = [
            best_so_far(method, settings, seed, max(BUDGETS)) for seed in range(options.seeds)
        ]
        seconds = (time.perf_counter() - started) / options.seeds
        row = f"{label:<46}"
        for budget in BUDGETS:
            values = [curve[budget - 1] for curve in curves]
            row += f"{statistics.mean(values):>10.3f}{statistics.median(values):>11.3f}"
        misses = sum(curve[-1] > 1.0 for curve in curves)
        print(row + f"{misses:>10}{seconds:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
