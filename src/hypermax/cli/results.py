"""The commands that read a finished (or running) search: export, analyze, predict,
suggest-fixed."""

from __future__ import annotations

import argparse
import difflib
import json
import math
import shutil
import sys
import tempfile
import webbrowser
from pathlib import Path

from hypermax.analysis import HyperModel, load_table
from hypermax.analysis.names import TABLES
from hypermax.analysis.report import analyse, rows_as_csv, table_rows, write_pngs, write_report
from hypermax.cli import EXIT_CONFIG
from hypermax.config.loader import metric_specs
from hypermax.errors import AnalysisError, StorageError
from hypermax.pareto import pareto_front
from hypermax.storage.base import file_error
from hypermax.storage.export import (
    best_dict,
    best_json,
    pareto_dicts,
    search_description,
    trial_dict,
    trials_csv,
)
from hypermax.storage.results import read_results


def export(options: argparse.Namespace) -> int:
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


def analyze(options: argparse.Namespace) -> int:
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


def predict(options: argparse.Namespace) -> int:
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


def suggest_fixed(options: argparse.Namespace) -> int:
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
