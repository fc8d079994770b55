"""A store that is only the protocol: the third backend of the store contract suite.

``DelegatingStore`` wraps a ``MemoryStore`` and has, per part, exactly the abstract methods of
that part's protocol (``QueueStore``, ``TopicStore``...), each forwarding the call; every other
method is the protocol's generic default. A service that reaches past the protocol (a private
attribute of the memory store, a method no protocol declares) fails on it with AttributeError,
and the memory store's fast paths (``put_plain_many``, ``put_notifications``,
``put_messages_many``) are replaced by the defaults, which the suite thereby exercises.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from rulebus.stores import MemoryStore, Store
from rulebus.stores.base import BusStore, IdempotencyStore, QueueStore, StreamStore, TagStore, TopicStore

__all__ = ["DelegatingStore"]

P = TypeVar("P")


def _forward(name: str) -> Callable[..., Any]:
    def forward(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._target, name)(*args, **kwargs)

    forward.__name__ = name
    return forward


def _delegating(protocol: type[P]) -> Callable[[P], P]:
    """A subclass of ``protocol`` whose abstract methods forward to the object it wraps."""
    namespace: dict[str, Any] = {name: _forward(name) for name in sorted(protocol.__abstractmethods__)}  # type: ignore[attr-defined]

    def __init__(self: Any, target: P) -> None:
        self._target = target

    namespace["__init__"] = __init__
    return type(f"Delegating{protocol.__name__}", (protocol,), namespace)


_QUEUES = _delegating(QueueStore)
_TOPICS = _delegating(TopicStore)
_BUSES = _delegating(BusStore)
_STREAMS = _delegating(StreamStore)
_IDEMPOTENCY = _delegating(IdempotencyStore)
_TAGS = _delegating(TagStore)


class DelegatingStore(Store):
    """Only the ``Store`` boundary of the ``MemoryStore`` it wraps."""

    def __init__(self, target: Store | None = None) -> None:
        inner = target if target is not None else MemoryStore()
        super().__init__(
            _QUEUES(inner.queues),
            _TOPICS(inner.topics),
            _BUSES(inner.buses),
            _STREAMS(inner.streams),
            _IDEMPOTENCY(inner.idempotency),
            _TAGS(inner.tags),
        )
        self._target = inner

    def version(self) -> int:
        return self._target.version()

    def wait(self, since: int, timeout: float) -> None:
        self._target.wait(since, timeout)

    def close(self) -> None:
        self._target.close()
