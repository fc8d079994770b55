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

import heapq
import logging
import threading
import time
from collections import deque
from typing import Callable

__all__ = ["DeliveryLanes", "RetryTimer"]

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


class RetryTimer:
    """Jobs due at a time of the broker's clock: EventBridge's retries, each waiting its backoff
    without holding up anything else.

    A thread (started when the first job is scheduled, gone when none is left) sleeps in real
    time until the earliest job is due by the clock, looking again at least every
    ``poll`` seconds, since an injected clock may jump); ``background=False`` has no thread.
    ``run_due`` runs every due job in the caller's thread: what tests do after moving a fake
    clock, so that nothing waits.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        name: str = "rulebus-retry",
        poll: float = 0.5,
        background: bool = True,
    ) -> None:
        self._clock = clock
        self._background = background
        self._name = name
        self._poll = poll
        self._changed = threading.Condition()
        self._jobs: list[tuple[float, int, Callable[[], object]]] = []
        self._sequence = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def schedule(self, due: float, job: Callable[[], object]) -> None:
        """Run ``job`` once the clock reaches ``due``."""
        with self._changed:
            self._sequence += 1
            heapq.heappush(self._jobs, (due, self._sequence, job))
            self._changed.notify_all()
            if self._background and self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()

    def pending(self) -> int:
        """Jobs scheduled and not run yet."""
        with self._changed:
            return len(self._jobs)

    def _take_due(self) -> Callable[[], object] | None:
        with self._changed:
            if self._jobs and self._jobs[0][0] <= self._clock():
                return heapq.heappop(self._jobs)[2]
            return None

    def run_due(self) -> int:
        """Run, in this thread, every job due by now (and those they schedule due by now);
        return how many ran."""
        ran = 0
        while (job := self._take_due()) is not None:
            _run(job)
            ran += 1
        return ran

    def _work(self) -> None:
        while True:
            job = self._take_due()
            if job is not None:
                _run(job)
                continue
            with self._changed:
                if not self._jobs or self._closed:
                    self._thread = None
                    return
                wait = min(max(self._jobs[0][0] - self._clock(), 0.0), self._poll)
                self._changed.wait(wait)

    def close(self) -> None:
        """Stop the thread; jobs not run yet are dropped."""
        with self._changed:
            self._closed = True
            self._jobs.clear()
            self._changed.notify_all()


def _run(job: Callable[[], object]) -> None:
    try:
        job()
    except Exception:  # a job's failure is its own
        _log.exception("scheduled job failed")
