"""A results folder: making one for a run, reading one from any process, and finding the
search saved in one to continue it without its config file (``hypermax resume``)."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypermax.errors import ConfigError, ConfigIssue, NotAResultsFolder
from hypermax.storage.base import StorageError, file_error
from hypermax.storage.sql import SQLITE_FILENAME, SQLStorage, sqlite_url
from hypermax.trial import Trial

# where the config came from, so that a search resumed from its folder alone finds its model
ORIGIN_FILENAME = "origin.json"
DEFAULT_RESULTS_DIRECTORY = "hypermax_results"  # as in config.model, without importing config


@dataclass
class SavedSearch:
    """The search saved in a results folder, as ``hypermax resume`` continues it.

    ``config`` is the saved (resolved) config; ``base_dir`` the folder its relative paths
    (``function.module``, ``src``, an executable, ``seed_from``) are taken from, and
    ``base_note`` how that folder was found, for messages when the model cannot be loaded.
    """

    path: Path
    config: dict[str, Any]
    base_dir: Path
    base_note: str


def origin_record(config_dir: Path, config_file: Path | None, version: str) -> dict[str, Any]:
    """What ``origin.json`` holds: the config's folder and file, absolute."""
    return {
        "config_dir": str(config_dir.resolve()),
        "config_file": str(config_file.resolve()) if config_file is not None else None,
        "hypermax_version": version,
    }


def saved_search(folder: Path) -> SavedSearch:
    """The search saved in ``folder``, to continue it; NotAResultsFolder when there is none.

    The base folder is the config's folder recorded in ``origin.json``; for folders written
    before hypermax recorded it (or whose config folder is gone), the folder that holds
    ``results.directory``: ``hypermax_results/NAME``'s grandparent by default.
    """
    folder = folder.resolve()
    config = _saved_config(folder)
    search = config.get("search", {})
    database = search.get("storage") or (folder / SQLITE_FILENAME).exists()
    if not database and (folder / "trials.csv").exists():  # resuming would start over
        raise NotAResultsFolder(_without_database(folder))
    origin = _read_origin(folder)
    recorded = origin.get("config_dir")
    if isinstance(recorded, str) and Path(recorded).is_dir():
        where = origin.get("config_file") or recorded
        return SavedSearch(
            folder,
            config,
            Path(recorded),
            f"recorded in {ORIGIN_FILENAME}: the search was started from {where}",
        )
    base, how = _base_from_layout(folder, config)
    if isinstance(recorded, str):
        how = f"{ORIGIN_FILENAME} names {recorded}, which does not exist here; {how}"
    return SavedSearch(folder, config, base, how)


def _saved_config(folder: Path) -> dict[str, Any]:
    if not folder.exists():
        raise NotAResultsFolder(
            f"{folder} does not exist; give the results folder of a search, such as "
            "hypermax_results/<search name> (to start a search: hypermax search.json)"
        )
    config = _config_json(folder)
    if not isinstance(config, dict) or "hyperparameters" not in config:
        raise NotAResultsFolder(
            f"{folder / 'config.json'} is not the config of a hypermax search (it has no "
            "hyperparameters); give a folder such as hypermax_results/<search name>"
        )
    return config


def _config_json(folder: Path) -> Any:
    """The config saved in a results folder, as JSON; NotAResultsFolder when it has none."""
    saved = folder / "config.json"
    if not saved.is_file():
        raise NotAResultsFolder(not_a_results_folder(folder))
    try:
        return json.loads(saved.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise StorageError(f"{saved} cannot be read: {error}") from error


def _read_origin(folder: Path) -> dict[str, Any]:
    try:
        origin = json.loads((folder / ORIGIN_FILENAME).read_text("utf-8"))
    except (OSError, ValueError):  # absent (an earlier version wrote the folder) or damaged
        return {}
    return origin if isinstance(origin, dict) else {}


def _base_from_layout(folder: Path, config: dict[str, Any]) -> tuple[Path, str]:
    """The folder holding ``results.directory``, from where the results folder lies."""
    directory = str(config.get("results", {}).get("directory", DEFAULT_RESULTS_DIRECTORY))
    parts = Path(os.path.normpath(directory)).parts
    above = folder.parent.parts
    relative = not Path(directory).is_absolute() and ".." not in parts and parts != (".",)
    if relative and len(above) > len(parts) and above[-len(parts) :] == parts:
        base = folder.parent.parents[len(parts) - 1]
        return base, (
            f"taken as the folder holding results.directory ({directory!r}), since this "
            f"results folder has no {ORIGIN_FILENAME} (an earlier hypermax wrote it)"
        )
    return folder.parent.parent, (
        f"guessed as the results folder's grandparent, since it has no {ORIGIN_FILENAME} (an "
        f"earlier hypermax wrote it) and does not lie in results.directory ({directory!r})"
    )


def not_a_results_folder(folder: Path) -> str:
    """Why ``folder`` is no results folder, naming the results folders inside it if any."""
    text = (
        f"{folder} is not a hypermax results folder (it has no config.json); give a folder "
        "such as hypermax_results/<search name>"
    )
    if folder.is_dir():  # the folder above the results folders, or the one above that
        inside = sorted(str(p.parent.relative_to(folder)) for p in folder.glob("*/config.json"))
        inside = inside or sorted(
            str(p.parent.relative_to(folder)) for p in folder.glob("*/*/config.json")
        )
        if inside:
            shown = ", ".join(inside[:5]) + (", ..." if len(inside) > 5 else "")
            text += f"; it holds the results folders {shown}: e.g. {folder / inside[0]}"
    return text


@dataclass
class ResultsFolder:
    """A search's results as saved: the resolved config and every trial."""

    path: Path
    config: dict[str, Any]
    trials: list[Trial]


def make_results_dir(folder: Path, lock_beside: bool = True) -> None:
    """Create a run's results folder, or say clearly why it cannot be written.

    With ``lock_beside``, its parent must be writable too: the run lock lives there.
    """
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(
            ConfigIssue(
                "results.directory",
                f"{existing} is a file, so the results cannot go into {folder}; set "
                "results.directory to a folder (it is created when missing)",
            )
        )
    needed = (folder, folder.parent) if lock_beside else (folder,)
    for place in needed if existing == folder else (existing,):
        if not os.access(place, os.W_OK):
            raise StorageError(
                f"{place} is read-only: the results of this search cannot be saved in "
                f"{folder}; make it writable, or set results.directory to another folder"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise file_error(error, folder, "created") from error


def read_results(folder: Path) -> ResultsFolder:
    """Load a results folder (its database may be SQLite inside it or PostgreSQL) without
    changing anything in it: a read-only folder reads as well as any."""
    config = _config_json(folder)
    search = config.get("search", {})
    if not search.get("storage") and not (folder / SQLITE_FILENAME).exists():
        raise NotAResultsFolder(_without_database(folder))
    url = search.get("storage") or sqlite_url(folder.resolve())
    try:
        with SQLStorage(url, search.get("name", folder.name), create=False) as storage:
            trials = storage.trials()
    except ConfigError as error:  # the saved config's database, not the user's config
        raise StorageError(f"the trials of {folder} cannot be read: {error.issues[0]}") from None
    return ResultsFolder(folder, config, trials)


def _without_database(folder: Path) -> str:
    listed = folder / "trials.csv"
    count = 0
    if listed.exists():
        with open(listed, encoding="utf-8", newline="") as rows:
            count = max(sum(1 for _ in csv.reader(rows)) - 1, 0)
    found = f"; its trials.csv lists {count} trials" if listed.exists() else ""
    return (
        f"{folder} has no database ({SQLITE_FILENAME} is missing){found}, and hypermax reads "
        f"trials from the database: copy {SQLITE_FILENAME} back into the folder (open "
        "trials.csv in a spreadsheet or pandas to see the trials without it)"
    )
