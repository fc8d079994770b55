"""EventBridge archives and replays ('Archiving and replaying events', EventBridge User Guide)
on both stores."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_clock import START, FakeClock
from rulebus import AwsError, Broker
from rulebus.events.bus import EventBus


@pytest.fixture
def bus(broker: Broker) -> EventBus:
    return broker.event_bus("shop")


def entry(kind: str, minute: int, **detail: Any) -> dict[str, Any]:
    return {
        "Source": "com.shop",
        "DetailType": kind,
        "Detail": json.dumps({"minute": minute, **detail}),
        "Time": START + 60 * minute,
    }


def publish(bus: EventBus, *entries: dict[str, Any]) -> list[str]:
    result = bus.put_events(list(entries))
    assert result["FailedEntryCount"] == 0
    return [e["EventId"] for e in result["Entries"]]


# ---------------------------------------------------------------------- archives


def test_archive_lifecycle(bus: EventBus) -> None:
    created = bus.create_archive("orders", event_pattern={"detail-type": ["Order Placed"]}, description="d")
    assert created["ArchiveArn"] == "arn:aws:events:us-east-1:000000000000:archive/orders"
    assert created["State"] == "ENABLED"
    publish(bus, entry("Order Placed", 0), entry("Order Shipped", 1), entry("Order Placed", 2))
    described = bus.describe_archive("orders")
    assert described["EventCount"] == 2
    assert described["SizeBytes"] > 0
    assert described["EventSourceArn"] == bus.arn
    assert described["EventPattern"] == '{"detail-type": ["Order Placed"]}'
    assert described["RetentionDays"] == 0
    assert described["CreationTime"] == datetime.fromtimestamp(START, tz=timezone.utc)
    [listed] = bus.list_archives()
    assert listed["ArchiveName"] == "orders" and listed["EventCount"] == 2

    bus.update_archive("orders", retention_days=3)
    assert bus.describe_archive("orders")["RetentionDays"] == 3
    with pytest.raises(
        AwsError, match=r"^At least one of EventPattern, RetentionDays or Description must be provided\.$"
    ):
        bus.update_archive("orders")
    bus.delete_archive("orders")
    with pytest.raises(AwsError, match=r"^Archive orders does not exist\.$") as info:
        bus.describe_archive("orders")
    assert info.value.code == "ResourceNotFoundException"


def test_archive_errors(bus: EventBus) -> None:
    bus.create_archive("a")
    with pytest.raises(AwsError, match=r"^Archive a already exists\.$") as info:
        bus.create_archive("a")
    assert info.value.code == "ResourceAlreadyExistsException"
    with pytest.raises(AwsError) as info:
        bus.create_archive("b", event_pattern='{"source": "x"}')
    assert info.value.code == "InvalidEventPatternException"
    with pytest.raises(AwsError, match="less than or equal to 48"):
        bus.create_archive("x" * 49)
    with pytest.raises(AwsError, match="greater than or equal to 0"):
        bus.create_archive("c", retention_days=-1)


def test_retention_drops_old_events(bus: EventBus, clock: FakeClock) -> None:
    bus.create_archive("short", retention_days=1)
    publish(bus, entry("x", 0))
    clock.advance(12 * 3600)
    publish(bus, entry("x", 1))
    assert bus.describe_archive("short")["EventCount"] == 2
    clock.advance(13 * 3600)  # the first is now older than a day, the second is not
    assert bus.describe_archive("short")["EventCount"] == 1


def test_archive_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    with Broker(tmp_path / "a.db", clock=clock) as first:
        bus = first.event_bus("shop")
        bus.create_archive("all")
        publish(bus, entry("x", 0), entry("x", 1))
    with Broker(tmp_path / "a.db", clock=clock) as again:
        assert again.event_bus("shop").describe_archive("all")["EventCount"] == 2


# ---------------------------------------------------------------------- replays


def test_replay_window_order_and_replay_name(broker: Broker, bus: EventBus) -> None:
    bus.create_archive("all")
    ids = publish(bus, entry("x", 3), entry("x", 1), entry("x", 2), entry("x", 9))
    received: list[dict[str, Any]] = []
    bus.put_rule("everything", event_pattern={"source": ["com.shop"]})
    bus.put_targets("everything", [{"Id": "t", "Arn": received.append}])
    started = bus.start_replay("again", "all", START + 60, START + 60 * 5)
    assert started["State"] == "STARTING"
    assert started["ReplayArn"] == "arn:aws:events:us-east-1:000000000000:replay/again"
    described = bus.wait_for_replay("again", timeout=30)
    assert described["State"] == "COMPLETED"
    assert described["ReplayedEventCount"] == described["TotalEventCount"] == 3
    assert described["EventLastReplayedTime"] == datetime.fromtimestamp(START + 180, tz=timezone.utc)
    assert described["Destination"] == {"Arn": bus.arn}
    assert described["EventSourceArn"] == "arn:aws:events:us-east-1:000000000000:archive/all"
    # Oldest first, each the archived event with replay-name right after region.
    assert [e["detail"]["minute"] for e in received] == [1, 2, 3]
    assert [e["id"] for e in received] == [ids[1], ids[2], ids[0]]
    assert list(received[0]) == [
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "replay-name",
        "resources",
        "detail",
    ]
    assert received[0]["replay-name"] == "again"
    # Replayed events are never archived again.
    assert bus.describe_archive("all")["EventCount"] == 4
    assert [r["ReplayName"] for r in bus.list_replays()] == ["again"]


def test_replay_to_listed_rules_only(broker: Broker, bus: EventBus) -> None:
    bus.create_archive("all")
    first: list[Any] = []
    second: list[Any] = []
    bus.put_rule("one", event_pattern={"source": ["com.shop"]})
    bus.put_targets("one", [{"Id": "t", "Arn": first.append}])
    bus.put_rule("two", event_pattern={"source": ["com.shop"]})
    bus.put_targets("two", [{"Id": "t", "Arn": second.append}])
    publish(bus, entry("x", 0))
    first.clear()
    second.clear()
    bus.start_replay("only-two", "all", START - 60, START + 60, rules=["two"])
    described = bus.wait_for_replay("only-two", timeout=30)
    assert described["Destination"]["FilterArns"] == [bus.describe_rule("two")["Arn"]]
    assert first == [] and len(second) == 1


def test_replay_cancelled_midway(broker: Broker, bus: EventBus) -> None:
    bus.create_archive("all")
    publish(bus, *[entry("x", minute) for minute in range(10)])
    seen: list[Any] = []

    def cancel_at_third(event: Any) -> None:
        seen.append(event)
        if len(seen) == 3:
            bus.cancel_replay("r")

    bus.put_rule("all", event_pattern={"source": ["com.shop"]})
    bus.put_targets("all", [{"Id": "t", "Arn": cancel_at_third}])
    bus.start_replay("r", "all", START, START + 3600)
    described = bus.wait_for_replay("r", timeout=30)
    assert described["State"] == "CANCELLED"
    assert len(seen) == 3
    assert described["ReplayedEventCount"] == 3
    assert "ReplayEndTime" in described
    with pytest.raises(AwsError) as info:
        bus.cancel_replay("r")
    assert info.value.code == "IllegalStatusException"


def test_replay_errors(broker: Broker, bus: EventBus) -> None:
    bus.create_archive("all")
    with pytest.raises(
        AwsError, match=r"^Parameter EventSourceArn is not valid\. Reason: Archive nope does not exist\.$"
    ):
        bus.start_replay("r", "nope", START, START + 60)
    with pytest.raises(
        AwsError,
        match=r"^Parameter EventEndTime is not valid\. Reason: EventStartTime must be before EventEndTime\.$",
    ):
        bus.start_replay("r", "all", START + 60, START)
    other = broker.event_bus("other")
    with pytest.raises(AwsError, match="Cross event bus replay is not permitted"):
        other.start_replay("r", "all", START, START + 60)
    bus.start_replay("r", "arn:aws:events:us-east-1:000000000000:archive/all", START, START + 60)
    bus.wait_for_replay("r", timeout=30)
    with pytest.raises(AwsError, match=r"^Replay r already exists\.$") as info:
        bus.start_replay("r", "all", START, START + 60)
    assert info.value.code == "ResourceAlreadyExistsException"
    with pytest.raises(AwsError, match=r"^Replay nope does not exist\.$"):
        bus.describe_replay("nope")


def test_replay_seen_from_another_broker(tmp_path: Path, clock: FakeClock) -> None:
    with Broker(tmp_path / "r.db", clock=clock) as one, Broker(tmp_path / "r.db", clock=clock) as two:
        bus = one.event_bus("shop")
        bus.create_archive("all")
        publish(bus, entry("x", 0), entry("x", 1))
        bus.start_replay("r", "all", START, START + 3600)
        bus.wait_for_replay("r", timeout=30)
        described = two.event_bus("shop").describe_replay("r")
        assert described["State"] == "COMPLETED" and described["ReplayedEventCount"] == 2


def test_a_cancel_through_another_broker_stops_the_replay(tmp_path: Path, clock: FakeClock) -> None:
    with Broker(tmp_path / "c.db", clock=clock) as one, Broker(tmp_path / "c.db", clock=clock) as two:
        bus = one.event_bus("shop")
        bus.create_archive("all")
        for start in range(0, 300, 10):
            publish(bus, *[entry("x", minute) for minute in range(start, start + 10)])
        seen: list[Any] = []

        def cancel_from_elsewhere(event: Any) -> None:
            seen.append(event)
            if len(seen) == 50:
                two.event_bus("shop").cancel_replay("r")

        bus.put_rule("all", event_pattern={"source": ["com.shop"]})
        bus.put_targets("all", [{"Id": "t", "Arn": cancel_from_elsewhere}])
        bus.start_replay("r", "all", START, START + 3600 * 24)
        described = bus.wait_for_replay("r", timeout=60)
        # The running broker learns of it when it next writes its progress (every 100 events).
        assert described["State"] == "CANCELLED"
        assert len(seen) == described["ReplayedEventCount"] == 100
