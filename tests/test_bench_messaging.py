"""The messaging benchmark's harness (benches/compare_messaging.py) on tiny counts: every engine
moves every message through, the counts are checked, and the JSON holds a figure per engine.
No timing is asserted."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

import compare_messaging as bench
import messaging_cases as cases

N = 23  # not a multiple of 10: the last batches are short


ENGINE_IDS = [
    "rulebus-memory",
    "bare-loop",
    "rulebus-sqlite",
    "bare-sqlite",
    "rulebus-redis",
    "bare-redis",
    "moto",
]


@pytest.fixture(params=[make for make, _ in bench.QUEUE_ENGINES], ids=ENGINE_IDS)
def engine(request: pytest.FixtureRequest) -> Iterator[cases.QueueEngine]:
    if request.param is cases.MotoSQS and cases.moto_missing() is not None:
        pytest.skip(f"moto not installed: {cases.moto_missing()}")
    if request.param in bench.REDIS_FACTORIES and cases.redis_missing() is not None:
        pytest.skip(str(cases.redis_missing()))
    made: cases.QueueEngine = request.param()
    yield made
    made.close()


@pytest.mark.parametrize("shape", bench.SHAPES)
def test_every_engine_moves_every_message(engine: cases.QueueEngine, shape: str) -> None:
    cycle = bench.run_cycle(engine, cases.send_batches(N), shape)
    assert (cycle.sent, cycle.received, cycle.deleted, cycle.left) == (N, N, N, 0)
    assert bench.cycle_problem(engine.name, shape, N, cycle) is None


def test_handles_are_new_per_receive_and_delete_only_once(engine: cases.QueueEngine) -> None:
    engine.send_batch(cases.send_batches(3)[0])
    handles = engine.receive()
    assert len(handles) == 3 and len(set(handles)) == 3
    assert engine.receive() == []  # in flight: nothing visible is left
    assert engine.depth() == 3
    assert engine.delete_batch(handles) == 3
    assert engine.depth() == 0


class _LosesOne(cases.BareLoop):
    """A broken engine: the first message sent disappears."""

    def send_batch(self, entries: list[cases.Entry]) -> int:
        sent = super().send_batch(entries)
        if len(self._visible) == sent:
            self._visible.popleft()
        return sent


def test_a_lost_message_is_a_problem() -> None:
    cycle = bench.run_cycle(_LosesOne(), cases.send_batches(N), "backlog")
    assert cycle.received == N - 1
    problem = bench.cycle_problem("broken", "backlog", N, cycle)
    assert problem is not None and "received 22" in problem


def test_bodies_are_200_bytes_and_distinct() -> None:
    bodies = [entry["MessageBody"] for batch in cases.send_batches(N) for entry in batch]
    assert {len(b.encode("utf-8")) for b in bodies} == {cases.BODY_BYTES}
    assert len(set(bodies)) == N
    assert [len(batch) for batch in cases.send_batches(N)] == [10, 10, 3]


@pytest.mark.parametrize("store", [None, "sqlite", "redis"])
def test_a_tenth_of_the_subscriptions_get_each_publish(store: str | None) -> None:
    if store == "redis" and cases.redis_missing() is not None:
        pytest.skip(str(cases.redis_missing()))
    topic = cases.FilteredTopic(store)
    try:
        for batch in cases.publish_batches(N):
            assert len(topic.topic.publish_batch(batch)["Successful"]) == len(batch)
        assert topic.deliveries() == (N * 10, N * 90)
        assert topic.depths() == cases.expected_depths(N)
    finally:
        topic.close()
    assert sum(cases.expected_depths(N)) == N * 10


def test_the_run_writes_a_figure_for_every_engine(tmp_path: Path) -> None:
    output = tmp_path / "messaging.json"
    argv = ["--messages", str(N), "--moto-messages", "12", "--repeat", "1", "--output", str(output)]
    assert bench.main(argv) == 0
    document = json.loads(output.read_text())
    assert document["problems"] == []
    engines = ["rulebus memory", "bare deque+dict loop", "rulebus SQLite", "bare SQLite loop"]
    if cases.moto_missing() is None:
        engines.append("moto SQS (boto3)")
    if cases.redis_missing() is None:
        engines += ["rulebus Redis", "bare redis-py loop"]
    keys = {f"{name} | {shape}" for name in engines for shape in bench.SHAPES}
    topic_keys = {
        label for label, _ in bench.TOPIC_RUNS if "Redis" not in label or cases.redis_missing() is None
    }
    assert set(document["rates"]) == keys | topic_keys
    assert all(rate > 0 for rate in document["rates"].values())
    for key in keys:
        assert document["messages"][key] == (12 if key.startswith("moto") else N)
