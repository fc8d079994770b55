"""The memory store: every part's state in dictionaries (queues' messages in native
``MemoryQueue``s) behind one lock, so a step of any part is atomic with respect to all."""

from __future__ import annotations

from rulebus.stores.base import Store
from rulebus.stores.memory.buses import MemoryBusStore
from rulebus.stores.memory.changes import Changes
from rulebus.stores.memory.idempotency import MemoryIdempotencyStore
from rulebus.stores.memory.queues import MemoryQueueStore
from rulebus.stores.memory.streams import MemoryStreamStore
from rulebus.stores.memory.tags import MemoryTagStore
from rulebus.stores.memory.topics import MemoryTopicStore

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """State in this process only; ``Broker()`` uses one. Long polls wait on the condition
    variable of the store's lock, so a send from another thread wakes them at once."""

    def __init__(self) -> None:
        changes = Changes()
        super().__init__(
            MemoryQueueStore(changes),
            MemoryTopicStore(changes),
            MemoryBusStore(changes),
            MemoryStreamStore(changes),
            MemoryIdempotencyStore(changes),
            MemoryTagStore(changes.lock),
        )
        self._changes = changes

    def version(self) -> int:
        return self._changes.current()

    def wait(self, since: int, timeout: float) -> None:
        self._changes.wait(since, timeout)

    async def wait_async(self, since: int, timeout: float) -> None:
        await self._changes.wait_async(since, timeout)
