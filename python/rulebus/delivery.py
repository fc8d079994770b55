"""Asynchronous deliveries: one lane per subscription, each worked by its own short-lived thread.

Why: SNS answers Publish before it delivers, and an HTTP/S endpoint that is slow or failing (three
retries 20 s apart by default) must delay neither the publisher nor the other subscriptions. So a
topic hands each HTTP/S delivery to the lane of its subscription and returns. A lane runs its
jobs one after another, in the order they came, so one endpoint sees the confirmation before the
notifications and the notifications in publish order, as SNS sends them. A lane's thread exits
as soon as its lane is empty: nothing lingers after the work is done, and nothing needs closing.

``wait`` blocks until every job handed in so far has finished: tests and short scripts call it
(through ``Topic.wait_for_deliveries``) before looking at what an endpoint received.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable

__all__ = ["DeliveryLanes"]

_log = logging.getLogger("rulebus.delivery")


class DeliveryLanes:
    """Jobs grouped by key (a subscription ARN): each key's jobs run in order on one thread,
    different keys in parallel."""

    def __init__(self, name: str = "rulebus-delivery") -> None:
        self._name = name
        self._changed = threading.Condition()
        self._lanes: dict[str, deque[Callable[[], object]]] = {}
        self._unfinished = 0

    def submit(self, key: str, job: Callable[[], object]) -> None:
        """Queue ``job`` behind the other jobs of ``key``; start the lane's thread if it is idle."""
        with self._changed:
            self._unfinished += 1
            lane = self._lanes.get(key)
            if lane is not None:
                lane.append(job)
                return
            self._lanes[key] = deque([job])
        threading.Thread(target=self._work, args=(key,), name=f"{self._name}:{key}", daemon=True).start()

    def _work(self, key: str) -> None:
        while True:
            with self._changed:
                lane = self._lanes[key]
                if not lane:
                    del self._lanes[key]
                    return
                job = lane[0]
            try:
                job()
            except Exception:  # a job's failure is its own; the lane goes on with the next one
                _log.exception("delivery job for %s failed", key)
            with self._changed:
                lane.popleft()
                self._unfinished -= 1
                self._changed.notify_all()

    def pending(self) -> int:
        """Jobs handed in and not finished yet."""
        with self._changed:
            return self._unfinished

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every job handed in so far has finished; False if ``timeout`` (seconds)
        ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._unfinished:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True
