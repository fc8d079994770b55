"""EventBridge's wire handlers (rulebus.aws.services.events), called with Request objects as the
codec calls them; every answer is checked against botocore's output shape (helpers/aws_wire.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from helpers.aws import aws_error
from helpers.aws_wire import Wire

ACCOUNT = "123456789012"
DEFAULT_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
PATTERN = json.dumps({"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}]}})


def _event(amount: int, bus: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {
        "Source": "com.shop",
        "DetailType": "Order",
        "Detail": json.dumps({"amount": amount}),
    }
    if bus is not None:
        entry["EventBusName"] = bus
    return entry


# ------------------------------------------------------------------ buses


def test_event_buses(wire: Wire) -> None:
    created = wire.events("CreateEventBus", Name="shop", Description="orders")
    assert created == {
        "EventBusArn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/shop",
        "Description": "orders",
    }
    described = wire.events("DescribeEventBus", Name="shop")
    assert described["Name"] == "shop" and described["Description"] == "orders"
    assert described["CreationTime"].tzinfo is not None
    assert wire.events("DescribeEventBus")["Arn"] == DEFAULT_ARN
    assert wire.events("DescribeEventBus", Name=created["EventBusArn"])["Name"] == "shop"
    listed = wire.events("ListEventBuses")["EventBuses"]
    assert [b["Name"] for b in listed] == ["default", "shop"]
    assert [b["Name"] for b in wire.events("ListEventBuses", NamePrefix="sh")["EventBuses"]] == ["shop"]
    with aws_error("ResourceAlreadyExistsException", "Event bus shop already exists."):
        wire.events("CreateEventBus", Name="shop")
    assert wire.events("DeleteEventBus", Name="shop") == {}
    with aws_error("ResourceNotFoundException", "Event bus shop does not exist."):
        wire.events("DescribeEventBus", Name="shop")
    with aws_error("ResourceNotFoundException"):  # another account's bus is not this broker's
        wire.events("DescribeEventBus", Name="arn:aws:events:us-east-1:999999999999:event-bus/default")


def test_list_event_buses_pages(wire: Wire) -> None:
    for index in range(3):
        wire.events("CreateEventBus", Name=f"b{index}")
    first = wire.events("ListEventBuses", Limit=2)
    second = wire.events("ListEventBuses", Limit=2, NextToken=first["NextToken"])
    assert [b["Name"] for b in first["EventBuses"] + second["EventBuses"]] == ["b0", "b1", "b2", "default"]
    assert "NextToken" not in second
    with aws_error("ValidationException"):
        wire.events("ListEventBuses", Limit=101)
    with aws_error("ValidationException", "The NextToken provided is invalid."):
        wire.events("ListEventBuses", NextToken="nope")


# ------------------------------------------------------------------ rules and targets


def test_rules_targets_and_put_events(wire: Wire) -> None:
    url, arn = wire.queue("q")
    rule_arn = wire.events("PutRule", Name="big", EventPattern=PATTERN)["RuleArn"]
    assert rule_arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/big"
    described = wire.events("DescribeRule", Name="big")
    assert described["EventPattern"] == PATTERN and described["State"] == "ENABLED"
    assert wire.events(
        "PutTargets", Rule="big", Targets=[{"Id": "q", "Arn": arn, "InputPath": "$.detail"}]
    ) == {
        "FailedEntryCount": 0,
        "FailedEntries": [],
    }
    result = wire.events("PutEvents", Entries=[_event(120), _event(50)])
    assert result["FailedEntryCount"] == 0 and len(result["Entries"]) == 2
    assert all("EventId" in entry for entry in result["Entries"])
    assert [json.loads(b) for b in wire.bodies(url)] == [{"amount": 120}]


def test_input_transformer_and_input(wire: Wire) -> None:
    url, arn = wire.queue("q")
    wire.events("PutRule", Name="r", EventPattern=PATTERN)
    transformer = {"InputPathsMap": {"amount": "$.detail.amount"}, "InputTemplate": '{"total": <amount>}'}
    wire.events("PutTargets", Rule="r", Targets=[{"Id": "t", "Arn": arn, "InputTransformer": transformer}])
    wire.events("PutEvents", Entries=[_event(200)])
    assert [json.loads(b) for b in wire.bodies(url)] == [{"total": 200}]
    wire.events("PutTargets", Rule="r", Targets=[{"Id": "t", "Arn": arn, "Input": '{"fixed": true}'}])
    wire.events("PutEvents", Entries=[_event(300)])
    assert [json.loads(b) for b in wire.bodies(url)] == [{"fixed": True}]


def test_list_targets_and_rule_names_by_target(wire: Wire) -> None:
    _, arn = wire.queue("q")
    _, other = wire.queue("other")
    for name in ("a", "b", "c"):
        wire.events("PutRule", Name=name, EventPattern=PATTERN)
    retry = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}
    dead_letter = {"Arn": other}
    wire.events(
        "PutTargets",
        Rule="a",
        Targets=[{"Id": "1", "Arn": arn, "RetryPolicy": retry, "DeadLetterConfig": dead_letter}],
    )
    wire.events("PutTargets", Rule="c", Targets=[{"Id": "1", "Arn": arn}, {"Id": "2", "Arn": other}])
    assert wire.events("ListRuleNamesByTarget", TargetArn=arn) == {"RuleNames": ["a", "c"]}
    targets = wire.events("ListTargetsByRule", Rule="a")["Targets"]
    assert targets == [{"Id": "1", "Arn": arn, "RetryPolicy": retry, "DeadLetterConfig": dead_letter}]
    first = wire.events("ListTargetsByRule", Rule="c", Limit=1)
    assert [t["Id"] for t in first["Targets"]] == ["1"]
    assert [
        t["Id"] for t in wire.events("ListTargetsByRule", Rule="c", NextToken=first["NextToken"])["Targets"]
    ] == ["2"]
    assert wire.events("RemoveTargets", Rule="c", Ids=["1", "2"]) == {
        "FailedEntryCount": 0,
        "FailedEntries": [],
    }
    assert wire.events("ListTargetsByRule", Rule="c") == {"Targets": []}


def test_rule_states_list_and_delete(wire: Wire) -> None:
    wire.events("CreateEventBus", Name="shop")
    wire.events("PutRule", Name="r1", EventPattern=PATTERN, EventBusName="shop", Description="d")
    wire.events("PutRule", Name="r2", EventPattern=PATTERN, EventBusName="shop")
    assert wire.events("DisableRule", Name="r1", EventBusName="shop") == {}
    rules = wire.events("ListRules", EventBusName="shop")["Rules"]
    assert [(r["Name"], r["State"]) for r in rules] == [("r1", "DISABLED"), ("r2", "ENABLED")]
    assert "CreatedBy" not in rules[0]  # a member of DescribeRule's answer only
    wire.events("EnableRule", Name="r1", EventBusName="shop")
    assert wire.events("DescribeRule", Name="r1", EventBusName="shop")["State"] == "ENABLED"
    assert wire.events("DeleteRule", Name="r1", EventBusName="shop") == {}
    assert [r["Name"] for r in wire.events("ListRules", EventBusName="shop", NamePrefix="r")["Rules"]] == [
        "r2"
    ]
    with aws_error("ResourceNotFoundException", "Rule r1 does not exist on EventBus shop."):
        wire.events("DescribeRule", Name="r1", EventBusName="shop")


def test_rule_errors(wire: Wire) -> None:
    with aws_error("InvalidEventPatternException"):
        wire.events("PutRule", Name="bad", EventPattern='{"source": "not-a-list"}')
    with aws_error("ResourceNotFoundException", "Event bus nope does not exist."):
        wire.events("PutRule", Name="r", EventPattern=PATTERN, EventBusName="nope")
    _, arn = wire.queue("q")
    wire.events("PutRule", Name="r", EventPattern=PATTERN)
    wire.events("PutTargets", Rule="r", Targets=[{"Id": "1", "Arn": arn}])
    with aws_error("ValidationException", "Rule can't be deleted since it has targets."):
        wire.events("DeleteRule", Name="r")


def test_put_events_failures_per_entry_and_bus_by_arn(wire: Wire) -> None:
    bus_arn = wire.events("CreateEventBus", Name="shop")["EventBusArn"]
    url, arn = wire.queue("q")
    wire.events("PutRule", Name="r", EventPattern=PATTERN, EventBusName=bus_arn)
    wire.events("PutTargets", Rule="r", EventBusName=bus_arn, Targets=[{"Id": "1", "Arn": arn}])
    result = wire.events(
        "PutEvents", Entries=[_event(500, bus_arn), {"Source": "com.shop", "DetailType": "x"}]
    )
    assert result["FailedEntryCount"] == 1
    assert "EventId" in result["Entries"][0]
    assert set(result["Entries"][1]) == {"ErrorCode", "ErrorMessage"}
    (body,) = wire.bodies(url)
    assert json.loads(body)["detail"] == {"amount": 500}
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    wire.events("PutEvents", Entries=[{**_event(500, "shop"), "Time": when}])
    assert json.loads(wire.bodies(url)[0])["time"] == "2030-01-02T03:04:05Z"
    with aws_error("ValidationException"):
        wire.events("PutEvents", Entries=[])


def test_test_event_pattern(wire: Wire) -> None:
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "com.shop",
        "time": "2030-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "Order",
        "detail": {"amount": 120},
    }
    assert wire.events("TestEventPattern", EventPattern=PATTERN, Event=json.dumps(event)) == {"Result": True}
    event["detail"] = {"amount": 1}
    assert wire.events("TestEventPattern", EventPattern=PATTERN, Event=json.dumps(event)) == {"Result": False}
    with aws_error("InvalidEventPatternException"):
        wire.events("TestEventPattern", EventPattern="[", Event=json.dumps(event))
    with aws_error("ValidationException", "Parameter Event is not valid."):
        wire.events("TestEventPattern", EventPattern=PATTERN, Event='{"source": "x"}')


# ------------------------------------------------------------------ archives and replays


def test_archives(wire: Wire) -> None:
    bus_arn = wire.events("CreateEventBus", Name="shop")["EventBusArn"]
    created = wire.events("CreateArchive", ArchiveName="all", EventSourceArn=bus_arn, RetentionDays=3)
    assert created["ArchiveArn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:archive/all"
    assert created["State"] == "ENABLED"
    wire.events("CreateArchive", ArchiveName="default-archive", EventSourceArn=DEFAULT_ARN)
    wire.events("PutEvents", Entries=[_event(1, "shop"), _event(2, "shop")])
    described = wire.events("DescribeArchive", ArchiveName="all")
    assert described["EventCount"] == 2 and described["RetentionDays"] == 3
    assert [a["ArchiveName"] for a in wire.events("ListArchives")["Archives"]] == ["all", "default-archive"]
    assert [a["ArchiveName"] for a in wire.events("ListArchives", EventSourceArn=bus_arn)["Archives"]] == [
        "all"
    ]
    updated = wire.events("UpdateArchive", ArchiveName="all", Description="kept", RetentionDays=5)
    assert updated["ArchiveArn"] == created["ArchiveArn"]
    assert wire.events("DescribeArchive", ArchiveName="all")["Description"] == "kept"
    with aws_error("ResourceAlreadyExistsException"):
        wire.events("CreateArchive", ArchiveName="all", EventSourceArn=bus_arn)
    assert wire.events("DeleteArchive", ArchiveName="all") == {}
    with aws_error("ResourceNotFoundException", "Archive all does not exist."):
        wire.events("DescribeArchive", ArchiveName="all")


def test_replays(wire: Wire, clock) -> None:  # type: ignore[no-untyped-def]
    url, arn = wire.queue("q")
    wire.events("CreateArchive", ArchiveName="a", EventSourceArn=DEFAULT_ARN)
    wire.events("PutEvents", Entries=[_event(150)])
    wire.events("PutRule", Name="r", EventPattern=PATTERN)
    wire.events("PutTargets", Rule="r", Targets=[{"Id": "1", "Arn": arn}])
    clock.advance(10)
    now = datetime.fromtimestamp(clock(), tz=timezone.utc)
    started = wire.events(
        "StartReplay",
        ReplayName="again",
        EventSourceArn=f"arn:aws:events:us-east-1:{ACCOUNT}:archive/a",
        EventStartTime=now - timedelta(hours=1),
        EventEndTime=now,
        Destination={"Arn": DEFAULT_ARN},
    )
    assert started["ReplayArn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:replay/again"
    wire.broker.event_bus().wait_for_replay("again", 30)
    described = wire.events("DescribeReplay", ReplayName="again")
    assert described["State"] == "COMPLETED"
    assert described["Destination"] == {"Arn": DEFAULT_ARN}
    assert json.loads(wire.bodies(url)[0])["detail"] == {"amount": 150}
    replays = wire.events("ListReplays")["Replays"]
    assert [r["ReplayName"] for r in replays] == ["again"]
    assert wire.events("ListReplays", EventSourceArn="arn:aws:events:us-east-1:1:archive/other") == {
        "Replays": []
    }
    with aws_error("IllegalStatusException"):
        wire.events("CancelReplay", ReplayName="again")
    with aws_error("ResourceNotFoundException", "Replay nope does not exist."):
        wire.events("DescribeReplay", ReplayName="nope")


@pytest.mark.parametrize("operation", ["PutEvents"])
def test_endpoint_id_is_refused(wire: Wire, operation: str) -> None:
    with aws_error("ValidationException"):
        wire.events(operation, Entries=[_event(1)], EndpointId="abc.xyz")


# ------------------------------------------------------------------ tags


def test_bus_and_rule_tags(wire: Wire) -> None:
    bus_arn = wire.events("CreateEventBus", Name="shop", Tags=[{"Key": "team", "Value": "shop"}])[
        "EventBusArn"
    ]
    rule_arn = wire.events(
        "PutRule", Name="r", EventPattern=PATTERN, EventBusName="shop", Tags=[{"Key": "k", "Value": "v"}]
    )["RuleArn"]
    assert rule_arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/shop/r"
    assert wire.events("ListTagsForResource", ResourceARN=bus_arn) == {
        "Tags": [{"Key": "team", "Value": "shop"}]
    }
    assert wire.events("ListTagsForResource", ResourceARN=rule_arn) == {"Tags": [{"Key": "k", "Value": "v"}]}
    wire.events("TagResource", ResourceARN=rule_arn, Tags=[{"Key": "a", "Value": "1"}])
    wire.events("UntagResource", ResourceARN=rule_arn, TagKeys=["k"])
    assert wire.events("ListTagsForResource", ResourceARN=rule_arn) == {"Tags": [{"Key": "a", "Value": "1"}]}
    with aws_error("ResourceNotFoundException", "Rule nope does not exist on EventBus shop."):
        wire.events(
            "TagResource", ResourceARN=rule_arn.replace("/r", "/nope"), Tags=[{"Key": "a", "Value": "1"}]
        )
    with aws_error("LimitExceededException"):
        wire.events(
            "TagResource", ResourceARN=bus_arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
        )
    with aws_error("ValidationException"):
        wire.events("PutRule", Name="r2", EventPattern=PATTERN, Tags=[{"Key": "aws:x", "Value": "v"}])
    with aws_error("ResourceNotFoundException"):
        wire.events("DescribeRule", Name="r2")  # refused before the rule was made
    wire.events("DeleteRule", Name="r", EventBusName="shop")
    wire.events("PutRule", Name="r", EventPattern=PATTERN, EventBusName="shop")
    assert wire.events("ListTagsForResource", ResourceARN=rule_arn) == {"Tags": []}
    wire.events("DeleteEventBus", Name="shop")
    wire.events("CreateEventBus", Name="shop")
    assert wire.events("ListTagsForResource", ResourceARN=bus_arn) == {"Tags": []}
