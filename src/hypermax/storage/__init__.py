"""Where trials live: SQLite by default, PostgreSQL by URL, same schema."""

from hypermax.storage.base import Storage
from hypermax.storage.sql import SQLITE_FILENAME, SQLStorage, sqlite_url

__all__ = ["SQLITE_FILENAME", "SQLStorage", "Storage", "sqlite_url"]
