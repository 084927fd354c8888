"""Where trials live: SQLite by default, PostgreSQL by URL, same schema."""

from hypermax.storage.base import Storage, StorageError
from hypermax.storage.sql import SQLITE_FILENAME, SQLStorage, sqlite_url

__all__ = ["SQLITE_FILENAME", "SQLStorage", "Storage", "StorageError", "sqlite_url"]
