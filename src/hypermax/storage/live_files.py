"""The files of a results folder people and scripts read while a search runs: ``config.json``,
``origin.json``, ``trials.csv``, ``best.json`` and, for Pareto searches, ``pareto.json``.

Storage is the source of truth and is written on every change; these files are views of it,
rewritten at most once a second while trials stream in (each rewrite is O(trials)), and always
at the start and the end of a run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypermax.pareto import pareto_front
from hypermax.storage.export import pareto_dicts, write_atomic, write_results_files
from hypermax.storage.results import ORIGIN_FILENAME, origin_record
from hypermax.trial import Trial

if TYPE_CHECKING:
    from hypermax.config import Config

REFRESH_INTERVAL = 1.0


def config_to_save(config: Config) -> dict[str, Any]:
    """The config as a run records it: its own, with the search's name and storage filled in
    (a results folder's config may set the storage; the one in use is what counts)."""
    search_section = {**config.raw.get("search", {}), "name": config.search.name}
    search_section.pop("storage", None)
    if config.search.storage:
        search_section["storage"] = config.search.storage
    return {**config.raw, "search": search_section}


class LiveFiles:
    """Keeps one results folder's files current for one run of ``config``."""

    def __init__(self, folder: Path, config: Config):
        self.folder = folder
        self.config = config
        self._written = 0.0

    def save_config(self, saved: dict[str, Any], version: str) -> None:
        """``config.json``, and ``origin.json``: the config's folder and file, for
        ``hypermax resume`` to find the model. A search resumed from its folder's own
        config.json keeps the origin it has."""
        write_atomic(self.folder / "config.json", _json(saved))
        path = self.folder / ORIGIN_FILENAME
        source = self.config.source
        resumed = (
            source is not None and source.resolve() == (self.folder / "config.json").resolve()
        )
        if resumed and path.exists():
            return
        record = origin_record(self.config.base_dir, None if resumed else source, version)
        write_atomic(path, _json(record))

    def refresh(self, trials: list[Trial], force: bool = False) -> None:
        """Rewrite the trial files, unless they were written less than a second ago."""
        now = time.monotonic()
        if force or now - self._written >= REFRESH_INTERVAL:
            write_results_files(self.folder, trials)
            if self.config.search.objective == "pareto":
                front = pareto_dicts(self.front(trials), self.config.metrics)
                write_atomic(self.folder / "pareto.json", _json(front))
            self._written = now

    def front(self, trials: list[Trial]) -> list[Trial]:
        """The Pareto front of a Pareto search; empty for a scalar one."""
        if self.config.search.objective != "pareto":
            return []
        return pareto_front(trials, self.config.metrics)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"
