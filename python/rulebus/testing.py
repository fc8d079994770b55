"""What a test of a program built on rulebus needs: a fake clock and a way to run everything the
broker has pending until nothing is left (the pytest fixtures in :mod:`rulebus.pytest_plugin`
use both).

    clock = FakeClock()
    broker = Broker(clock=clock, background_functions=False, background_retries=False,
                    background_schedules=False, background_move_tasks=False)
    ...
    run_until_idle(broker)          # functions, pipes, asynchronous invocations, bus retries...
    clock.advance(31)               # past a visibility timeout, a retry delay
    run_until_idle(broker)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rulebus.broker import Broker

__all__ = ["START", "FakeClock", "run_until_idle"]

#: Where a FakeClock starts by default (epoch seconds: 2023-11-14T22:13:20Z).
START = 1_700_000_000.0

#: Passes of :func:`run_until_idle` at most, so that work that keeps making work (a function
#: that sends to the queue it reads) ends the call instead of running forever.
MAX_PASSES = 1000


class FakeClock:
    """Epoch seconds that move only when the test says so: give it to ``Broker(clock=...)``.
    Visibility timeouts, delays, retries, schedules and long polls then follow it, and nothing
    in the test sleeps."""

    def __init__(self, now: float = START) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; returns the new time."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back: advance({seconds!r})")
        self.now += seconds
        return self.now

    def __repr__(self) -> str:
        return f"FakeClock({self.now!r})"


def run_until_idle(broker: Broker, *, timeout: float | None = 10.0) -> int:
    """Run what ``broker`` has pending now until nothing is left: event source mappings' and
    pipes' batches, asynchronous invocations, event-bus retries, scheduled rules and message
    move tasks that are due by the broker's clock. Work waiting for time (a message in flight, a
    retry in a minute) stays waiting: move the fake clock and call this again.

    Work whose background thread is off (``Broker(background_functions=False, ...)``, as the
    ``rulebus_broker`` fixture makes it) runs in this thread; with the functions' pool running,
    this waits up to ``timeout`` real seconds for it. ``TimeoutError`` when the broker is not
    idle by then (or, without the pool, at once: work that comes straight back). Returns how
    many batches, events, retries and fires ran here."""
    ran = 0
    for _ in range(MAX_PASSES):
        done = broker.run_functions()
        for bus in broker.event_buses():
            done += bus.run_retries()
        done += broker.run_schedules()
        broker.run_message_move_tasks()
        ran += done
        if not done:
            break
    if not broker.wait_until_idle(timeout=timeout):
        raise TimeoutError(
            "the broker is not idle: work is still running, or keeps coming back at once "
            "(a failing batch on a queue whose visibility timeout is 0?)"
        )
    return ran
