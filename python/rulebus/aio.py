"""rulebus for asyncio: the same broker and queues, with calls to await.

A long poll (``await queue.receive(wait_seconds=20)``) awaits the store's change signal instead of
holding a thread, so one event loop serves any number of waiting receives: what a web server
answering SQS clients, or a FastAPI service consuming queues, needs. Every other call is the
synchronous one, awaited: on the memory store it runs on the loop (each step holds the store's
lock for microseconds); on a store that may wait for a lock held by another process (SQLite),
on a worker thread, so the loop never stalls on it.

::

    async with AsyncBroker() as broker:
        queue = await broker.queue("jobs")
        await queue.send("hello")
        messages = await queue.receive(wait_seconds=20)

Long polling as Amazon SQS does it: Amazon SQS Developer Guide, "Amazon SQS short and long polling".
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from rulebus.broker import Broker
from rulebus.sqs.queue import Message, Queue
from rulebus.stores.memory import MemoryStore

__all__ = ["AsyncBroker", "AsyncQueue"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _awaited(
    method: Callable[Concatenate[Queue, _P], _R],
) -> Callable[Concatenate[AsyncQueue, _P], Coroutine[Any, Any, _R]]:
    """``Queue.method`` as a coroutine method of AsyncQueue (see the module's doc for where it runs)."""

    name = method.__name__

    async def call(self: AsyncQueue, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        bound: Callable[_P, _R] = getattr(self.sync, name)  # the queue's own (a subclass's)
        if self.offload:
            return await asyncio.to_thread(bound, *args, **kwargs)
        return bound(*args, **kwargs)

    functools.update_wrapper(call, method)
    return call


class AsyncQueue:
    """A :class:`~rulebus.sqs.queue.Queue` for asyncio: the same methods, awaited."""

    def __init__(self, queue: Queue, offload: bool) -> None:
        #: The synchronous queue this one awaits.
        self.sync = queue
        #: Whether calls run on a worker thread (a store that may wait for another process's lock).
        self.offload = offload

    def __repr__(self) -> str:
        return f"AsyncQueue({self.sync.name!r})"

    @property
    def name(self) -> str:
        return self.sync.name

    @property
    def arn(self) -> str:
        return self.sync.arn

    @property
    def url(self) -> str:
        return self.sync.url

    async def receive(
        self,
        max_messages: int = 1,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
        attribute_names: Sequence[str] | None = None,
        message_attribute_names: Sequence[str] | None = None,
        receive_request_attempt_id: str | None = None,
    ) -> list[Message]:
        """ReceiveMessage (see :meth:`Queue.receive <rulebus.sqs.queue.Queue.receive>`); a long
        poll holds no thread while it waits."""
        return await self.sync.receive_async(
            max_messages,
            wait_seconds,
            visibility_timeout,
            attribute_names,
            message_attribute_names,
            receive_request_attempt_id,
        )

    async def set_attributes(self, attributes: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        """SetQueueAttributes (see :meth:`Queue.set_attributes <rulebus.sqs.queue.Queue.set_attributes>`)."""
        if self.offload:
            await asyncio.to_thread(self.sync.set_attributes, attributes, **kwargs)
        else:
            self.sync.set_attributes(attributes, **kwargs)

    get_attributes = _awaited(Queue.get_attributes)
    send = _awaited(Queue.send)
    send_batch = _awaited(Queue.send_batch)
    delete = _awaited(Queue.delete)
    delete_batch = _awaited(Queue.delete_batch)
    change_visibility = _awaited(Queue.change_visibility)
    change_visibility_batch = _awaited(Queue.change_visibility_batch)
    purge = _awaited(Queue.purge)


class AsyncBroker:
    """A :class:`~rulebus.Broker` for asyncio. Made as a Broker is (``AsyncBroker()``,
    ``AsyncBroker("app.db")``, ``AsyncBroker(store=...)``, the same keywords), or around a
    broker that exists (``AsyncBroker(broker=b)``, which it then does not close)."""

    def __init__(self, *args: Any, broker: Broker | None = None, **kwargs: Any) -> None:
        if broker is not None and (args or kwargs):
            raise TypeError("give an AsyncBroker either a broker or a Broker's arguments, not both")
        self._owned = broker is None
        #: The synchronous broker this one awaits.
        self.sync = broker if broker is not None else Broker(*args, **kwargs)
        self._offload = not isinstance(self.sync.context.store, MemoryStore)

    async def __aenter__(self) -> AsyncBroker:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the broker (unless it was handed in)."""
        if self._owned:
            await self._run(self.sync.close)

    async def queue(self, name: str, **attributes: Any) -> AsyncQueue:
        """CreateQueue (or the existing queue, if its attributes agree): see :meth:`Broker.queue
        <rulebus.Broker.queue>`."""
        queue = await self._run(functools.partial(self.sync.queue, name, **attributes))
        return AsyncQueue(queue, self._offload)

    async def delete_queue(self, name: str) -> None:
        await self._run(functools.partial(self.sync.delete_queue, name))

    async def queues(self) -> list[AsyncQueue]:
        return [AsyncQueue(queue, self._offload) for queue in await self._run(self.sync.queues)]

    async def _run(self, call: Callable[[], _R]) -> _R:
        return await asyncio.to_thread(call) if self._offload else call()
