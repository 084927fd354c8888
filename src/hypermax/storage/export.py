"""Trials as files: ``trials.csv``, ``best.json`` and JSON exports, written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hypermax.loss import MetricSpec
from hypermax.storage.base import file_error
from hypermax.trial import Trial, best_trial

# config.json records search.storage, which may hold a database password
PRIVATE_FILES = frozenset({"config.json"})


def _ordered_keys(dicts: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for entry in dicts:
        keys.update(dict.fromkeys(entry))
    return list(keys)


def trials_csv(trials: list[Trial]) -> str:
    """CSV text: fixed columns, then every metric, metadata key and flat parameter.

    A name already taken by an earlier column gets its kind as a prefix (``param.loss`` for a
    hyperparameter named ``loss``), so no value ever hides another.
    """
    columns: dict[str, Callable[[Trial], Any]] = {
        "trial": lambda t: t.number,
        "status": lambda t: t.status.value,
        "loss": lambda t: t.loss,
        "time": lambda t: t.time,
        "error": lambda t: t.error,
    }
    sources: list[tuple[str, Callable[[Trial], dict[str, Any]]]] = [
        ("metric", lambda t: t.metrics),
        ("metadata", lambda t: t.metadata),
        ("param", lambda t: t.flat),
    ]
    for kind, values_of in sources:
        for key in _ordered_keys([values_of(t) for t in trials]):
            name = key if key not in columns else f"{kind}.{key}"
            columns[name] = _reader(values_of, key)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for trial in trials:
        writer.writerow([_cell(read(trial)) for read in columns.values()])
    return buffer.getvalue()


def _reader(values_of: Callable[[Trial], dict[str, Any]], key: str) -> Callable[[Trial], Any]:
    return lambda trial: values_of(trial).get(key)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def trial_dict(trial: Trial) -> dict[str, Any]:
    """A JSON-ready view of one trial."""
    return {
        "trial": trial.number,
        "status": trial.status.value,
        "loss": trial.loss,
        "params": trial.params,
        "flat_params": trial.flat,
        "metrics": trial.metrics,
        "metadata": trial.metadata,
        "time": trial.time,
        "measured_time": trial.measured_time,
        "started_at": trial.started_at.isoformat() if trial.started_at else None,
        "finished_at": trial.finished_at.isoformat() if trial.finished_at else None,
        "error": trial.error,
        "traceback": trial.traceback,
        "log": trial.log_path,
        "resources": trial.resources,
        "intermediate": [list(report) for report in trial.intermediate],  # [step, value]
    }


def best_dict(trials: list[Trial]) -> dict[str, Any] | None:
    best = best_trial(trials)
    if best is None:
        return None
    return {
        "trial": best.number,
        "loss": best.loss,
        "params": best.params,
        "metrics": best.metrics,
        "time": best.time,
    }


def pareto_dicts(front: list[Trial], metrics: Mapping[str, MetricSpec]) -> list[dict[str, Any]]:
    """The Pareto front as saved in ``pareto.json``: each trial's metrics as measured."""
    return [
        {
            "trial": trial.number,
            "metrics": {
                name: trial.time if spec.type == "time" else trial.metrics.get(name)
                for name, spec in metrics.items()
            },
            "params": trial.params,
        }
        for trial in front
    ]


def search_description(config: Mapping[str, Any]) -> dict[str, Any]:
    """What describes a search, from its saved ``config.json``: its name, its method as
    written, and the original Hypermax's ``hypermax_results`` ({} when it has none). What
    ``hypermax export DIR --what description`` writes and the report's header shows."""
    search = config.get("search", {})
    return {
        "search": search.get("name"),
        "method": search.get("method", "auto"),
        "hypermax_results": dict(config.get("hypermax_results", {})),
    }


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers never see half a file.

    The file gets the mode the umask gives new files, except the PRIVATE_FILES: 0600 always.
    A failed write (disk full, read-only folder) leaves the previous file and raises a
    StorageError that says so.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    mode = 0o600 if path.name in PRIVATE_FILES else 0o666  # the kernel applies the umask
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as error:
        raise file_error(error, path) from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise file_error(error, path) from error
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_results_files(results_dir: Path, trials: list[Trial]) -> None:
    """Keep ``trials.csv`` and ``best.json`` of a results folder current."""
    write_atomic(results_dir / "trials.csv", trials_csv(trials))
    best = best_dict(trials)
    if best is not None:
        write_atomic(results_dir / "best.json", best_json(best))


def best_json(best: dict[str, Any]) -> str:
    """``best.json`` as people read it: parameter names as written, not ``\\u`` escapes."""
    return json.dumps(best, indent=2, ensure_ascii=False) + "\n"
