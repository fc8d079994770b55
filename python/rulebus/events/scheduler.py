"""Fires EventBridge scheduled rules on time (docs/semantics.md, 'Schedules').

A rule with a ScheduleExpression (default bus only) sends EventBridge's scheduled event
(``"source": "aws.events"``, ``"detail-type": "Scheduled Event"``, its ARN in ``resources``) to its
targets at each fire time its ``rate(...)`` or ``cron(...)`` gives; rate schedules count from the
rule's creation (``rulebus.events.schedule``). The event goes to that rule's targets only, as on AWS: it
is not put on the bus, so other rules and archives never see it.

Time is the broker's clock. A thread, running while any enabled scheduled rule exists, sleeps
until the next fire is due (looking again at least every ``poll`` seconds, since an injected clock
may jump); ``Broker.run_schedules()`` does the same work in the caller's thread, which is what
tests do after moving a fake clock. When the clock has jumped past several fire times they all
fire, in order: simulated time behaves as real time would have. A scheduler starts counting from
the moment it first sees a rule, so a broker opened after a pause does not fire what fell due
while nothing ran. Each fire is claimed in the store first, so brokers sharing an SQLite file
fire it once between them.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING

from rulebus.events.schedule import Schedule

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["Scheduler"]

_log = logging.getLogger("rulebus.events.scheduler")

#: Fires of one rule handled in one pass at most, so that a clock moved years ahead under a
#: one-minute rate cannot keep a pass busy forever; the rest follow in the next passes.
MAX_FIRES_PER_PASS = 1000


class Scheduler:
    """The broker's scheduled rules: when each fires next, and the thread that fires them."""

    def __init__(self, context: Context, background: bool = True, poll: float = 0.5) -> None:
        self._store = context.store
        self._clock = context.clock
        self._targets = context.targets
        self._background = background
        self._poll = poll
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        # (bus, rule) -> (expression, creation time, compiled schedule, next fire time)
        self._rules: dict[tuple[str, str], tuple[str, float, Schedule, float]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    def refresh(self) -> None:
        """Re-read the scheduled rules of every bus from the store (after a change)."""
        store = self._store
        now = self._clock()
        seen: dict[tuple[str, str], tuple[str, float, Schedule, float]] = {}
        for bus in store.buses.event_bus_names():
            for record in store.buses.rules(bus)[1]:
                if record.schedule_expression is None or record.state == "DISABLED":
                    continue
                key = (bus, record.name)
                known = self._rules.get(key)
                if known is not None and known[:2] == (record.schedule_expression, record.creation_time):
                    seen[key] = known
                    continue
                schedule = Schedule(record.schedule_expression, record.creation_time)
                seen[key] = (
                    record.schedule_expression,
                    record.creation_time,
                    schedule,
                    schedule.next_fire_time(now),
                )
        with self._wake:
            self._rules = seen
            self._wake.notify_all()
            if seen and self._background and self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._work, name="rulebus-scheduler", daemon=True)
                self._thread.start()

    def next_fire_time(self) -> float | None:
        """When the next scheduled rule fires, by the broker's clock (None: no scheduled rule)."""
        with self._lock:
            times = [entry[3] for entry in self._rules.values()]
        return min(times) if times else None

    def run_due(self) -> int:
        """Fire every scheduled rule whose fire time has come (each missed fire in order);
        return how many fires this broker made."""
        fired = 0
        now = self._clock()
        with self._lock:
            due = [(key, entry) for key, entry in self._rules.items() if entry[3] <= now]
        for key, (expression, created, schedule, when) in due:
            passes = 0
            while when <= now and passes < MAX_FIRES_PER_PASS:
                if self._store.buses.claim_schedule_fire(key[0], key[1], when):
                    self._fire(key[0], key[1], schedule, when)
                    fired += 1
                when = schedule.next_fire_time(when)
                passes += 1
            with self._lock:
                if self._rules.get(key, (None,))[0] == expression:
                    self._rules[key] = (expression, created, schedule, when)
        return fired

    def _fire(self, bus_name: str, rule: str, schedule: Schedule, when: float) -> None:
        bus = self._targets.find_event_bus(bus_name)
        if bus is None:  # deleted since the rules were read: its rules went with it
            return
        try:
            bus.fire_scheduled_rule(rule, schedule, when)
        except Exception:  # one rule's failure must not stop the others
            _log.exception("scheduled rule %s/%s failed to fire", bus_name, rule)

    def _work(self) -> None:
        while True:
            self.run_due()
            with self._wake:
                if self._closed or not self._rules:
                    self._thread = None
                    return
                upcoming = min(entry[3] for entry in self._rules.values())
                if upcoming == math.inf:
                    self._thread = None
                    return
                wait = min(max(upcoming - self._clock(), 0.0), self._poll)
                self._wake.wait(wait)

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify_all()
