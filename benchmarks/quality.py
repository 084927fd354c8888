"""Search quality: how close each method gets to the optimum within 25, 50 and 100 trials.

Every hypermax method and, as references, Hyperopt's TPE with its own defaults and Optuna's TPE
(and GP, where torch is installed) sampler, on eight problems (`benchmarks/problems.py`). The
optimizers run directly (ask/tell, no processes), so the figures measure the search alone.

    python benchmarks/quality.py            # 10 seeds, up to 100 trials; writes RESULTS.md
    python benchmarks/quality.py --quick    # 2 seeds, 25 trials, no atpe: a smoke test (~2.5 min)

Each run is cached under `benchmarks/.cache/` (delete it, or pass `--fresh`, after changing a
method), so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from problems import PROBLEMS, Problem
from references import optuna_available, optuna_sampler

from hypermax.optimizers import available_methods, create_optimizer
from hypermax.optimizers._optuna import ask_flat
from hypermax.trial import Trial, TrialStatus

HERE = Path(__file__).parent
CACHE = HERE / ".cache" / "quality"
BUDGETS = (25, 50, 100)
QUICK_LEAVES_OUT = ("atpe",)  # 0.3-0.5 s per suggestion: a third of the quick run's time


@dataclass(frozen=True)
class Contender:
    label: str
    kind: str  # "hypermax" or "optuna"
    method: str
    settings: tuple[tuple[str, object], ...] = ()


def contenders() -> list[Contender]:
    # bayesian and optuna-gp are left out: up to 300 trials auto runs exactly one of them, seed
    # for seed (auto-without-torch always bayesian)
    ours = [m for m in ("auto", "tpe", "atpe", "evolution", "random") if m in available_methods()]
    found = [Contender(m, "hypermax", m) for m in ours]
    found.append(Contender("hyperopt-tpe", "hypermax", "tpe", (("startup_trials", 20),)))
    if optuna_available("gp"):  # what auto does on the base install, for comparison
        found.insert(
            1, Contender("auto-without-torch", "hypermax", "auto", (("optuna_gp", False),))
        )
    found += [
        Contender(f"optuna-{kind}", "optuna", kind)
        for kind in ("tpe", "gp")
        if optuna_available(kind)
    ]
    return found


def run_hypermax(problem: Problem, contender: Contender, seed: int, budget: int) -> list[float]:
    optimizer = create_optimizer(
        contender.method, problem.space, seed=seed, settings=dict(contender.settings)
    )
    history: list[Trial] = []
    trues: list[float] = []
    for number in range(1, budget + 1):
        (flat,) = optimizer.suggest(history, 1)
        seen, true = problem.observed(problem.space.nested(flat), noise_rng(seed, number))
        history.append(Trial(number, flat, flat, TrialStatus.OK, loss=seen))
        trues.append(true)
    return chosen_true_values([t.loss for t in history], trues)  # type: ignore[misc]


def run_optuna(problem: Problem, contender: Contender, seed: int, budget: int) -> list[float]:
    import optuna

    study = optuna.create_study(sampler=optuna_sampler(contender.method, seed))
    seens: list[float] = []
    trues: list[float] = []
    for number in range(1, budget + 1):
        trial = study.ask()
        flat: dict = {}
        ask_flat(trial, problem.space.root, flat)
        seen, true = problem.observed(problem.space.nested(flat), noise_rng(seed, number))
        study.tell(trial, seen)
        seens.append(seen)
        trues.append(true)
    return chosen_true_values(seens, trues)


def noise_rng(seed: int, number: int) -> np.random.Generator:
    """The same noise for trial N of seed S whichever method runs it."""
    return np.random.default_rng([seed, number, 7])


def chosen_true_values(seens: list[float], trues: list[float]) -> list[float]:
    """After each trial, the true value of the trial a user would pick: the best one seen."""
    curve, best_seen, best_true = [], math.inf, math.inf
    for seen, true in zip(seens, trues, strict=True):
        if seen < best_seen:
            best_seen, best_true = seen, true
        curve.append(best_true)
    return curve


RUNNERS: dict[str, Callable[[Problem, Contender, int, int], list[float]]] = {
    "hypermax": run_hypermax,
    "optuna": run_optuna,
}


def cached_run(problem_name: str, contender: Contender, seed: int, budget: int) -> dict:
    path = CACHE / f"{problem_name}--{contender.label}--{seed}--{budget}.json"
    if path.exists():
        return json.loads(path.read_text())
    started = time.perf_counter()
    curve = RUNNERS[contender.kind](PROBLEMS[problem_name], contender, seed, budget)
    record = {"curve": curve, "seconds": time.perf_counter() - started}
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(record))
    partial.replace(path)
    return record


def versions() -> str:
    """The libraries the figures came from."""
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("hypermax", "hyperopt", "scikit-learn", "optuna", "torch"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def rank(values: dict[str, float]) -> dict[str, float]:
    """Average ranks (1 = best), ties sharing the mean of their places."""
    order = sorted(values, key=values.__getitem__)
    ranks: dict[str, float] = {}
    position = 0
    while position < len(order):
        tied = [m for m in order[position:] if values[m] == values[order[position]]]
        for method in tied:
            ranks[method] = position + (len(tied) + 1) / 2
        position += len(tied)
    return ranks


def report(results: dict, budgets: list[int], seeds: int, command: str) -> str:
    labels = list(next(iter(results.values())))
    lines = [
        "# Search quality",
        "",
        f"Regenerate with `{command}` ({seeds} seeds per problem and method; {versions()}).",
        "",
        "Methods: `auto` (hypermax's default, with the `gp` extra installed: up to 300 trials it"
        " is exactly `optuna-gp` on spaces without conditions, which therefore gives the same"
        " figures as Optuna's own GP loop there, and `bayesian` on conditional spaces),"
        " `auto-without-torch` (`auto` on the base install: exactly `bayesian` up to 300 trials;"
        " neither `bayesian` nor `optuna-gp` is listed apart), `tpe` (Hyperopt's TPE with 10"
        " start-up trials), `atpe`,"
        " `evolution` (CMA-ES), `random`; references: `hyperopt-tpe` (Hyperopt's `tpe.suggest`"
        " with Hyperopt's own defaults), `optuna-tpe` and `optuna-gp` (Optuna's samplers with"
        " their defaults, driven through the same space).",
        "",
        "Regret is the true value of the best trial so far minus the optimum (for the scikit-learn"
        " tasks, minus the best any run found); for the noisy problem the trial is the one with"
        " the best *observed* loss, as a user would pick it. Lower is better.",
        "",
    ]
    ranks: dict[int, dict[str, list[float]]] = {b: {m: [] for m in labels} for b in budgets}
    for problem_name, by_label in results.items():
        optimum = PROBLEMS[problem_name].optimum
        if optimum is None:
            optimum = min(min(r["curve"]) for runs in by_label.values() for r in runs)
        lines += [f"## {problem_name}", ""]
        header = "| method | " + " | ".join(f"mean@{b} | median@{b}" for b in budgets)
        lines += [header + " | s/run |", "|---" * (2 * len(budgets) + 2) + "|"]
        for budget in budgets:
            means = {
                label: statistics.mean(r["curve"][budget - 1] - optimum for r in runs)
                for label, runs in by_label.items()
            }
            for label, place in rank(means).items():
                ranks[budget][label].append(place)
        for label, runs in by_label.items():
            cells = []
            for budget in budgets:
                regrets = [r["curve"][budget - 1] - optimum for r in runs]
                cells.append(f"{statistics.mean(regrets):.4g} | {statistics.median(regrets):.4g}")
            seconds = statistics.mean(r["seconds"] for r in runs)
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {seconds:.1f} |")
        lines.append("")
    lines += [
        "## Average rank (by mean regret, over all problems; 1 is best)",
        "",
        "| method | " + " | ".join(f"@{b}" for b in budgets) + " | all budgets |",
        "|---" * (len(budgets) + 2) + "|",
    ]
    overall = {m: statistics.mean(p for b in budgets for p in ranks[b][m]) for m in labels}
    for label in sorted(labels, key=overall.__getitem__):
        cells = " | ".join(f"{statistics.mean(ranks[b][label]):.2f}" for b in budgets)
        lines.append(f"| {label} | {cells} | {overall[label]:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, 25 trials, no atpe (the slowest), no file"
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=max(BUDGETS))
    parser.add_argument("--problems", nargs="*", default=list(PROBLEMS))
    parser.add_argument("--methods", nargs="*", help="labels of the methods to run (all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fresh", action="store_true", help="ignore cached runs")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    options = parser.parse_args()
    if options.quick:
        options.seeds, options.budget = 2, 25
    if options.fresh and CACHE.exists():
        for path in CACHE.glob("*.json"):
            path.unlink()
    chosen = [c for c in contenders() if not options.methods or c.label in options.methods]
    if options.quick and not options.methods:
        chosen = [c for c in chosen if c.label not in QUICK_LEAVES_OUT]
    budgets = [b for b in BUDGETS if b <= options.budget] or [options.budget]
    jobs = [
        (problem, contender, seed, options.budget)
        for problem in options.problems
        for contender in chosen
        for seed in range(options.seeds)
    ]
    started = time.perf_counter()
    results: dict[str, dict[str, list[dict]]] = {
        p: {c.label: [] for c in chosen} for p in options.problems
    }
    with ProcessPoolExecutor(options.jobs) as pool:
        futures = [(job, pool.submit(cached_run, *job)) for job in jobs]
        for done, ((problem, contender, _, _), future) in enumerate(futures, 1):
            results[problem][contender.label].append(future.result())
            print(f"\r{done}/{len(jobs)} runs", end="", file=sys.stderr, flush=True)
    print(f"\r{len(jobs)} runs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    command = "python benchmarks/quality.py" + (" --quick" if options.quick else "")
    text = report(results, budgets, options.seeds, command)
    print(text)
    if not options.quick and not options.methods and options.problems == list(PROBLEMS):
        options.output.write_text(text)
        print(f"written to {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
