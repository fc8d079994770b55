"""What the memory store's parts share: one lock, and the change signal long polls wait on."""

from __future__ import annotations

import asyncio
import contextlib
import threading

__all__ = ["Changes"]


class Changes:
    """The memory store's one lock, taken by every step of every part (so a step of one is atomic
    with respect to all), and a version that :meth:`bump` advances under it whenever message
    state may have changed. The condition variable is on the same lock, so a send from another
    thread wakes a waiting receive at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._changed = threading.Condition(self.lock)
        self._waiting = 0  # threads in wait(), under the lock: bump wakes them only if any
        # Futures of asyncio waiters, each with its loop; bump resolves them from any thread.
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.version = 0

    def bump(self) -> None:
        """Under the lock: message state changed."""
        self.version += 1
        if self._waiting:  # notify_all is Python code that costs a send a tenth of its time
            self._changed.notify_all()
            if self._futures:
                futures, self._futures = self._futures, []
                for loop, future in futures:
                    # A closed loop refuses (RuntimeError): nobody awaits its future any more.
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_resolve, future)

    def current(self) -> int:
        with self.lock:
            return self.version

    def wait(self, since: int, timeout: float) -> None:
        """Block for at most ``timeout`` seconds, until the version differs from ``since``."""
        with self._changed:
            self._waiting += 1
            try:
                self._changed.wait_for(lambda: self.version != since, timeout=max(timeout, 0.0))
            finally:
                self._waiting -= 1

    async def wait_async(self, since: int, timeout: float) -> None:
        """:meth:`wait` for asyncio: the next bump resolves this waiter's future, from whichever
        thread bumps."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        with self.lock:
            if self.version != since:
                return
            self._futures.append(entry)
            self._waiting += 1
        try:
            await asyncio.wait((future,), timeout=max(timeout, 0.0))
        finally:
            with self.lock:
                self._waiting -= 1
                if entry in self._futures:
                    self._futures.remove(entry)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
