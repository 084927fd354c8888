"""The ``hypermax`` command: its arguments, and which module answers each command.

Exit codes: 0 done, 2 invalid config or arguments (a results folder that is not one included),
130 interrupted (run again to resume), 1 anything else: a run stopped because its first trials
all failed, a search already running, nothing to analyse, results that cannot be read or
written (disk full, a read-only folder, a corrupt database; the message says what is safe and
what to do).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from hypermax import __version__
from hypermax.analysis.names import TABLES
from hypermax.errors import (
    AnalysisError,
    ConfigError,
    NotAResultsFolder,
    SearchBusyError,
    StorageError,
)

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
    "ui",
)
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
EXIT_READER_GONE = 141  # as a shell reports a command ended by SIGPIPE (`| head`)
# each command's handler, imported only when that command runs: `hypermax --version` and
# `schema` load nothing of the search or the analysis
HANDLERS = {
    "run": "searching:run",
    "resume": "searching:resume",
    "validate": "searching:validate",
    "sample": "searching:sample",
    "export": "results:export",
    "analyze": "results:analyze",
    "predict": "results:predict",
    "suggest-fixed": "results:suggest_fixed",
    "init": "starting:init",
    "schema": "starting:schema",
    "ui": "ui:ui",
}


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

    ui = commands.add_parser(
        "ui", help="follow a running or finished search in the console UI (q quits the UI only)"
    )
    ui.add_argument(
        "location",
        help="a results folder (hypermax_results/NAME), the folder of them, or a database URL",
    )
    ui.add_argument("--search", metavar="NAME", help="which search, where there are several")
    ui.add_argument(
        "--interval", type=float, default=1.0, help="seconds between reads (default 1)"
    )
    ui.add_argument(
        "--owner",
        type=int,
        metavar="PID",
        help="the search process that opened the UI: q asks whether to stop it, s stops it",
    )
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
    module, name = HANDLERS[options.command].split(":")
    try:
        handler = getattr(importlib.import_module(f"hypermax.cli.{module}"), name)
        return int(handler(options))
    except BrokenPipeError:  # whoever read stdout stopped reading: not an error to explain
        from hypermax.progress import silence

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
