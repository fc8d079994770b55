"""The SQLite store's tags: rows of ``tags``, one per (resource ARN, key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rulebus.stores.base import TagStore
from rulebus.stores.sqlite.connection import Connections

__all__ = ["SQLiteTagStore"]


class SQLiteTagStore(TagStore):
    """Tags in the store's SQLite file, each change one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction

    def tags(self, resource: str) -> dict[str, str]:
        rows = self._connection().execute(
            "SELECT key, value FROM tags WHERE resource = ? ORDER BY key", (resource,)
        )
        return {key: value for key, value in rows.fetchall()}

    def tag_resource(self, resource: str, tags: Mapping[str, str]) -> None:
        with self._transaction() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO tags (resource, key, value) VALUES (?, ?, ?)",
                [(resource, key, value) for key, value in tags.items()],
            )

    def untag_resource(self, resource: str, keys: Sequence[str]) -> None:
        with self._transaction() as connection:
            connection.executemany(
                "DELETE FROM tags WHERE resource = ? AND key = ?", [(resource, key) for key in keys]
            )

    def delete_tags(self, resource: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM tags WHERE resource = ?", (resource,))
