"""Reading a results folder from any process: its saved config and its trials."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypermax.storage.sql import SQLStorage, sqlite_url
from hypermax.trial import Trial


class NotAResultsFolder(ValueError):
    """The folder holds no hypermax search."""


@dataclass
class ResultsFolder:
    """A search's results as saved: the resolved config and every trial."""

    path: Path
    config: dict[str, Any]
    trials: list[Trial]


def read_results(folder: Path) -> ResultsFolder:
    """Load a results folder (its database may be SQLite inside it or PostgreSQL)."""
    saved = folder / "config.json"
    if not saved.exists():
        raise NotAResultsFolder(
            f"{folder} is not a hypermax results folder (it has no config.json); give a folder "
            "such as hypermax_results/<search name>"
        )
    config = json.loads(saved.read_text("utf-8"))
    search = config.get("search", {})
    url = search.get("storage") or sqlite_url(folder.resolve())
    with SQLStorage(url, search.get("name", folder.name), create=False) as storage:
        trials = storage.trials()
    return ResultsFolder(folder, config, trials)
