"""Which storage a search uses, by the scheme of its database URL.

SQL databases (SQLite, PostgreSQL, MySQL/MariaDB, or any other URL SQLAlchemy reaches) share
one implementation; a storage of another kind registers its schemes with ``register_storage``
and its module in ``STORAGE_MODULES``, and nothing else changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hypermax.storage.base import Storage
from hypermax.storage.sql import SQLStorage, results_lock_path, sqlite_url

if TYPE_CHECKING:
    from hypermax.config import Config

# URL scheme -> the module that registers a storage for it (SQL needs no entry)
STORAGE_MODULES: dict[str, str] = {}

StorageFactory = Callable[[str, str, bool, "Path | None"], Storage]

_FACTORIES: dict[str, StorageFactory] = {}


def register_storage(*schemes: str) -> Callable[[StorageFactory], StorageFactory]:
    """Make ``factory(url, search_name, create, lock_path)`` the storage of ``schemes``."""

    def add(factory: StorageFactory) -> StorageFactory:
        _FACTORIES.update(dict.fromkeys(schemes, factory))
        return factory

    return add


def storage_for(
    url: str, search_name: str, create: bool = True, lock_path: Path | None = None
) -> Storage:
    """The storage of search ``search_name`` in the database at ``url``. ``create=False``
    reads only. ``lock_path``: where a file database's run lock lives."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in _FACTORIES and scheme in STORAGE_MODULES:
        importlib.import_module(STORAGE_MODULES[scheme])
    factory = _FACTORIES.get(scheme, SQLStorage)
    return factory(url, search_name, create, lock_path)


def open_storage(config: Config, results_dir: Path, create: bool = True) -> Storage:
    """The search's storage: ``search.storage`` if set, else SQLite in the results folder
    (whose run lock lives beside the folder). ``create=False`` reads only."""
    if config.search.storage:
        return storage_for(config.search.storage, config.search.name, create)
    return storage_for(
        sqlite_url(results_dir), config.search.name, create, results_lock_path(results_dir)
    )
