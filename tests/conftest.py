"""Shared pytest setup: the hypothesis profile, a count of the property cases that ran, and the
brokers the messaging suites run on (every test once on the memory store, once on SQLite, once
on the delegating store: the store contract suite)."""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from helpers.aws_wire import Wire
from helpers.delegating_store import DelegatingStore
from helpers.fake_clock import FakeClock
from helpers.http_endpoint import Endpoint, serving
from helpers.redis_server import RedisCluster, RedisServer, redis_server_missing
from helpers.worker_process import Worker
from hypothesis import HealthCheck, settings
from rulebus import Broker

# About 300 cases per property keeps the suite well under a minute; raise it for a long fuzz run:
#   RULEBUS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/test_properties.py
settings.register_profile(
    "rulebus",
    max_examples=int(os.environ.get("RULEBUS_FUZZ_EXAMPLES", "300")),
    deadline=None,  # no timed assertions
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("rulebus")

HYPOTHESIS_CASES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def cases() -> Counter[str]:
    """Count one case under a property's name: ``cases["name"] += 1``."""
    return HYPOTHESIS_CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not HYPOTHESIS_CASES:
        return
    terminalreporter.write_sep("-", "hypothesis cases run")
    for name, count in sorted(HYPOTHESIS_CASES.items()):
        terminalreporter.write_line(f"{count:8d}  {name}")
    terminalreporter.write_line(f"{sum(HYPOTHESIS_CASES.values()):8d}  total")


@pytest.fixture
def clock() -> FakeClock:
    """Epoch seconds that move only when the test says so (see helpers/fake_clock.py)."""
    return FakeClock()


STORES = ["memory", "sqlite", "delegating", "redis"]

# The suites that also run on a three-node Redis Cluster: one per service, and the queue suites
# whose moves cross slots (dead-letter queues, move tasks) and topics whose fan-out does.
CLUSTER_SUITES = {
    "test_queue.py",
    "test_queue_fifo_dlq.py",
    "test_queue_move_tasks.py",
    "test_topic.py",
    "test_bus.py",
    "test_bus_archive.py",
    "test_stream.py",
    "test_stream_consumer_groups.py",
    "test_idempotency.py",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses ``make_broker`` (or ``broker``) runs once per store."""
    if "make_broker" in metafunc.fixturenames:
        stores = list(STORES)
        if Path(str(metafunc.definition.fspath)).name in CLUSTER_SUITES:
            stores.append("redis-cluster")
        metafunc.parametrize("make_broker", stores, indirect=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private redis-server for the session (helpers/redis_server.py)."""
    missing = redis_server_missing()
    if missing is not None:
        pytest.skip(missing)
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty Redis database on the session's server (emptied after the test)."""
    server: RedisServer = request.getfixturevalue("redis_server")
    yield server.url + "?prefix=test"
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"FLUSHALL\r\n")
        conn.recv(16)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """One private three-node Redis Cluster for the session (helpers/redis_server.py)."""
    missing = redis_server_missing()
    if missing is not None:
        pytest.skip(missing)
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_cluster_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The session's cluster, emptied after the test."""
    cluster: RedisCluster = request.getfixturevalue("redis_cluster")
    yield cluster.url + "?prefix=test"
    cluster.flush()


@pytest.fixture
def make_broker(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[Callable[..., Broker]]:
    """The store contract suite: a factory of brokers on one store, each test once per store. A
    fresh memory store each call; the same SQLite file each call (as another process would open
    it); a fresh ``DelegatingStore`` (helpers/delegating_store.py: a memory store seen only
    through the ``Store`` protocols, with the protocols' generic defaults instead of its fast
    paths); or the same Redis database each call (a private redis-server, emptied after the
    test). Keywords go to ``Broker``; all are closed after the test. A
    suite that needs other defaults overrides this fixture by wrapping it."""
    opened: list[Broker] = []
    redis = {"redis": "redis_url", "redis-cluster": "redis_cluster_url"}.get(request.param)
    if redis is not None:
        redis = request.getfixturevalue(redis)

    def make(**kwargs: Any) -> Broker:
        kwargs.setdefault("clock", clock)
        if request.param == "sqlite":
            broker = Broker(tmp_path / "rulebus.db", **kwargs)
        elif request.param == "delegating":
            broker = Broker(store=DelegatingStore(), **kwargs)
        elif redis is not None:
            broker = Broker(store=redis, **kwargs)
        else:
            broker = Broker(**kwargs)
        opened.append(broker)
        return broker

    yield make
    for broker in opened:
        broker.close()


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    """A local HTTP server recording what it is sent (see helpers/http_endpoint.py)."""
    with serving() as state:
        yield state


@pytest.fixture
def wire(clock: FakeClock) -> Iterator[Wire]:
    """A fresh memory broker (us-east-1, account 123456789012, the fake clock, no background
    threads) seen through the AWS wire handlers, as a client of ``localhost:4566``."""
    broker = Broker(
        region="us-east-1",
        account="123456789012",
        clock=clock,
        queue_recreate_delay=0,
        background_move_tasks=False,
        background_schedules=False,
        background_retries=False,
    )
    try:
        yield Wire(broker)
    finally:
        broker.close()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """The ``rulebus worker`` processes a test started (helpers/worker_process.py), killed after it
    if they still run."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()
