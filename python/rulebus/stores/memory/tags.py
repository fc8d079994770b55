"""The memory store's tags, by resource ARN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager

from rulebus.stores.base import TagStore

__all__ = ["MemoryTagStore"]


class MemoryTagStore(TagStore):
    """Tags in a dict of dicts, every step under the given lock (the memory store's one lock)."""

    def __init__(self, lock: AbstractContextManager[object]) -> None:
        self._lock = lock
        self._tags: dict[str, dict[str, str]] = {}

    def tags(self, resource: str) -> dict[str, str]:
        with self._lock:
            return dict(self._tags.get(resource, {}))

    def tag_resource(self, resource: str, tags: Mapping[str, str]) -> None:
        with self._lock:
            self._tags.setdefault(resource, {}).update(tags)

    def untag_resource(self, resource: str, keys: Sequence[str]) -> None:
        with self._lock:
            held = self._tags.get(resource)
            if held is None:
                return
            for key in keys:
                held.pop(key, None)
            if not held:
                del self._tags[resource]

    def delete_tags(self, resource: str) -> None:
        with self._lock:
            self._tags.pop(resource, None)
