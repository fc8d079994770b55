"""How a pipe hands a batch to its target (EventBridge User Guide, 'Amazon EventBridge Pipes
targets' and 'Amazon EventBridge Pipes batching and concurrency').

- A function gets the whole batch as one JSON array (InvocationType REQUEST_RESPONSE, the default:
  synchronously, its failure fails the batch and its ``batchItemFailures`` fail those records;
  FIRE_AND_FORGET: invoked asynchronously, the batch is done once handed over).
- A queue gets one message per record (SendMessageBatch, 10 at a time), a stream one record per
  record (PutRecords, 500 at a time), a topic one notification per record, a bus one event per
  record (PutEvents, 10 at a time) with ``source`` "Pipe <name>" and ``detail-type`` "Event from
  <source>" unless the target parameters say otherwise.
- A record is sent as the JSON it is (the source's record, or what the enrichment returned), or as
  the target's InputTemplate renders it.

Any call the target refuses in part or in whole fails the batch (raises), so that the source's
failure handling takes over: the records are sent again, as on AWS (at least once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rulebus.functions.function import Function, Invocation
from rulebus.pipes.input_template import parsed, resolve_dynamic
from rulebus.pipes.parameters import TargetParameters

if TYPE_CHECKING:
    from rulebus.events.bus import EventBus
    from rulebus.kinesis.stream import Stream
    from rulebus.sns.topic import Topic
    from rulebus.sqs.queue import Queue

__all__ = ["TargetError", "deliver"]

_SQS_BATCH = 10
_EVENTS_BATCH = 10
_KINESIS_BATCH = 500


class TargetError(Exception):
    """The target refused (part of) a batch: the batch fails."""


def _text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def deliver(
    target: Any,
    records: list[Any],
    payloads: list[Any],
    parameters: TargetParameters,
    pipe_name: str,
    source_type: str,
    invoke_async: Callable[[str, Any], bool],
) -> Invocation:
    """Hand ``payloads`` (one per record of ``records``, the untransformed records that dynamic
    parameters read) to ``target``; the function's invocation when the target is one, else an
    empty successful one. Raises :class:`TargetError` when the target refuses them."""
    from rulebus.events.bus import EventBus
    from rulebus.kinesis.stream import Stream
    from rulebus.sns.topic import Topic
    from rulebus.sqs.queue import Queue

    if isinstance(target, Function):
        return _to_function(target, payloads, parameters, invoke_async)
    views = [parsed(record) for record in records]
    if isinstance(target, Queue):
        _to_queue(target, views, payloads, parameters)
    elif isinstance(target, Topic):
        _to_topic(target, payloads)
    elif isinstance(target, EventBus):
        _to_bus(target, views, payloads, parameters, pipe_name, source_type)
    elif isinstance(target, Stream):
        _to_stream(target, views, payloads, parameters)
    else:
        raise TargetError("the target does not exist")
    return Invocation()


def _to_function(
    function: Function,
    payloads: list[Any],
    parameters: TargetParameters,
    invoke_async: Callable[[str, Any], bool],
) -> Invocation:
    invocation_type = parameters.member("LambdaFunctionParameters").get("InvocationType", "REQUEST_RESPONSE")
    if invocation_type == "FIRE_AND_FORGET":
        if not invoke_async(function.name, payloads):
            raise TargetError(f"function {function.name} does not exist")
        return Invocation()
    return function.run(payloads)


def _to_queue(queue: Queue, views: list[Any], payloads: list[Any], parameters: TargetParameters) -> None:
    sqs = parameters.member("SqsQueueParameters")
    entries: list[dict[str, Any]] = []
    for index, (view, payload) in enumerate(zip(views, payloads)):
        entry: dict[str, Any] = {"Id": str(index), "MessageBody": _text(payload)}
        group = resolve_dynamic(sqs.get("MessageGroupId"), view)
        if group is not None:
            entry["MessageGroupId"] = group
        deduplication = resolve_dynamic(sqs.get("MessageDeduplicationId"), view)
        if deduplication is not None:
            entry["MessageDeduplicationId"] = deduplication
        entries.append(entry)
    for chunk in _chunks(entries, _SQS_BATCH):
        failed = queue.send_batch(chunk).get("Failed", [])
        if failed:
            raise TargetError(f"SendMessageBatch to {queue.name} failed: {failed[0].get('Message')}")


def _to_topic(topic: Topic, payloads: list[Any]) -> None:
    for payload in payloads:
        topic.publish(_text(payload))


def _to_bus(
    bus: EventBus,
    views: list[Any],
    payloads: list[Any],
    parameters: TargetParameters,
    pipe_name: str,
    source_type: str,
) -> None:
    settings = parameters.member("EventBridgeEventBusParameters")
    entries: list[dict[str, Any]] = []
    for view, payload in zip(views, payloads):
        entry: dict[str, Any] = {
            "Source": resolve_dynamic(settings.get("Source"), view) or f"Pipe {pipe_name}",
            "DetailType": resolve_dynamic(settings.get("DetailType"), view) or f"Event from {source_type}",
            "Detail": _text(payload),
        }
        if settings.get("Resources"):
            entry["Resources"] = list(settings["Resources"])
        entries.append(entry)
    for chunk in _chunks(entries, _EVENTS_BATCH):
        answer = bus.put_events(chunk)
        if answer.get("FailedEntryCount"):
            failed = next(entry for entry in answer["Entries"] if entry.get("ErrorCode"))
            raise TargetError(f"PutEvents to {bus.name} failed: {failed.get('ErrorMessage')}")


def _to_stream(stream: Stream, views: list[Any], payloads: list[Any], parameters: TargetParameters) -> None:
    key = parameters.member("KinesisStreamParameters").get("PartitionKey")
    entries = []
    for view, payload in zip(views, payloads):
        partition_key = resolve_dynamic(key, view)
        if not partition_key:
            raise TargetError(f"no partition key for a record ({key})")
        entries.append({"Data": _text(payload).encode(), "PartitionKey": partition_key})
    for chunk in _chunks(entries, _KINESIS_BATCH):
        answer = stream.put_records(chunk)
        if answer.get("FailedRecordCount"):
            raise TargetError(f"PutRecords to {stream.name} failed")
