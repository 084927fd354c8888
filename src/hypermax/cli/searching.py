"""The commands that run a search or look ahead in one: run, resume, validate, sample."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from hypermax import __version__
from hypermax.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_INTERRUPTED
from hypermax.config import Config, config_from_dict, load_config
from hypermax.errors import ConfigError, ConfigIssue, NotAResultsFolder, StorageError, Terminated
from hypermax.execution import executor_for
from hypermax.planner import Planner
from hypermax.progress import ProgressPrinter, best_summary, front_summary
from hypermax.result import TrialsFailing
from hypermax.search import Search
from hypermax.storage import SQLITE_FILENAME
from hypermax.storage.export import pareto_dicts
from hypermax.storage.fresh import start_over
from hypermax.storage.registry import open_storage
from hypermax.storage.results import saved_search
from hypermax.trial import Trial


def _load(path: Path, iterations: int | None = None) -> Config:
    if path.is_dir() and (path / "config.json").is_file():
        raise NotAResultsFolder(
            f"{path} is a results folder, not a config file: continue its search with "
            f"`hypermax resume {path}`, or give the config too: `hypermax CONFIG {path}`"
        )
    config = load_config(path)
    _set_iterations(config, iterations)
    return config


def _set_iterations(config: Config, iterations: int | None) -> None:
    if iterations is not None:
        if iterations < 1:
            raise ConfigError(ConfigIssue("--iterations", f"must be 1 or more, got {iterations}"))
        config.search.iterations = iterations


def run(options: argparse.Namespace) -> int:
    config = _load(options.config, options.iterations)
    folder = None
    if options.results is not None:
        folder = options.results.resolve()
        _continue_in(config, folder)
    return _search(config, folder, options.fresh)


def _continue_in(config: Config, folder: Path) -> None:
    """``hypermax search.json FOLDER``: the search saved in FOLDER goes on with this config
    (its name and storage from the folder's config.json); a new or empty folder starts it."""
    if folder.exists() and not folder.is_dir():
        raise NotAResultsFolder(f"{folder} is a file; give a results folder (or a new one)")
    if not folder.exists() or not any(folder.iterdir()):
        return
    saved = saved_search(folder).config.get("search", {})
    config.search.name = saved.get("name", config.search.name)
    config.search.storage = saved.get("storage")


def resume(options: argparse.Namespace) -> int:
    saved = saved_search(options.results)
    source = saved.path / "config.json"
    try:
        config = config_from_dict(saved.config, base_dir=saved.base_dir, source=source)
        _set_iterations(config, options.iterations)
        return _search(config, saved.path, fresh=False)
    except ConfigError as error:  # most likely the model, looked for in the wrong folder
        print(f"hypermax: {error.in_file(str(source))}", file=sys.stderr)
        print(
            f"(resuming {saved.path}: relative paths such as function.module were taken from "
            f"{saved.base_dir}, {saved.base_note}; if the config file was elsewhere, run "
            f"`hypermax path/to/search.json {saved.path}`)",
            file=sys.stderr,
        )
        return EXIT_CONFIG


def _search(config: Config, folder: Path | None, fresh: bool) -> int:
    """Run (or resume) the search into ``folder`` (default: the config's results folder)."""
    printer = ProgressPrinter()
    search = Search(config, listeners=[printer], results_dir=folder)  # before --fresh moves
    printer.header = (
        f"hypermax {__version__}: search {config.search.name!r}, method "
        f"{search.planner.optimizer.describe()}\nresults: {search.results_dir}"
    )
    if fresh:
        for message in start_over(config, search.results_dir):
            print(message, file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupt)  # `timeout`, Slurm, systemd stop like Ctrl-C
    try:
        result = search.run()
    except KeyboardInterrupt:
        printer.close()
        print("\nInterrupted. Run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except StorageError:
        printer.close()
        raise
    except TrialsFailing as stopped:  # everything is recorded; the message says what to fix
        printer.close()
        print(f"hypermax: {stopped}", file=sys.stderr)
        print(f"Results: {stopped.result.results_dir}")
        return EXIT_FAILED
    if config.search.objective == "pareto":
        print(front_summary(pareto_dicts(result.pareto_front, config.metrics)))
    else:
        print(best_summary(result.best))
    print(f"Results: {result.results_dir}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise Terminated


def validate(options: argparse.Namespace) -> int:
    config = _load(options.config)
    executor = executor_for(config)
    executor.start()
    executor.stop()
    space = config.space
    print(
        f"{options.config}: valid. {len(space.parameters())} parameters, "
        f"cardinality {space.cardinality():g}; method {config.search.method}, "
        f"{config.search.iterations} iterations."
    )
    return 0


def sample(options: argparse.Namespace) -> int:
    config = _load(options.config)
    history: list[Trial] = []
    if config.search.storage or (config.results_dir / SQLITE_FILENAME).exists():
        with open_storage(config, config.results_dir, create=False) as storage:
            history = storage.trials()
    # as a run would: trials cut short by a stopped run go first, then warm-start sets and
    # the method's suggestions
    for params in Planner(config).preview(history, options.n):
        print(json.dumps(params, default=str, ensure_ascii=False))
    return 0
