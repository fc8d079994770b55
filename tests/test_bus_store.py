"""The bus part of the stores (``store.buses``): every ``BusStore`` contract, on memory and
on SQLite, plus what only SQLite has to show (a second store on the same file sees the changes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from helpers.delegating_store import DelegatingStore
from rulebus.stores import MemoryStore, NotFound, SQLiteStore, Store, open_store
from rulebus.stores.base import BusStore
from rulebus.stores.records import (
    ArchivedEvent,
    ArchiveRecord,
    DeleteRuleResult,
    EventBusRecord,
    ReplayRecord,
    RuleRecord,
    TargetRecord,
)

MakeStore = Callable[[], BusStore]


@pytest.fixture(params=["memory", "sqlite", "delegating", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """Stores sharing state: one memory store (or one seen only through the protocol), or SQLite
    stores on one file, or Redis stores on one database (as processes)."""
    opened: list[Store] = []
    memory = {"memory": MemoryStore, "delegating": DelegatingStore}.get(request.param, lambda: None)()
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else None

    def make() -> BusStore:
        if redis is not None:
            store: Store = open_store(redis)
        else:
            store = memory if memory is not None else SQLiteStore(tmp_path / "bus.db")
        opened.append(store)
        return store.buses

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> BusStore:
    return make_store()


def bus(name: str = "shop", at: float = 100.0) -> EventBusRecord:
    return EventBusRecord(name, at, f"{name} events")


def rule(name: str, bus_name: str = "shop", at: float = 100.0, state: str = "ENABLED") -> RuleRecord:
    pattern = json.dumps({"source": [name]})
    return RuleRecord(bus_name, name, pattern, None, state, f"rule {name}", at)


def target(rule_name: str, target_id: str, arn: str = "arn:aws:sqs:us-east-1:1:q") -> TargetRecord:
    return TargetRecord("shop", rule_name, target_id, json.dumps({"Id": target_id, "Arn": arn}))


def archive(name: str = "all", bus_name: str = "shop", retention: int = 0) -> ArchiveRecord:
    return ArchiveRecord(name, bus_name, None, retention, "everything", "ENABLED", 50.0)


def replay(name: str, started: float = 200.0, state: str = "STARTING") -> ReplayRecord:
    return ReplayRecord(
        name=name,
        archive="all",
        bus="shop",
        description=None,
        event_start_time=0.0,
        event_end_time=1000.0,
        filter_arns=("arn:aws:events:us-east-1:1:rule/shop/a", "arn:aws:events:us-east-1:1:rule/shop/b"),
        state=state,
        state_reason=None,
        replay_start_time=started,
    )


def times(events: list[ArchivedEvent]) -> list[float]:
    return [event.event_time for event in events]


# ---------------------------------------------------------------------- buses


def test_bus_create_get_duplicate_and_names(store: BusStore) -> None:
    assert store.get_event_bus("shop") is None
    assert store.create_event_bus(bus("shop"))
    assert store.create_event_bus(bus("audit", at=5.0))
    assert not store.create_event_bus(EventBusRecord("shop", 999.0, "other"))
    assert store.get_event_bus("shop") == bus("shop")  # the duplicate changed nothing
    assert store.get_event_bus("audit") == EventBusRecord("audit", 5.0, "audit events")
    assert store.event_bus_names() == ["audit", "shop"]


def test_bus_without_description(store: BusStore) -> None:
    store.create_event_bus(EventBusRecord("plain", 1.0))
    assert store.get_event_bus("plain") == EventBusRecord("plain", 1.0, None)


def test_delete_bus_removes_rules_and_targets_but_keeps_archives(store: BusStore) -> None:
    store.create_event_bus(bus())
    store.put_rule(rule("a"))
    store.put_targets("shop", "a", [target("a", "t1")], limit=5)
    store.create_archive(archive())
    store.delete_event_bus("shop")
    store.delete_event_bus("shop")  # absent: no error
    assert store.get_event_bus("shop") is None
    assert store.event_bus_names() == []
    assert store.get_rule("shop", "a") is None
    assert store.rules("shop") == (-1, [], [])
    assert store.get_archive("all") == archive()

    store.create_event_bus(bus())  # a re-created bus starts empty
    _, rules, targets = store.rules("shop")
    assert (rules, targets) == ([], [])


# ---------------------------------------------------------------------- rules and targets


def test_put_rule_inserts_and_replaces_keeping_first_creation_time_and_targets(store: BusStore) -> None:
    store.create_event_bus(bus())
    assert store.put_rule(rule("a", at=100.0)) == rule("a", at=100.0)
    store.put_targets("shop", "a", [target("a", "t1")], limit=5)

    changed = replace(rule("a", at=300.0), state="DISABLED", event_pattern='{"source":["x"]}')
    stored = store.put_rule(changed)
    assert stored == replace(changed, creation_time=100.0)
    assert store.get_rule("shop", "a") == stored
    _, _, targets = store.rules("shop")
    assert targets == [target("a", "t1")]


def test_rules_are_per_bus(store: BusStore) -> None:
    store.create_event_bus(bus("shop"))
    store.create_event_bus(bus("audit"))
    store.put_rule(rule("a", bus_name="shop"))
    assert store.get_rule("audit", "a") is None
    assert store.get_rule("nobus", "a") is None
    assert store.rules("audit")[1] == []


def test_put_rule_on_a_missing_bus_stores_nothing(store: BusStore) -> None:
    with pytest.raises(NotFound):
        store.put_rule(rule("a", bus_name="gone"))
    assert store.get_rule("gone", "a") is None


def test_delete_rule_results(store: BusStore) -> None:
    store.create_event_bus(bus())
    store.put_rule(rule("a"))
    store.put_targets("shop", "a", [target("a", "t1")], limit=5)
    assert store.delete_rule("shop", "missing") is DeleteRuleResult.ABSENT
    assert store.delete_rule("nobus", "a") is DeleteRuleResult.ABSENT
    assert store.delete_rule("shop", "a") is DeleteRuleResult.HAS_TARGETS
    assert store.get_rule("shop", "a") == rule("a")
    store.remove_targets("shop", "a", ["t1"])
    assert store.delete_rule("shop", "a") is DeleteRuleResult.DELETED
    assert store.get_rule("shop", "a") is None
    assert store.delete_rule("shop", "a") is DeleteRuleResult.ABSENT


def test_rules_snapshot_in_creation_and_first_put_order(store: BusStore) -> None:
    store.create_event_bus(bus())
    for name in ("zeta", "alpha", "mid"):
        store.put_rule(rule(name))
    store.put_rule(rule("zeta", state="DISABLED"))  # a replaced rule keeps its place
    store.put_targets("shop", "mid", [target("mid", "m2"), target("mid", "m1")], limit=5)
    store.put_targets("shop", "zeta", [target("zeta", "z1")], limit=5)
    store.put_targets("shop", "mid", [target("mid", "m2", arn="arn:aws:sqs:us-east-1:1:other")], limit=5)

    version, rules, targets = store.rules("shop")
    assert version == store.rules_version("shop")
    assert [r.name for r in rules] == ["zeta", "alpha", "mid"]
    assert rules[0].state == "DISABLED"
    assert [(t.rule, t.target_id) for t in targets] == [("mid", "m2"), ("mid", "m1"), ("zeta", "z1")]
    assert json.loads(targets[0].target)["Arn"] == "arn:aws:sqs:us-east-1:1:other"


def test_rules_version_changes_on_every_rule_and_target_change(make_store: MakeStore) -> None:
    store, other = make_store(), make_store()
    assert store.rules_version("shop") == -1
    store.create_event_bus(bus())
    seen = [store.rules_version("shop")]

    def changed() -> None:
        version = store.rules_version("shop")
        assert version not in seen
        assert other.rules_version("shop") == version  # another process sees it too
        seen.append(version)

    store.put_rule(rule("a"))
    changed()
    store.put_rule(rule("a", state="DISABLED"))
    changed()
    store.put_targets("shop", "a", [target("a", "t1")], limit=5)
    changed()
    store.put_targets("shop", "a", [target("a", "t1", arn="arn:aws:sqs:us-east-1:1:x")], limit=5)
    changed()
    store.remove_targets("shop", "a", ["t1"])
    changed()
    store.delete_rule("shop", "a")
    changed()

    unchanged = store.rules_version("shop")
    store.remove_targets("shop", "a", ["nothing"])
    assert store.delete_rule("shop", "a") is DeleteRuleResult.ABSENT
    assert store.rules_version("shop") == unchanged

    store.delete_event_bus("shop")
    assert store.rules_version("shop") == other.rules_version("shop") == -1
    store.create_event_bus(bus())  # never a version an old view of the bus could hold
    changed()


def test_put_targets_replaces_by_id_and_refuses_beyond_the_limit(store: BusStore) -> None:
    store.create_event_bus(bus())
    store.put_rule(rule("a"))
    store.put_rule(rule("b"))
    store.put_targets("shop", "b", [target("b", "other")], limit=2)  # other rules do not count
    assert store.put_targets("shop", "a", [target("a", "t1"), target("a", "t2")], limit=3) == []
    refused = store.put_targets(
        "shop",
        "a",
        [target("a", "t3"), target("a", "t4"), target("a", "t1", arn="arn:new"), target("a", "t5")],
        limit=3,
    )
    assert refused == ["t4", "t5"]  # a replacement fits even at the limit
    _, _, targets = store.rules("shop")
    mine = [t for t in targets if t.rule == "a"]
    assert [t.target_id for t in mine] == ["t1", "t2", "t3"]
    assert json.loads(mine[0].target)["Arn"] == "arn:new"


def test_put_targets_all_refused_changes_nothing(store: BusStore) -> None:
    store.create_event_bus(bus())
    store.put_rule(rule("a"))
    store.put_targets("shop", "a", [target("a", "t1")], limit=1)
    version = store.rules_version("shop")
    assert store.put_targets("shop", "a", [target("a", "t2")], limit=1) == ["t2"]
    assert store.rules_version("shop") == version


def test_put_targets_on_a_missing_rule_stores_nothing(store: BusStore) -> None:
    store.create_event_bus(bus())
    with pytest.raises(NotFound):
        store.put_targets("shop", "gone", [target("gone", "t1")], limit=5)
    store.put_rule(rule("gone"))  # a rule created later does not inherit stray targets
    assert store.rules("shop")[2] == []


def test_remove_targets_ignores_unknown_ids(store: BusStore) -> None:
    store.create_event_bus(bus())
    store.put_rule(rule("a"))
    store.put_targets("shop", "a", [target("a", "t1"), target("a", "t2")], limit=5)
    store.remove_targets("shop", "a", ["t1", "unknown"])
    store.remove_targets("nobus", "a", ["t2"])
    assert [t.target_id for t in store.rules("shop")[2]] == ["t2"]


# ---------------------------------------------------------------------- archives


def test_archive_crud(store: BusStore) -> None:
    assert store.get_archive("all") is None
    assert store.create_archive(archive("all"))
    assert store.create_archive(archive("a-first", retention=7))
    assert not store.create_archive(archive("all", retention=99))
    assert store.get_archive("all") == archive("all")
    assert [a.name for a in store.archives()] == ["a-first", "all"]

    store.add_archived_events("all", [(10.0, "{}")], archived_at=11.0)
    updated = replace(archive("all"), state="DISABLED", description=None, retention_days=3)
    assert store.update_archive(updated)
    assert store.get_archive("all") == updated
    assert store.archive_stats("all") == (1, 2)  # events untouched
    assert not store.update_archive(archive("missing"))

    assert store.delete_archive("all")
    assert not store.delete_archive("all")
    assert store.get_archive("all") is None
    assert store.archive_stats("all") == (0, 0)
    store.create_archive(archive("all"))  # a re-created archive has none of the old events
    assert store.archived_events("all", 0.0, 100.0) == []


def test_add_archived_events_and_stats(make_store: MakeStore) -> None:
    store, other = make_store(), make_store()
    store.create_archive(archive())
    assert store.archive_stats("all") == (0, 0)
    store.add_archived_events("all", [(10.0, '{"a":1}'), (11.0, '{"é":"€"}')], archived_at=20.0)
    store.add_archived_events("all", [], archived_at=21.0)
    assert other.archive_stats("all") == (2, 7 + len('{"é":"€"}'.encode()))
    first, second = other.archived_events("all", 0.0, 100.0)
    assert (first.event_time, first.archived_at, first.event, first.size) == (10.0, 20.0, '{"a":1}', 7)
    assert second.event == '{"é":"€"}'
    assert second.seq > first.seq


def test_add_archived_events_to_a_missing_archive_keeps_nothing(store: BusStore) -> None:
    store.add_archived_events("gone", [(1.0, "{}")], archived_at=2.0)
    store.create_archive(archive("gone"))
    assert store.archive_stats("gone") == (0, 0)


def test_archived_events_window_and_order_with_late_arrivals(store: BusStore) -> None:
    store.create_archive(archive())
    store.create_archive(archive("elsewhere"))
    store.add_archived_events("all", [(10.0, "a"), (20.0, "b"), (30.0, "c")], archived_at=1.0)
    store.add_archived_events("all", [(15.0, "late"), (20.0, "b2"), (5.0, "early")], archived_at=2.0)
    store.add_archived_events("elsewhere", [(12.0, "x")], archived_at=1.0)

    everything = store.archived_events("all", 0.0, 100.0)
    assert [e.event for e in everything] == ["early", "a", "late", "b", "b2", "c"]
    keys = [(e.event_time, e.seq) for e in everything]
    assert keys == sorted(keys)
    # start is inclusive, end exclusive.
    assert [e.event for e in store.archived_events("all", 10.0, 20.0)] == ["a", "late"]
    assert [e.event for e in store.archived_events("all", 20.0, 30.0)] == ["b", "b2"]
    assert store.archived_events("all", 31.0, 100.0) == []
    assert store.archived_events("all", 20.0, 20.0) == []
    assert store.archived_events("missing", 0.0, 100.0) == []


def test_archived_events_paging_with_after_and_limit(store: BusStore) -> None:
    store.create_archive(archive())
    store.add_archived_events("all", [(float(t), f"e{t}") for t in (1, 2, 2, 2, 3, 4)], archived_at=9.0)
    page = store.archived_events("all", 2.0, 4.0, limit=2)
    assert times(page) == [2.0, 2.0]
    last = page[-1]
    rest = store.archived_events("all", 2.0, 4.0, after=(last.event_time, last.seq), limit=2)
    assert times(rest) == [2.0, 3.0]
    assert rest[0].seq > last.seq
    final = store.archived_events("all", 2.0, 4.0, after=(rest[-1].event_time, rest[-1].seq), limit=2)
    assert final == []
    # ``after`` before ``start`` does not widen the window.
    assert times(store.archived_events("all", 3.0, 10.0, after=(1.0, 0))) == [3.0, 4.0]
    assert store.archived_events("all", 0.0, 10.0, limit=0) == []


def test_twenty_thousand_events_paged_by_a_thousand(store: BusStore) -> None:
    store.create_archive(archive())
    count = 20_000
    # Mostly in time order, with every seventh event late (its time a little in the past), and
    # many events sharing a second so the seq tie-break matters.
    events = [(float(i // 3 - (5 if i % 7 == 0 else 0)), f'{{"n":{i}}}') for i in range(count)]
    for chunk in range(0, count, 500):
        store.add_archived_events("all", events[chunk : chunk + 500], archived_at=1.0)

    seen: list[ArchivedEvent] = []
    after: tuple[float, int] | None = None
    while True:
        page = store.archived_events("all", -100.0, 1e9, after=after, limit=1000)
        if not page:
            break
        assert len(page) <= 1000
        seen.extend(page)
        after = (page[-1].event_time, page[-1].seq)

    assert len(seen) == count
    assert sorted(e.event for e in seen) == sorted(text for _, text in events)  # each exactly once
    keys = [(e.event_time, e.seq) for e in seen]
    assert keys == sorted(keys)


def test_trim_archive_drops_events_archived_before(make_store: MakeStore) -> None:
    store, other = make_store(), make_store()
    store.create_archive(archive())
    store.add_archived_events("all", [(1.0, "old"), (5.0, "old2")], archived_at=10.0)
    store.add_archived_events("all", [(3.0, "new")], archived_at=20.0)
    assert store.trim_archive("all", archived_before=10.0) == 0
    assert store.trim_archive("all", archived_before=15.0) == 2
    assert [e.event for e in other.archived_events("all", 0.0, 100.0)] == ["new"]
    assert other.archive_stats("all") == (1, 3)
    assert store.trim_archive("all", archived_before=15.0) == 0
    assert store.trim_archive("missing", archived_before=15.0) == 0
    store.add_archived_events("all", [(2.0, "after")], archived_at=30.0)  # still ordered after a trim
    assert [e.event for e in store.archived_events("all", 0.0, 100.0)] == ["after", "new"]


# ---------------------------------------------------------------------- replays


def test_replay_create_duplicate_get_and_update(make_store: MakeStore) -> None:
    store, other = make_store(), make_store()
    assert store.get_replay("r") is None
    assert store.create_replay(replay("r"))
    assert not store.create_replay(replay("r", started=999.0))
    assert other.get_replay("r") == replay("r")

    running = replace(
        replay("r"),
        state="RUNNING",
        last_event_time=12.5,
        last_seq=7,
        replayed=3,
        total=10,
        event_last_replayed_time=205.0,
    )
    assert store.update_replay(running)
    assert other.get_replay("r") == running
    done = replace(running, state="COMPLETED", replay_end_time=210.0, state_reason="done", filter_arns=())
    assert other.update_replay(done, expected_states=["RUNNING", "STARTING"])
    assert store.get_replay("r") == done
    assert not store.update_replay(replace(done, state="RUNNING"), expected_states=["RUNNING"])
    assert store.get_replay("r") == done
    assert not store.update_replay(replay("missing"))
    assert store.get_replay("missing") is None


def test_cancel_racing_completion_only_one_wins(make_store: MakeStore) -> None:
    stores = [make_store(), make_store()]
    won: dict[str, bool] = {}

    def update(label: str, store: BusStore, record: ReplayRecord, barrier: threading.Barrier) -> None:
        barrier.wait()  # both updates start together
        won[label] = store.update_replay(record, expected_states=["RUNNING"])

    for round_ in range(20):
        name = f"r{round_}"
        stores[0].create_replay(replace(replay(name), state="RUNNING"))
        cancelling = replace(replay(name), state="CANCELLING")
        completed = replace(replay(name), state="COMPLETED", replayed=5, total=5, replay_end_time=300.0)
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=update, args=("cancel", stores[0], cancelling, barrier)),
            threading.Thread(target=update, args=("complete", stores[1], completed, barrier)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert won["cancel"] != won["complete"]
        assert stores[0].get_replay(name) == (cancelling if won["cancel"] else completed)


def test_progress_after_a_cancel_is_refused(store: BusStore) -> None:
    store.create_replay(replace(replay("r"), state="RUNNING"))
    step = replace(replay("r"), state="RUNNING", replayed=1)
    cancel = replace(replay("r"), state="CANCELLING")
    assert store.update_replay(step, expected_states=["RUNNING"])  # progress before the cancel
    assert store.update_replay(cancel, expected_states=["RUNNING", "STARTING"])
    assert not store.update_replay(replace(step, replayed=2), expected_states=["RUNNING"])
    assert store.get_replay("r") == cancel


def test_replays_most_recently_started_first(store: BusStore) -> None:
    store.create_replay(replay("old", started=100.0))
    store.create_replay(replay("newest", started=300.0))
    store.create_replay(replay("mid-1", started=200.0))
    store.create_replay(replay("mid-2", started=200.0))
    assert [r.name for r in store.replays()] == ["newest", "mid-2", "mid-1", "old"]
    assert store.replays()[0].filter_arns == replay("x").filter_arns
