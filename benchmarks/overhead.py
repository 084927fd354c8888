"""Framework overhead per trial, against a bare ProcessPoolExecutor round trip.

Runs, in one process and one run: (a) a bare `concurrent.futures.ProcessPoolExecutor` round trip
per call of a trivial function, (b) a whole `hypermax.optimize` search with the same trivial
objective (one warm worker, every trial stored), and (c) the optimizer's suggest time alone.
Framework overhead = (b) - (c) - (a). Then (d) the cost of one sample of a running trial's
memory, with and without reading its PSS. `python benchmarks/overhead.py [--trials N]`.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import psutil

import hypermax
from hypermax.execution.monitor import Limits, Usage, Watcher
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


def bare_round_trip(trials: int) -> float:
    with ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(trivial, {"x": 0.0, "n": 1}).result()  # warm the worker
        started = time.perf_counter()
        for _ in range(trials):
            pool.submit(trivial, {"x": 0.5, "n": 2, "kind": "a"}).result()
    return (time.perf_counter() - started) / trials


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


def sampling_cost(children: int, samples: int = 50) -> tuple[float, float]:
    """Milliseconds per sample of a trial's process tree (the search samples every 0.1 s while
    trials run): a process holding 200 MiB with ``children`` forked idle children. Returns
    the cost of a sample that reads resident size only, and of one that also reads PSS (every
    ``PSS_INTERVAL`` s)."""
    script = (
        "import os, time\n"
        "block = bytearray(200 * 2**20)\n"
        "for i in range(0, len(block), 4096): block[i] = 1\n"
        f"for _ in range({children}):\n"
        "    if os.fork() == 0: time.sleep(60); os._exit(0)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        watcher = Watcher(Limits())
        usage = Usage()
        watcher.sample(usage, process.pid, 0.0)  # the first sample reads PSS
        started = time.perf_counter()
        for _ in range(samples):
            watcher.sample(usage, process.pid, 0.0)
        cheap = (time.perf_counter() - started) / samples
        started = time.perf_counter()
        for _ in range(samples):
            usage.read_at = -math.inf
            watcher.sample(usage, process.pid, 0.0)
        full = (time.perf_counter() - started) / samples
    finally:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
        process.kill()
        process.wait()
    return cheap, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    print(
        f"{options.trials} trials, trivial objective; milliseconds per trial, "
        f"median of {options.repeats} runs"
    )
    bare = statistics.median(bare_round_trip(options.trials) for _ in range(options.repeats))
    print(f"bare ProcessPoolExecutor round trip: {bare * 1000:.2f}")
    print(f"{'method':<8}{'whole search':>14}{'suggest':>10}{'round trip':>12}{'framework':>11}")
    for method in ("random", "tpe"):
        total = statistics.median(
            whole_search(method, options.trials) for _ in range(options.repeats)
        )
        suggest = statistics.median(
            suggest_only(method, options.trials) for _ in range(options.repeats)
        )
        framework = total - suggest - bare
        print(
            f"{method:<8}{total * 1000:>14.2f}{suggest * 1000:>10.2f}{bare * 1000:>12.2f}"
            f"{framework * 1000:>11.2f}",
            flush=True,
        )
    print("sampling a trial's tree (200 MiB), milliseconds per sample:")
    print(f"{'processes':<10}{'resident only':>15}{'with PSS':>10}")
    for children in (0, 4):
        cheap, full = sampling_cost(children)
        print(f"{children + 1:<10}{cheap * 1000:>15.2f}{full * 1000:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
