"""Soak: thousands of trials of a trivial model in one search, and whether anything grows.

Every ``--every`` trials it prints the search process's resident memory, its open file
descriptors, its child processes and the milliseconds per trial over the last stretch: all
four should stay flat. `python benchmarks/soak.py [--trials 5000] [--every 500]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import psutil

import hypermax
from hypermax.events import SearchEvent

SPACE = {
    "type": "object",
    "properties": {
        "x": {"type": "number", "min": -5, "max": 5},
        "kind": {"type": "string", "enum": ["a", "b", "c"]},
    },
}


def trivial(params: dict) -> float:
    return params["x"] ** 2


class Recorder:
    """Prints one row per ``every`` finished trials."""

    def __init__(self, every: int):
        self.every = every
        self.process = psutil.Process()
        self.last = time.perf_counter()
        self.rows: list[tuple[int, float, int, int, float]] = []

    def __call__(self, event: SearchEvent) -> None:
        if event.kind != "trial_finished" or event.finished % self.every:
            return
        now = time.perf_counter()
        row = (
            event.finished,
            self.process.memory_info().rss / 2**20,
            self.process.num_fds(),
            len(self.process.children(recursive=True)),
            (now - self.last) / self.every * 1000,
        )
        self.last = now
        self.rows.append(row)
        print(f"{row[0]:>7}{row[1]:>10.1f}{row[2]:>9}{row[3]:>10}{row[4]:>12.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--every", type=int, default=500)
    options = parser.parse_args()
    recorder = Recorder(options.every)
    print(f"{'trials':>7}{'RSS MiB':>10}{'open fds':>9}{'children':>10}{'ms/trial':>12}")
    with tempfile.TemporaryDirectory() as results:
        hypermax.optimize(
            trivial,
            SPACE,
            method="random",
            iterations=options.trials,
            seed=0,
            name="soak",
            results_directory=results,
            listeners=[recorder],
        )
    first, last = recorder.rows[0], recorder.rows[-1]
    print(
        f"growth from {first[0]} to {last[0]} trials: RSS {last[1] - first[1]:+.1f} MiB, "
        f"open fds {last[2] - first[2]:+d}, ms/trial {last[4] - first[4]:+.2f}"
    )


if __name__ == "__main__":
    main()
