"""The ``hypermax`` command: wires config, search, storage and output together.

Exit codes: 0 done, 2 invalid config or arguments (a results folder that is not one included),
130 interrupted (run again to resume), 1 anything else: a run stopped because its first trials
all failed, a search already running, nothing to analyse, results that cannot be read or
written (disk full, a read-only folder, a corrupt database; the message says what is safe and
what to do).
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import shutil
import signal
import sys
import tempfile
import webbrowser
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from hypermax import __version__
from hypermax.analysis import AnalysisError, HyperModel, load_table
from hypermax.analysis.report import (
    TABLES,
    analyse,
    rows_as_csv,
    table_rows,
    write_pngs,
    write_report,
)
from hypermax.config import Config, config_from_dict, config_schema, load_config
from hypermax.config.loader import metric_specs
from hypermax.errors import ConfigError, ConfigIssue, SearchBusyError, Terminated
from hypermax.pareto import pareto_front
from hypermax.progress import ProgressPrinter, best_summary, front_summary, silence
from hypermax.search import Search, TrialsFailing, executor_for, open_storage, start_over
from hypermax.storage import SQLITE_FILENAME, StorageError
from hypermax.storage.base import file_error
from hypermax.storage.export import (
    best_dict,
    best_json,
    pareto_dicts,
    search_description,
    trial_dict,
    trials_csv,
)
from hypermax.storage.results import NotAResultsFolder, read_results, saved_search
from hypermax.trial import Trial, TrialStatus

COMMANDS = (
    "run",
    "resume",
    "validate",
    "sample",
    "export",
    "analyze",
    "predict",
    "suggest-fixed",
    "init",
    "schema",
)
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
EXIT_READER_GONE = 141  # as a shell reports a command ended by SIGPIPE (`| head`)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hypermax",
        description="Hyperparameter search from one config file. "
        "`hypermax search.json` runs (or resumes) the search it describes.",
    )
    parser.add_argument("--version", action="version", version=f"hypermax {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run or resume a search (the default command)")
    run.add_argument("config", type=Path, help="search.json or search.yaml")
    run.add_argument(
        "results",
        type=Path,
        nargs="?",
        help="results folder to continue the search in (its saved search name and storage); "
        "a new folder starts the search there (default: results.directory/search.name)",
    )
    run.add_argument("--no-ui", action="store_true", help="print progress only (headless)")
    run.add_argument(
        "--fresh",
        action="store_true",
        help="start over; earlier results are moved aside, never deleted",
    )
    run.add_argument(
        "--iterations",
        type=int,
        metavar="N",
        help="total trials wanted (raise it to extend a finished search)",
    )

    resume = commands.add_parser(
        "resume", help="continue the search in a results folder, from the config saved there"
    )
    resume.add_argument("results", type=Path, help="results folder, e.g. hypermax_results/name")
    resume.add_argument("--no-ui", action="store_true", help="print progress only (headless)")
    resume.add_argument(
        "--iterations",
        type=int,
        metavar="N",
        help="total trials wanted (raise it to extend a finished search)",
    )

    validate = commands.add_parser("validate", help="check a config and that its model loads")
    validate.add_argument("config", type=Path)

    sample = commands.add_parser(
        "sample",
        help="print the next parameter sets the search would try, given the results so far",
    )
    sample.add_argument("config", type=Path)
    sample.add_argument("-n", type=int, default=5, help="how many (default 5)")

    export = commands.add_parser(
        "export", help="write one piece of a search's results: trials, best, or an analysis table"
    )
    export.add_argument("results", type=Path, help="results folder, e.g. hypermax_results/name")
    export.add_argument("--format", choices=("csv", "json", "png"), default="csv")
    export.add_argument(
        "--what",
        choices=("trials", "best", "pareto", "description", *TABLES),
        default="trials",
        help="description: the search's name, method and hypermax_results, as JSON",
    )
    export.add_argument(
        "--output",
        "-o",
        type=Path,
        help="file to write (default: stdout); for png, a folder (default .)",
    )

    analyze = commands.add_parser(
        "analyze", help="write an HTML report, PNG charts and CSV tables into RESULTS/analysis/"
    )
    analyze.add_argument("results", type=Path)
    analyze.add_argument("--output", "-o", type=Path, help="folder (default RESULTS/analysis)")
    analyze.add_argument("--open", action="store_true", help="open the report when written")

    predict = commands.add_parser("predict", help="the hyper-model's loss for parameters")
    predict.add_argument("results", type=Path)
    predict.add_argument(
        "--params",
        required=True,
        help="parameters as JSON, nested as the model gets them: '{\"lr\": 0.01}'",
    )

    fixed = commands.add_parser(
        "suggest-fixed",
        help="the best values of the other parameters, by the hyper-model, with some held fixed",
    )
    fixed.add_argument("results", type=Path)
    fixed.add_argument(
        "--fix",
        action="append",
        required=True,
        metavar="NAME=VALUE",
        help="a flat parameter name and value (JSON or text); repeatable",
    )

    init = commands.add_parser("init", help="write a working search.json and model.py")
    init.add_argument("directory", type=Path, nargs="?", default=Path("."))
    init.add_argument("--force", action="store_true", help="overwrite existing files")

    commands.add_parser("schema", help="print the JSON Schema of config files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] not in COMMANDS and not arguments[0].startswith("-"):
        arguments.insert(0, "run")
    parser = _parser()
    options = parser.parse_args(arguments)
    if options.command is None:
        parser.print_help()
        return EXIT_CONFIG
    handler = {
        "run": _run,
        "resume": _resume,
        "validate": _validate,
        "sample": _sample,
        "export": _export,
        "analyze": _analyze,
        "predict": _predict,
        "suggest-fixed": _suggest_fixed,
        "init": _init,
        "schema": _schema,
    }[options.command]
    try:
        return handler(options)
    except BrokenPipeError:  # whoever read stdout stopped reading: not an error to explain
        silence(sys.stdout)
        return EXIT_READER_GONE
    except ConfigError as error:
        config = getattr(options, "config", None)
        print(f"hypermax: {error.in_file(str(config)) if config else error}", file=sys.stderr)
        return EXIT_CONFIG
    except NotAResultsFolder as error:  # a wrong argument, like a config error
        print(f"hypermax {options.command}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (SearchBusyError, AnalysisError, StorageError) as error:
        print(f"hypermax {options.command}: {error}", file=sys.stderr)
        return EXIT_FAILED


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


def _run(options: argparse.Namespace) -> int:
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


def _resume(options: argparse.Namespace) -> int:
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
        f"{search.optimizer.describe()}\nresults: {search.results_dir}"
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


def _validate(options: argparse.Namespace) -> int:
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


def _sample(options: argparse.Namespace) -> int:
    config = _load(options.config)
    history: list[Trial] = []
    if config.search.storage or (config.results_dir / SQLITE_FILENAME).exists():
        with open_storage(config, config.results_dir, create=False) as storage:
            history = storage.trials()
    # as a run would: trials cut short by a stopped run go first, then warm-start sets and
    # the method's suggestions
    reruns = [t.params for t in history if t.status is TrialStatus.INTERRUPTED][: options.n]
    for trial in history:
        if trial.status is TrialStatus.INTERRUPTED:
            trial.status = TrialStatus.RUNNING
    wanted = options.n - len(reruns)
    suggested = Search(config).upcoming(history, wanted) if wanted else []
    for params in reruns + [config.space.model_params(flat) for flat in suggested]:
        print(json.dumps(params, default=str, ensure_ascii=False))
    return 0


def _export(options: argparse.Namespace) -> int:
    if options.format == "png":
        return _export_png(options)
    if options.what == "description":  # JSON whatever --format says: it nests
        about = search_description(read_results(options.results).config)
        return _write(json.dumps(about, indent=2, ensure_ascii=False) + "\n", options.output)
    if options.what in TABLES:
        needs_model = options.what in ("importance", "hotspots")
        analysis = analyse(load_table(options.results), with_model=needs_model)
        rows = table_rows(analysis, options.what)
        text = rows_as_csv(rows) if options.format == "csv" else _json_text(rows)
        return _write(text, options.output)
    trials = read_results(options.results).trials
    if options.what == "best":
        best = best_dict(trials)
        if best is None:
            raise AnalysisError("no trial has succeeded yet")
        text = (
            best_json(best)
            if options.format == "json"
            else trials_csv([t for t in trials if t.number == best["trial"]])
        )
    elif options.what == "pareto":
        metrics = metric_specs(read_results(options.results).config)
        if len(metrics) < 2:
            raise AnalysisError("a Pareto front needs two or more metrics in the search's config")
        front = pareto_front(trials, metrics)
        text = (
            _json_text(pareto_dicts(front, metrics))
            if options.format == "json"
            else trials_csv(front)
        )
    elif options.format == "csv":
        text = trials_csv(trials)
    else:
        trial_list = [trial_dict(t) for t in trials]
        text = json.dumps(trial_list, indent=2, default=str, ensure_ascii=False) + "\n"
    return _write(text, options.output)


def _json_text(rows: list[dict]) -> str:
    """JSON with null where a figure is undefined (JSON has no NaN)."""

    def clean(value: object) -> object:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    safe = [{key: clean(value) for key, value in row.items()} for row in rows]
    return json.dumps(safe, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _write(text: str, output: Path | None) -> int:
    if output:
        try:
            output.write_text(text, "utf-8")
        except OSError as error:
            raise file_error(error, output) from error
    else:
        sys.stdout.write(text)
    return 0


PNG_PREFIXES = {
    "trials": "history",
    "importance": "importance",
    "hotspots": "hotspot-",
    "slices": "slice-",
}


def _export_png(options: argparse.Namespace) -> int:
    if options.what not in PNG_PREFIXES:
        print(
            f"hypermax export: there is no chart for {options.what!r}; use --format csv or "
            f"json, or --what {' / '.join(PNG_PREFIXES)}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    needs_model = options.what in ("importance", "hotspots")
    analysis = analyse(load_table(options.results), with_model=needs_model)
    if needs_model and analysis.model is None:
        raise AnalysisError(" ".join(analysis.notes))
    folder = options.output or Path(".")
    with tempfile.TemporaryDirectory() as scratch:
        written = [
            p
            for p in write_pngs(analysis, Path(scratch))
            if p.name.startswith(PNG_PREFIXES[options.what])
        ]
        folder.mkdir(parents=True, exist_ok=True)
        for path in written:
            shutil.copy(path, folder / path.name)
            print(folder / path.name)
    return 0


def _analyze(options: argparse.Namespace) -> int:
    folder = options.output or options.results / "analysis"
    analysis = analyse(load_table(options.results))
    try:
        page = write_report(analysis, folder)
    except OSError as error:
        raise StorageError(
            f"the report cannot be written into {folder}: {error.strerror or error}; write it "
            "elsewhere with --output FOLDER"
        ) from error
    print(f"Wrote {page} (charts in {folder / 'png'}, tables in {folder / 'csv'})")
    if options.open:
        webbrowser.open(page.resolve().as_uri())
    return 0


def _hypermodel(folder: Path) -> HyperModel:
    return HyperModel(load_table(folder))


def _predict(options: argparse.Namespace) -> int:
    model = _hypermodel(options.results)
    try:
        nested = json.loads(options.params)
    except ValueError as error:
        raise AnalysisError(
            f"--params is not JSON ({error}); write it nested as the model gets it: "
            "'{\"lr\": 0.01}'"
        ) from None
    space = model.table.space
    if space is None:
        flat = nested
    else:
        unknown = space.unknown_keys(nested)
        if unknown:
            path, key, known = unknown[0]
            hint = difflib.get_close_matches(key, known, n=1)
            advice = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(known)}"
            where = f"{path}.{key}" if path else key
            raise AnalysisError(f"--params: {where}: not a parameter of this search; {advice}")
        try:
            flat = space.flatten(nested)
        except ValueError as error:  # names the parameter, the value and what is allowed
            raise AnalysisError(f"--params does not fit the search space: {error}") from None
    loss, seconds = model.predict(flat)
    print(json.dumps({"loss": loss, "time": seconds, "model_r2": model.r2}))
    return 0


def _fixed_value(model: HyperModel, name: str, text: str) -> object:
    """The value as JSON (0.01, true, "a") if the space allows it, else as plain text (an
    enum's "1"); where neither fits, the complaint about the JSON value, or about the text
    where it is not JSON."""
    try:
        value = json.loads(text)
    except ValueError:
        model.check({name: text}, complete=False)  # raises the space's own complaint
        return text
    try:
        model.check({name: value}, complete=False)
        return value
    except AnalysisError as error:
        try:
            model.check({name: text}, complete=False)
        except AnalysisError:
            raise error from None
        return text


def _suggest_fixed(options: argparse.Namespace) -> int:
    model = _hypermodel(options.results)
    fixed = {}
    for item in options.fix:
        name, separator, text = item.partition("=")
        if not separator:
            raise AnalysisError(f"--fix {item!r}: write NAME=VALUE, e.g. --fix lr=0.01")
        fixed[name] = _fixed_value(model, name, text)
    params, loss = model.best_with_fixed(fixed)
    result = {"params": params, "predicted_loss": loss, "model_r2": model.r2}
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _init(options: argparse.Namespace) -> int:
    target: Path = options.directory
    target.mkdir(parents=True, exist_ok=True)
    templates = resources.files("hypermax").joinpath("templates")
    names = ("search.json", "model.py")
    existing = [n for n in names if (target / n).exists()]
    if existing and not options.force:
        raise ConfigError(
            ConfigIssue(
                "init",
                f"{', '.join(existing)} already exist in {target}; use --force to overwrite",
            )
        )
    for name in names:
        (target / name).write_text(templates.joinpath(name).read_text("utf-8"), "utf-8")
    print(
        f"Wrote {target / 'search.json'} and {target / 'model.py'}. "
        f"Run: hypermax {target / 'search.json'}"
    )
    return 0


def _schema(options: argparse.Namespace) -> int:
    print(json.dumps(config_schema(), indent=2))
    return 0
