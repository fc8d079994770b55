"""Amazon EventBridge's operations (EventBridge API Reference) on a broker's event buses, rules,
targets, archives and replays.

A bus is named by EventBusName, its name or ARN (``default`` when absent); an ARN of another
region or account names no bus of this broker. Archives and replays are the broker's, by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rulebus import validation
from rulebus._core import test_event_pattern as _test_event_pattern
from rulebus._errors import (
    AwsError,
    InvalidEventError,
    InvalidPatternError,
    NotFound,
    RulebusError,
    constraint_error,
)
from rulebus.arn import Arn, event_bus_name
from rulebus.aws.request import Request
from rulebus.aws.services.operations import OperationTable, page, required
from rulebus.aws.services.tagging import check_tags, tag_list, tag_map
from rulebus.broker import Broker
from rulebus.events.bus import DEFAULT_BUS, EventBus
from rulebus.events.errors import missing_bus

__all__ = ["OPERATIONS"]

EVENTS = validation.EVENTS

#: The members of each listed item's shape (botocore's EventBridge model): the service's own
#: descriptions carry a few more (DescribeRule's CreatedBy, rulebus's replay progress).
RULE_MEMBERS = (
    "Name",
    "Arn",
    "EventPattern",
    "State",
    "Description",
    "ScheduleExpression",
    "RoleArn",
    "EventBusName",
)
EVENT_BUS_MEMBERS = ("Name", "Arn", "Description", "CreationTime", "LastModifiedTime")
REPLAY_MEMBERS = (
    "ReplayName",
    "ReplayArn",
    "Description",
    "State",
    "StateReason",
    "EventSourceArn",
    "Destination",
    "EventStartTime",
    "EventEndTime",
    "EventLastReplayedTime",
    "ReplayStartTime",
    "ReplayEndTime",
)
#: The largest Limit of the List operations (EventBridge API Reference).
MAX_LIMIT = 100


def _translate(error: RulebusError, request: Request) -> AwsError | None:
    if isinstance(error, InvalidPatternError):
        return AwsError("InvalidEventPatternException", str(error))
    if isinstance(error, InvalidEventError):
        return AwsError("ValidationException", str(error))
    if isinstance(error, NotFound):
        what = {"bus": "Event bus", "rule": "Rule", "archive": "Archive", "replay": "Replay"}.get(
            error.kind, error.kind.capitalize()
        )
        return AwsError("ResourceNotFoundException", f"{what} {error.name} does not exist.")
    return None


operation = OperationTable(_translate)
OPERATIONS = operation.handlers


def _pick(described: Mapping[str, Any], members: Iterable[str]) -> dict[str, Any]:
    return {name: described[name] for name in members if name in described}


def _bus(broker: Broker, given: Any, parameter: str = "EventBusName") -> EventBus:
    """The existing bus a name or ARN names (``default`` for None)."""
    if given is None:
        given = DEFAULT_BUS
    text = validation.text(given, parameter, EVENTS)
    name = text
    if text.startswith("arn:"):
        parsed = Arn.parse(text)
        name = event_bus_name(text) or text
        if parsed is None or not parsed.is_in(broker.region, broker.account):
            raise missing_bus(name)
    bus = broker.find_event_bus(name)
    if bus is None:
        raise missing_bus(name)
    return bus


def _limit(params: Mapping[str, Any]) -> int | None:
    limit = params.get("Limit")
    if limit is None:
        return None
    limit = validation.integer(limit, "limit", EVENTS)
    if limit < 1:
        raise constraint_error(limit, "limit", "Member must have value greater than or equal to 1")
    if limit > MAX_LIMIT:
        raise constraint_error(limit, "limit", f"Member must have value less than or equal to {MAX_LIMIT}")
    return limit


def _bad_token() -> AwsError:
    # Our wording; AWS answers ValidationException for a token it did not issue.
    return AwsError("ValidationException", "The NextToken provided is invalid.")


def _paged(request: Request, items: Sequence[Any], member: str) -> dict[str, Any]:
    params = request.params
    shown, token = page(items, params.get("NextToken"), _limit(params), _bad_token)
    result: dict[str, Any] = {member: list(shown)}
    if token is not None:
        result["NextToken"] = token
    return result


# --------------------------------------------------------------------------------------------
# Event buses.


@operation("CreateEventBus")
def create_event_bus(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    if params.get("EventSourceName") is not None:
        # Our wording: partner event sources are SaaS integrations rulebus does not have.
        raise AwsError(
            "ResourceNotFoundException", f"Event source {params['EventSourceName']} does not exist."
        )
    description = params.get("Description")
    tags = _given_tags(params)
    bus = broker.create_event_bus(required(params, "Name", EVENTS), description)
    if tags:
        broker.tag_resource(bus.arn, tags)
    result: dict[str, Any] = {"EventBusArn": bus.arn}
    if description is not None:
        result["Description"] = description
    return result


@operation("DescribeEventBus")
def describe_event_bus(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _bus(broker, request.params.get("Name"), "Name").describe()


@operation("ListEventBuses")
def list_event_buses(broker: Broker, request: Request) -> Mapping[str, Any]:
    prefix = validation.text(request.params.get("NamePrefix"), "namePrefix", EVENTS, required=False)
    buses = [
        _pick(bus.describe(), EVENT_BUS_MEMBERS)
        for bus in broker.event_buses()
        if prefix is None or bus.name.startswith(prefix)
    ]
    return _paged(request, buses, "EventBuses")


@operation("DeleteEventBus")
def delete_event_bus(broker: Broker, request: Request) -> Mapping[str, Any]:
    broker.delete_event_bus(required(request.params, "Name", EVENTS))
    return {}


# --------------------------------------------------------------------------------------------
# Rules and targets.


@operation("PutRule")
def put_rule(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    bus = _bus(broker, params.get("EventBusName"))
    tags = _given_tags(params)
    arn = bus.put_rule(
        required(params, "Name", EVENTS),
        event_pattern=params.get("EventPattern"),
        schedule_expression=params.get("ScheduleExpression"),
        state=params.get("State", "ENABLED"),
        description=params.get("Description"),
    )
    if tags:
        _check_tags(tags, broker.tags(arn))
        broker.tag_resource(arn, tags)
    return {"RuleArn": arn}


@operation("DescribeRule")
def describe_rule(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    return _bus(broker, params.get("EventBusName")).describe_rule(required(params, "Name", EVENTS))


@operation("ListRules")
def list_rules(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    rules = _bus(broker, params.get("EventBusName")).list_rules(params.get("NamePrefix"))
    return _paged(request, [_pick(rule, RULE_MEMBERS) for rule in rules], "Rules")


@operation("EnableRule")
def enable_rule(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    _bus(broker, params.get("EventBusName")).enable_rule(required(params, "Name", EVENTS))
    return {}


@operation("DisableRule")
def disable_rule(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    _bus(broker, params.get("EventBusName")).disable_rule(required(params, "Name", EVENTS))
    return {}


@operation("DeleteRule")
def delete_rule(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    _bus(broker, params.get("EventBusName")).delete_rule(required(params, "Name", EVENTS))
    return {}


@operation("ListRuleNamesByTarget")
def list_rule_names_by_target(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    target = validation.text(required(params, "TargetArn", EVENTS), "targetArn", EVENTS)
    bus = _bus(broker, params.get("EventBusName"))
    names = [
        rule["Name"]
        for rule in bus.list_rules()
        if any(t.get("Arn") == target for t in bus.list_targets_by_rule(rule["Name"]))
    ]
    return _paged(request, names, "RuleNames")


@operation("PutTargets")
def put_targets(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    bus = _bus(broker, params.get("EventBusName"))
    return bus.put_targets(required(params, "Rule", EVENTS), required(params, "Targets", EVENTS))


@operation("RemoveTargets")
def remove_targets(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    bus = _bus(broker, params.get("EventBusName"))
    return bus.remove_targets(required(params, "Rule", EVENTS), required(params, "Ids", EVENTS))


@operation("ListTargetsByRule")
def list_targets_by_rule(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    targets = _bus(broker, params.get("EventBusName")).list_targets_by_rule(required(params, "Rule", EVENTS))
    return _paged(request, targets, "Targets")


@operation("TestEventPattern")
def test_event_pattern(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    pattern = validation.text(required(params, "EventPattern", EVENTS), "eventPattern", EVENTS)
    event = validation.text(required(params, "Event", EVENTS), "event", EVENTS)
    return {"Result": bool(_test_event_pattern(pattern, event))}


# --------------------------------------------------------------------------------------------
# Events.


@operation("PutEvents")
def put_events(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    if params.get("EndpointId") is not None:
        # Our wording: global endpoints route between regions, which one broker does not span.
        raise AwsError("ValidationException", "Parameter EndpointId is not supported by rulebus.")
    # Each entry names its bus (the default one when it names none); the bus routes them.
    return broker.event_bus(DEFAULT_BUS).put_events(required(params, "Entries", EVENTS))


# --------------------------------------------------------------------------------------------
# Archives and replays.


def _any_bus(broker: Broker) -> EventBus:
    # Archives and replays are the broker's, by name: any bus reaches them.
    return broker.event_bus(DEFAULT_BUS)


@operation("CreateArchive")
def create_archive(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    bus = _bus(broker, required(params, "EventSourceArn", EVENTS), "EventSourceArn")
    return bus.create_archive(
        required(params, "ArchiveName", EVENTS),
        event_pattern=params.get("EventPattern"),
        retention_days=params.get("RetentionDays", 0),
        description=params.get("Description"),
    )


@operation("DescribeArchive")
def describe_archive(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _any_bus(broker).describe_archive(required(request.params, "ArchiveName", EVENTS))


@operation("UpdateArchive")
def update_archive(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    return _any_bus(broker).update_archive(
        required(params, "ArchiveName", EVENTS),
        event_pattern=params.get("EventPattern"),
        retention_days=params.get("RetentionDays"),
        description=params.get("Description"),
    )


@operation("DeleteArchive")
def delete_archive(broker: Broker, request: Request) -> Mapping[str, Any]:
    _any_bus(broker).delete_archive(required(request.params, "ArchiveName", EVENTS))
    return {}


def _source_buses(broker: Broker, request: Request) -> list[EventBus]:
    source = request.params.get("EventSourceArn")
    return broker.event_buses() if source is None else [_bus(broker, source, "EventSourceArn")]


@operation("ListArchives")
def list_archives(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    archives = [
        archive
        for bus in _source_buses(broker, request)
        for archive in bus.list_archives(params.get("NamePrefix"), params.get("State"))
    ]
    archives.sort(key=lambda archive: str(archive["ArchiveName"]))
    return _paged(request, archives, "Archives")


@operation("StartReplay")
def start_replay(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    destination = validation.mapping(required(params, "Destination", EVENTS), "destination", EVENTS)
    bus = _bus(broker, required(destination, "Arn", EVENTS), "Destination.Arn")
    started = bus.start_replay(
        required(params, "ReplayName", EVENTS),
        required(params, "EventSourceArn", EVENTS),
        required(params, "EventStartTime", EVENTS),
        required(params, "EventEndTime", EVENTS),
        rules=destination.get("FilterArns"),
        description=params.get("Description"),
    )
    return _pick(started, ("ReplayArn", "State", "StateReason", "ReplayStartTime"))


@operation("DescribeReplay")
def describe_replay(broker: Broker, request: Request) -> Mapping[str, Any]:
    described = _any_bus(broker).describe_replay(required(request.params, "ReplayName", EVENTS))
    return _pick(described, REPLAY_MEMBERS)


@operation("ListReplays")
def list_replays(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    source = validation.text(params.get("EventSourceArn"), "eventSourceArn", EVENTS, required=False)
    replays = [
        replay
        for bus in broker.event_buses()
        for replay in bus.list_replays(params.get("NamePrefix"), params.get("State"))
        if source is None or replay.get("EventSourceArn") == source
    ]
    return _paged(request, replays, "Replays")


@operation("CancelReplay")
def cancel_replay(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _any_bus(broker).cancel_replay(required(request.params, "ReplayName", EVENTS))


# --------------------------------------------------------------------------------------------
# Tags (EventBridge User Guide, 'Tagging resources in Amazon EventBridge'): of buses and rules.


def _check_tags(tags: Mapping[str, str], held: Mapping[str, str]) -> None:
    check_tags(
        tags,
        held,
        lambda reason: AwsError("ValidationException", reason),
        lambda reason: AwsError("LimitExceededException", reason),
    )


def _given_tags(params: Mapping[str, Any]) -> dict[str, str]:
    """The Tags of a creating call, checked before anything is created."""
    tags = tag_map(params["Tags"], "tags", EVENTS) if params.get("Tags") is not None else {}
    _check_tags(tags, {})
    return tags


def _tagged(broker: Broker, request: Request) -> str:
    """The ARN of the bus or rule a tagging call names, with EventBridge's error for one that
    is not there."""
    arn = validation.text(required(request.params, "ResourceARN", EVENTS), "resourceARN", EVENTS)
    parsed = Arn.parse(arn)
    if parsed is None or parsed.service != "events":
        raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist.")  # our wording
    resource = parsed.resource
    if resource.startswith("rule/"):
        bus_name, _, rule = resource[len("rule/") :].rpartition("/")
        bus_arn = f"arn:aws:events:{parsed.region}:{parsed.account}:event-bus/{bus_name or DEFAULT_BUS}"
        _bus(broker, bus_arn, "ResourceARN").describe_rule(
            rule
        )  # ResourceNotFoundException "Rule r does not exist on EventBus b."
        return arn
    if resource.startswith("event-bus/"):
        _bus(broker, arn, "ResourceARN")
        return arn
    # Our wording: archives, connections and the rest are not taggable here.
    raise AwsError("ResourceNotFoundException", f"Resource {arn} does not exist.")


@operation("TagResource")
def tag_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    arn = _tagged(broker, request)
    tags = tag_map(required(request.params, "Tags", EVENTS), "tags", EVENTS)
    _check_tags(tags, broker.tags(arn))
    broker.tag_resource(arn, tags)
    return {}


@operation("UntagResource")
def untag_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    arn = _tagged(broker, request)
    keys = validation.string_list(required(request.params, "TagKeys", EVENTS), "tagKeys", EVENTS)
    broker.untag_resource(arn, keys)
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    return {"Tags": tag_list(broker.tags(_tagged(broker, request)))}
