"""The pytest plugin for programs built on rulebus (entry point ``pytest11``, registered when
rulebus is installed): a broker on each store with a fake clock.

    from rulebus.testing import run_until_idle

    def test_ships_big_orders(rulebus_broker, rulebus_clock):
        orders = rulebus_broker.queue("orders", visibility_timeout=30)
        ...                                     # functions, mappings, pipes, buses
        orders.send('{"amount": 500}')
        run_until_idle(rulebus_broker)          # everything pending runs, in the test's thread
        rulebus_clock.advance(31)               # a failed batch comes back
        run_until_idle(rulebus_broker)

Fixtures:

- ``rulebus_clock``: a :class:`rulebus.testing.FakeClock`, the brokers' clock.
- ``rulebus_store``: ``"memory"`` then ``"sqlite"``: each test that uses the brokers runs once
  per store (ids ``memory`` and ``sqlite``); ``@pytest.mark.parametrize("rulebus_store",
  ["sqlite"])`` picks one.
- ``rulebus_broker``: a :class:`rulebus.Broker` on that clock and store (SQLite: a file in
  ``tmp_path``). Its background threads are off (functions, bus retries, schedules, move tasks), so the
  test decides when work runs: :func:`rulebus.testing.run_until_idle`. Closed after the test.
- ``rulebus_broker_factory``: more brokers like it (keywords go to ``Broker``), on the same
  store kind and, for SQLite, the same file, as another process would open it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from rulebus.broker import Broker
from rulebus.testing import FakeClock

__all__ = ["STORES", "rulebus_broker", "rulebus_broker_factory", "rulebus_clock", "rulebus_store"]

#: The stores ``rulebus_broker`` runs on, in order.
STORES = ("memory", "sqlite")

#: A test's broker does nothing behind its back: the test runs the work (run_until_idle).
_QUIET = {
    "background_functions": False,
    "background_retries": False,
    "background_schedules": False,
    "background_move_tasks": False,
}


@pytest.fixture
def rulebus_clock() -> FakeClock:
    """The fake clock of the test's brokers (``rulebus_clock.advance(seconds)``)."""
    return FakeClock()


@pytest.fixture(params=STORES)
def rulebus_store(request: pytest.FixtureRequest) -> str:
    """The store kind of the test's brokers: ``"memory"``, then ``"sqlite"``."""
    return str(request.param)


@pytest.fixture
def rulebus_broker_factory(
    rulebus_store: str, tmp_path: Path, rulebus_clock: FakeClock
) -> Iterator[Callable[..., Broker]]:
    """Make brokers on the test's store (see the module docstring); all closed after the test."""
    store = rulebus_store
    if store not in STORES:
        raise ValueError(f"rulebus_broker runs on {' or '.join(STORES)}, not {store!r}")
    opened: list[Broker] = []

    def make(**kwargs: Any) -> Broker:
        settings: dict[str, Any] = {"clock": rulebus_clock, **_QUIET, **kwargs}
        broker = Broker(tmp_path / "rulebus.db", **settings) if store == "sqlite" else Broker(**settings)
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        broker.close()


@pytest.fixture
def rulebus_broker(rulebus_broker_factory: Callable[..., Broker]) -> Broker:
    """A broker on the memory store, then on SQLite, with the fake clock and no background threads."""
    return rulebus_broker_factory()
