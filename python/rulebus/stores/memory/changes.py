"""What the memory store's parts share: one lock, and the change signal long polls wait on."""

from __future__ import annotations

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
        self.version = 0

    def bump(self) -> None:
        """Under the lock: message state changed."""
        self.version += 1
        if self._waiting:  # notify_all is Python code that costs a send a tenth of its time
            self._changed.notify_all()

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
