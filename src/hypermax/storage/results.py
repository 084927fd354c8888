"""A results folder: making one for a run, and reading one from any process."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypermax.errors import ConfigError, ConfigIssue
from hypermax.storage.base import StorageError, file_error
from hypermax.storage.sql import SQLITE_FILENAME, SQLStorage, sqlite_url
from hypermax.trial import Trial


class NotAResultsFolder(ValueError):
    """The folder holds no hypermax search."""


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
    saved = folder / "config.json"
    if not saved.exists():
        raise NotAResultsFolder(
            f"{folder} is not a hypermax results folder (it has no config.json); give a folder "
            "such as hypermax_results/<search name>"
        )
    try:
        config = json.loads(saved.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise StorageError(f"{saved} cannot be read: {error}") from error
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
