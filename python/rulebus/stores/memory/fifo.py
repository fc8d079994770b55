"""What the memory store keeps beside a queue's messages so that its costs stay flat as it grows:
time windows (FIFO deduplication ids, ReceiveRequestAttemptIds) that lapse in the order they
were opened, and a FIFO queue's message groups filed for receiving.

Both keep only message ids and instants; the messages stay in the native ``MemoryQueue``, which
removes expired ones by itself, so what is here may name messages already gone: readers skip
those (a filing is a hint that a receive checks, see :class:`~rulebus.stores.semantics.FifoGroups`).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

from rulebus._core import MemoryQueue, StoredMessage

__all__ = ["MemoryFifoGroups", "Window"]

K = TypeVar("K")
V = TypeVar("V")


class Window(Generic[K, V]):
    """Entries that each hold until an instant of the broker's clock.

    A lookup checks the entry's own instant, so lapsed entries are never seen; they are dropped
    from the front of a queue kept in the order they were opened, so expiring costs what it drops
    rather than a scan of every entry. With a clock that only moves forward and windows of one
    length, that order is also the order they lapse in. After the clock went back the order can
    be out of step: an entry behind one that still holds waits with it, unseen, and goes when
    the clock passes that one (a delay in freeing memory, not a change in what is found)."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[float, V]] = {}
        self._opened: deque[tuple[float, K]] = deque()

    def get(self, key: K, at: float) -> V | None:
        """The entry's value if it still holds at ``at``."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > at else None

    def put(self, key: K, until: float, value: V) -> None:
        self._entries[key] = (until, value)
        self._opened.append((until, key))

    def expire(self, now: float) -> None:
        """Drop the entries that lapsed by ``now`` from the front of the opening order."""
        opened, entries = self._opened, self._entries
        while opened and opened[0][0] <= now:
            _, key = opened.popleft()
            entry = entries.get(key)
            if entry is not None and entry[0] <= now:  # (not one opened again since)
                del entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class MemoryFifoGroups:
    """A FIFO queue's message groups: per group its message ids in send order, and the groups
    filed ready (a heap by the place of their first message) or waiting (a heap by the instant
    they may be served). Implements :class:`~rulebus.stores.semantics.FifoGroups` for the queue
    ``state``; each heap entry is live only while ``_filed`` still holds it for its group."""

    def __init__(self, state: MemoryQueue) -> None:
        self._state = state
        self._members: dict[str, deque[tuple[int, str]]] = {}  # group -> (place, message id)
        self._places = itertools.count()
        self._filed: dict[str, tuple[bool, float]] = {}  # group -> (ready?, key or wake)
        self._ready: list[tuple[int, str]] = []
        self._waiting: list[tuple[float, str]] = []

    def add(self, message: StoredMessage) -> None:
        """A message was added to the queue, last in send order."""
        group = message.message_group_id or ""
        place = next(self._places)
        members = self._members.get(group)
        if members is None:
            members = self._members[group] = deque()
        members.append((place, message.message_id))
        if group not in self._filed:
            # A group already filed keeps its filing: a message behind others changes nothing.
            self.file(group, place, None)

    def touch(self, group: str | None) -> None:
        """Something may have made the group servable sooner: file it ready, to be checked."""
        group = group or ""
        members = self._members.get(group)
        if members is not None and members:
            self.file(group, members[0][0], None)

    def touch_all(self) -> None:
        for group in list(self._members):
            self.touch(group)

    def clear(self) -> None:
        self._members.clear()
        self._filed.clear()
        self._ready.clear()
        self._waiting.clear()

    # ---------------------------------------------------------------- semantics.FifoGroups

    def ready(self, now: float) -> Iterator[tuple[str, int]]:
        filed, ready, waiting = self._filed, self._ready, self._waiting
        while waiting and waiting[0][0] <= now:
            wake, group = heapq.heappop(waiting)
            if filed.get(group) == (False, wake):
                members = self._members.get(group)
                if members:
                    self.file(group, members[0][0], None)
                else:
                    self.forget(group)
        while ready:
            key, group = heapq.heappop(ready)
            if filed.get(group) == (True, key):
                del filed[group]
                yield group, key

    def messages(self, group: str) -> Iterator[tuple[int, StoredMessage]]:
        members = self._members.get(group)
        if members is None:
            return
        get = self._state.get
        # Ids of messages gone (deleted, expired, moved) are dropped from the front as met;
        # further back they are skipped, and dropped once they reach the front.
        while members and get(members[0][1]) is None:
            members.popleft()
        index = 0  # by index, not an iterator: a receive may add to the queue meanwhile
        while index < len(members):
            place, message_id = members[index]
            index += 1
            message = get(message_id)
            if message is not None:
                yield place, message

    def file(self, group: str, key: int, wake: float | None) -> None:
        if wake is None:
            self._filed[group] = (True, key)
            heapq.heappush(self._ready, (key, group))
        else:
            self._filed[group] = (False, wake)
            heapq.heappush(self._waiting, (wake, group))
        if len(self._ready) + len(self._waiting) > 2 * len(self._filed) + 64:
            self._compact()

    def _compact(self) -> None:
        """Rebuild the heaps from the live filings: superseded entries (a group filed again, as
        each receive and delete does) would otherwise pile up until their turn came."""
        self._ready = [(int(k), g) for g, (is_ready, k) in self._filed.items() if is_ready]
        self._waiting = [(k, g) for g, (is_ready, k) in self._filed.items() if not is_ready]
        heapq.heapify(self._ready)
        heapq.heapify(self._waiting)

    def forget(self, group: str) -> None:
        self._filed.pop(group, None)
        if not self._members.get(group, True):  # (emptied by ``messages``)
            del self._members[group]
