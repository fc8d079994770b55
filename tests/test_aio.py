"""rulebus.aio: the asyncio face of the broker. A long poll must hold no thread while it waits,
wake when a message arrives (from the loop or from another thread), and end empty at its deadline,
on every store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rulebus import AwsError, Broker
from rulebus.aio import AsyncBroker


def test_the_queue_calls_are_those_of_the_queue_awaited(make_broker: Callable[..., Broker]) -> None:
    async def scenario() -> None:
        broker = AsyncBroker(broker=make_broker())
        queue = await broker.queue("jobs", visibility_timeout=30)
        assert [q.name for q in await broker.queues()] == ["jobs"]
        await queue.send("one")
        entries = [{"Id": "a", "MessageBody": "two"}, {"Id": "b", "MessageBody": "three"}]
        batch = await queue.send_batch(entries)
        assert [entry["Id"] for entry in batch["Successful"]] == ["a", "b"]
        received = await queue.receive(max_messages=10, attribute_names=["All"])
        assert sorted(m.body for m in received) == ["one", "three", "two"]
        assert all(m.attributes["ApproximateReceiveCount"] == "1" for m in received)
        await queue.change_visibility(received[0].receipt_handle, 0)
        await queue.delete(received[1].receipt_handle)
        await queue.delete_batch([{"Id": "x", "ReceiptHandle": received[2].receipt_handle}])
        attributes = await queue.get_attributes(["ApproximateNumberOfMessages"])
        assert attributes == {"ApproximateNumberOfMessages": "1"}
        await queue.set_attributes({"DelaySeconds": "5"})
        assert (await queue.get_attributes(["DelaySeconds"]))["DelaySeconds"] == "5"
        await queue.purge()
        await broker.delete_queue("jobs")
        try:
            await queue.send("gone")
        except AwsError as error:
            assert error.code == "QueueDoesNotExist"
        else:
            raise AssertionError("a deleted queue took a message")
        await broker.close()  # handed in: left open
        assert broker.sync.queue("still-open").name == "still-open"

    asyncio.run(scenario())


def test_a_long_poll_ends_empty_at_its_deadline(make_broker: Callable[..., Broker]) -> None:
    async def scenario() -> None:
        queue = await AsyncBroker(broker=make_broker()).queue("quiet")
        start = time.monotonic()
        assert await queue.receive(wait_seconds=1) == []
        assert time.monotonic() - start >= 0.95

    asyncio.run(scenario())


def test_a_send_from_another_thread_wakes_the_long_poll(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker()
    sender = broker.queue("wake")

    async def scenario() -> list[str]:
        queue = await AsyncBroker(broker=broker).queue("wake")
        threading.Timer(0.2, sender.send, args=("hello",)).start()
        return [m.body for m in await queue.receive(wait_seconds=20)]

    start = time.monotonic()
    assert asyncio.run(scenario()) == ["hello"]
    # It returned on the send, long before its 20 seconds (a generous bound, not a speed test).
    assert time.monotonic() - start < 15


def test_a_thousand_long_polls_share_one_thread() -> None:
    async def scenario() -> None:
        async with AsyncBroker() as broker:
            queue = await broker.queue("many")
            threads = threading.active_count()
            waiters = [asyncio.ensure_future(queue.receive(wait_seconds=20)) for _ in range(1000)]
            await asyncio.sleep(0.2)  # every waiter is waiting now
            assert not any(waiter.done() for waiter in waiters)
            assert threading.active_count() == threads
            for n in range(1000):
                await queue.send(f"m{n}")
            results = await asyncio.gather(*waiters)
            bodies = [m.body for messages in results for m in messages]
            # Every message reached exactly one waiter: nothing lost, nothing twice.
            assert sorted(bodies) == sorted(f"m{n}" for n in range(1000))

    asyncio.run(scenario())


def test_a_cancelled_long_poll_leaves_the_queue_working() -> None:
    async def scenario() -> None:
        async with AsyncBroker() as broker:
            queue = await broker.queue("cancel")
            with_timeout = asyncio.wait_for(queue.receive(wait_seconds=20), timeout=0.1)
            try:
                await with_timeout
            except asyncio.TimeoutError:
                pass
            else:
                raise AssertionError("the long poll returned with nothing sent")
            await queue.send("after")
            assert [m.body for m in await queue.receive(wait_seconds=5)] == ["after"]

    asyncio.run(scenario())


def test_a_sqlite_broker_runs_its_calls_off_the_loop(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with AsyncBroker(tmp_path / "aio.db") as broker:
            loop_thread = threading.get_ident()
            queue = await broker.queue("files")
            seen: list[int] = []
            real_send = queue.sync.send

            def send(body: str) -> object:
                seen.append(threading.get_ident())
                return real_send(body)

            queue.sync.send = send  # type: ignore[method-assign]
            await queue.send("on disk")
            assert seen and seen[0] != loop_thread
            assert [m.body for m in await queue.receive(wait_seconds=2)] == ["on disk"]

    asyncio.run(scenario())


def test_an_async_broker_takes_a_broker_or_its_arguments_not_both() -> None:
    broker = Broker()
    try:
        AsyncBroker("x.db", broker=broker)
    except TypeError as error:
        assert "not both" in str(error)
    else:
        raise AssertionError("both were taken")
    finally:
        broker.close()


def test_the_stores_async_wait_returns_on_a_change_not_at_its_timeout(
    make_broker: Callable[..., Broker],
) -> None:
    broker = make_broker()
    queue = broker.queue("signal")
    store = broker.context.store

    async def scenario() -> None:
        since = store.version()
        waiting = asyncio.ensure_future(store.wait_async(since, 60))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        threading.Thread(target=queue.send, args=("change",)).start()
        # Well before its 60 seconds: the change ended the wait (the bound is loose on purpose).
        await asyncio.wait_for(waiting, timeout=20)

    asyncio.run(scenario())
