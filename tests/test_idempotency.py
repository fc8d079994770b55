"""rulebus.idempotent on both stores: duplicates skipped, results returned, TTL expiry, failures
and crashes that let the next delivery retry, concurrent duplicates run once."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
import rulebus
from helpers.fake_clock import START, FakeClock
from rulebus import AwsError, Broker, IdempotencyInProgressError, idempotent
from rulebus.stores.records import COMPLETED, IN_PROGRESS


def counting(broker: Broker, **options: Any) -> tuple[list[str], Callable[[str], dict[str, Any]]]:
    """A handler keyed by its argument that records each run and returns a JSON result."""
    runs: list[str] = []

    @idempotent(broker, key=lambda order: order, name="charge", **options)
    def charge(order: str) -> dict[str, Any]:
        runs.append(order)
        return {"order": order, "charged": (len(runs), "EUR")}

    return runs, charge


def test_duplicates_return_the_recorded_result_without_running(broker: Broker) -> None:
    runs, charge = counting(broker)
    first = charge("o-1")
    assert first == {"order": "o-1", "charged": (1, "EUR")}  # the handler's own value
    assert charge("o-1") == {"order": "o-1", "charged": [1, "EUR"]}  # its JSON round trip
    assert charge("o-2")["charged"] == (2, "EUR")
    assert charge("o-2")["charged"] == [2, "EUR"]
    assert runs == ["o-1", "o-2"]
    record = charge.idempotency.record("o-1")  # type: ignore[attr-defined]
    assert record is not None and record.status == COMPLETED


def test_results_not_kept_come_back_as_none(broker: Broker) -> None:
    runs, charge = counting(broker, store_result=False)
    assert charge("o-1")["order"] == "o-1"
    assert charge("o-1") is None
    assert runs == ["o-1"]


def test_keys_are_namespaced_by_handler(broker: Broker) -> None:
    ran: list[str] = []

    @idempotent(broker, key=lambda order: order)
    def reserve(order: str) -> str:
        ran.append("reserve")
        return "reserved"

    @idempotent(broker, key=lambda order: order)
    def ship(order: str) -> str:
        ran.append("ship")
        return "shipped"

    assert [reserve("o-1"), ship("o-1"), reserve("o-1"), ship("o-1")] == ["reserved", "shipped"] * 2
    assert ran == ["reserve", "ship"]
    assert reserve.idempotency.name == f"{__name__}.test_keys_are_namespaced_by_handler.<locals>.reserve"


def test_methods_bind_and_their_key_gets_self(broker: Broker) -> None:
    class Consumer:
        def __init__(self) -> None:
            self.handled: list[str] = []

        @idempotent(broker, key=lambda consumer, order: order)
        def handle(self, order: str) -> int:
            self.handled.append(order)
            return len(self.handled)

    first, second = Consumer(), Consumer()
    assert [first.handle("o-1"), second.handle("o-1"), second.handle("o-2")] == [1, 1, 1]
    assert (first.handled, second.handled) == (["o-1"], ["o-2"])  # one namespace for the class


def test_key_runs_again_after_the_ttl(broker: Broker, clock: FakeClock) -> None:
    runs, charge = counting(broker, ttl=600)
    charge("o-1")
    clock.advance(599)
    charge("o-1")
    assert runs == ["o-1"]
    clock.advance(1)
    assert charge("o-1")["charged"] == (2, "EUR")
    assert runs == ["o-1", "o-1"]
    assert charge.idempotency.purge() == 0  # type: ignore[attr-defined]  # the fresh record is live
    clock.advance(600)
    assert charge.idempotency.purge() == 1  # type: ignore[attr-defined]
    assert charge.idempotency.record("o-1") is None  # type: ignore[attr-defined]


def test_an_exception_releases_the_claim_so_the_next_delivery_retries(broker: Broker) -> None:
    attempts: list[int] = []

    @idempotent(broker, key=lambda order: order)
    def flaky(order: str) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("payment gateway down")
        return "paid"

    with pytest.raises(RuntimeError, match="gateway down"):
        flaky("o-1")
    assert flaky.idempotency.record("o-1") is None  # nothing recorded for a failure
    assert flaky("o-1") == "paid"
    assert flaky("o-1") == "paid"
    assert len(attempts) == 2


def test_a_duplicate_while_in_progress_is_refused(broker: Broker, clock: FakeClock) -> None:
    inner: list[Any] = []

    @idempotent(broker, key=lambda order: order, lease=30)
    def slow(order: str) -> str:
        # A duplicate arriving while this delivery still runs.
        with pytest.raises(IdempotencyInProgressError) as refused:
            slow("o-1")
        inner.append(refused.value)
        return "done"

    assert slow("o-1") == "done"
    [error] = inner
    assert error.key == "o-1" and error.lease_expires_at == START + 30
    assert slow("o-1") == "done"


def test_a_crash_mid_way_holds_the_key_until_its_lease_ends(broker: Broker, clock: FakeClock) -> None:
    runs, charge = counting(broker, lease=60)
    store = broker._store
    # What a process that died inside the handler leaves: a claim nobody completes or releases.
    assert (
        store.idempotency.claim_idempotency_key("charge#o-1", "dead-process", clock(), clock() + 60) is None
    )
    record = charge.idempotency.record("o-1")  # type: ignore[attr-defined]
    assert record is not None and record.status == IN_PROGRESS
    with pytest.raises(IdempotencyInProgressError):
        charge("o-1")
    clock.advance(59)
    with pytest.raises(IdempotencyInProgressError):
        charge("o-1")
    clock.advance(1)
    assert charge("o-1")["order"] == "o-1"
    assert runs == ["o-1"]
    # The dead claim can no longer complete or release the key it lost.
    assert not store.idempotency.complete_idempotency_key("charge#o-1", "dead-process", None, clock() + 10)
    assert not store.idempotency.release_idempotency_key("charge#o-1", "dead-process")
    assert charge("o-1")["charged"] == [1, "EUR"]


def test_a_result_that_is_not_json_still_completes_the_key(broker: Broker) -> None:
    runs: list[int] = []

    @idempotent(broker, key=lambda order: order)
    def odd(order: str) -> object:
        runs.append(1)
        return object()

    with pytest.raises(TypeError, match="not JSON-serialisable"):
        odd("o-1")
    assert odd("o-1") is None  # its side effects happened: it does not run again
    assert len(runs) == 1


def test_bad_arguments(broker: Broker) -> None:
    with pytest.raises(AwsError, match="ttl"):
        idempotent(broker, key=str, ttl=0)(print)
    with pytest.raises(AwsError, match="lease"):
        idempotent(broker, key=str, lease=-1)(print)
    handler = idempotent(broker, key=lambda value: value)(lambda value: value)
    with pytest.raises(TypeError, match="must be a string"):
        handler(3)


def test_threads_racing_on_one_key_run_the_handler_once(broker: Broker) -> None:
    threads_count = 8
    start = threading.Barrier(threads_count)
    others_done = threading.Event()
    finished: list[str] = []
    runs: list[str] = []

    @idempotent(broker, key=lambda order: order)
    def charge(order: str) -> str:
        runs.append(order)
        # Hold the claim until every other thread has tried, so all of them race with it.
        others_done.wait(timeout=30)
        return "charged"

    def worker() -> None:
        start.wait(timeout=30)
        try:
            finished.append(charge("o-1"))
        except IdempotencyInProgressError:
            finished.append("in progress")
            if finished.count("in progress") == threads_count - 1:
                others_done.set()

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert runs == ["o-1"]
    assert sorted(finished) == ["charged"] + ["in progress"] * (threads_count - 1)
    assert charge("o-1") == "charged"


def test_two_brokers_on_one_sqlite_file_share_the_records(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "shared.db"
    runs: list[str] = []
    with Broker(path, clock=clock) as first, Broker(path, clock=clock) as second:

        def handler_on(broker: Broker) -> Callable[[str], str]:
            @idempotent(broker, key=lambda order: order, name="ship")
            def ship(order: str) -> str:
                runs.append(order)
                return f"shipped {order}"

            return ship

        assert handler_on(first)("o-1") == "shipped o-1"
        assert handler_on(second)("o-1") == "shipped o-1"
    assert runs == ["o-1"]
    with Broker(path, clock=clock) as reopened:  # and durable
        assert handler_on(reopened)("o-1") == "shipped o-1"
    assert runs == ["o-1"]


_CRASHING_CONSUMER = """
import os, sys
import rulebus

broker = rulebus.Broker(sys.argv[1], clock=lambda: float(sys.argv[2]))

@rulebus.idempotent(broker, key=lambda order: order, name="ship", lease=60)
def ship(order):
    os._exit(3)  # the process dies inside the handler: no release, no completion

ship("o-1")
"""


def test_a_process_killed_mid_handler_leaves_a_lease_another_process_outlives(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "shared.db"
    Broker(path, clock=clock).close()  # the schema exists before the child starts
    child = subprocess.run(
        [sys.executable, "-c", _CRASHING_CONSUMER, str(path), str(clock())], capture_output=True, timeout=120
    )
    assert child.returncode == 3, child.stderr
    runs: list[str] = []
    with Broker(path, clock=clock) as broker:

        @idempotent(broker, key=lambda order: order, name="ship", lease=60)
        def ship(order: str) -> str:
            runs.append(order)
            return "shipped"

        with pytest.raises(IdempotencyInProgressError):
            ship("o-1")
        clock.advance(60)
        assert ship("o-1") == "shipped"
        assert ship("o-1") == "shipped"
    assert runs == ["o-1"]


def test_exported() -> None:
    assert rulebus.idempotent is idempotent
    assert rulebus.Idempotency.__name__ == "Idempotency"
