"""``--fresh``: a search starts over, its earlier results moved aside, never deleted."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hypermax.storage.base import Storage, file_error
from hypermax.storage.registry import open_storage
from hypermax.storage.results import make_results_dir
from hypermax.storage.sql import file_lock, results_lock_path

if TYPE_CHECKING:
    from hypermax.config import Config


def start_over(config: Config, folder: Path | None = None) -> list[str]:
    """Move earlier results aside; says what moved where. ``folder``: the results folder,
    when not the config's.

    Under the run lock, so the results of a run in progress are never moved: that run keeps
    them and this one is refused, as a second run is."""
    folder = folder or config.results_dir
    make_results_dir(folder.parent, lock_beside=False)  # where the lock and the folder live
    if config.search.storage:
        with open_storage(config, folder) as storage, storage.writer_lock():
            return _move_aside(config, folder, storage)
    with file_lock(results_lock_path(folder), config.search.name):
        return _move_aside(config, folder, None)


def _move_aside(config: Config, folder: Path, storage: Storage | None) -> list[str]:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    moved = []
    suffix, counter = stamp, 1
    while folder.with_name(f"{folder.name}.old-{suffix}").exists():
        suffix, counter = f"{stamp}-{counter}", counter + 1
    if folder.exists():
        target = folder.with_name(f"{folder.name}.old-{suffix}")
        try:
            folder.rename(target)  # same parent: atomic, never a copy
        except OSError as error:
            raise file_error(error, folder, "moved aside") from error
        moved.append(f"earlier results moved to {target}")
    if storage is not None and storage.trials():
        storage.rename_search(f"{config.search.name}.old-{suffix}")
        moved.append(f"earlier trials in the database renamed to {storage.search_name!r}")
    return moved
