"""A rule's targets: what PutTargets takes and how the bus keeps each one to deliver to it
(EventBridge API Reference, PutTargets and 'Target'; EventBridge User Guide, 'Event bus targets
in Amazon EventBridge').

A target's ``Arn`` is an SQS queue, SNS topic, event bus or Kinesis stream ARN, the object
itself, an ``http(s)://`` URL (POSTed the event, as an API destination would be) or a Python
callable. PutTargets checks each target whole (Id, Arn, input shaping, RetryPolicy,
DeadLetterConfig, KinesisParameters, SqsParameters) before any is stored; the store keeps it as
JSON, and the bus compiles it back (``compile_target``) into what delivery reads per event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Union

from rulebus import validation
from rulebus._errors import constraint_error as _constraint
from rulebus.arn import Arn, function_name
from rulebus.arn import queue_name as sqs_queue_name
from rulebus.events.errors import VALIDATION, error
from rulebus.events.input_transformer import TargetInput, compile_path
from rulebus.events.names import check_name
from rulebus.functions.function import Function
from rulebus.kinesis.stream import Stream
from rulebus.sns.topic import Topic
from rulebus.sqs.queue import Queue
from rulebus.stores.records import TargetRecord
from rulebus.transport import HTTP_PROTOCOLS

if TYPE_CHECKING:
    from rulebus.events.bus import EventBus

__all__ = [
    "DEFAULT_MAXIMUM_EVENT_AGE",
    "DEFAULT_MAXIMUM_RETRY_ATTEMPTS",
    "SERVICE_TARGETS",
    "TARGET_MEMBERS",
    "CompiledTarget",
    "Target",
    "TargetArn",
    "compile_target",
    "prepare_target",
    "retry_policy",
    "target_kind",
]

#: A target as PutTargets takes it.
Target = Mapping[str, Any]
TargetArn = Union[str, Queue, Topic, "EventBus", Callable[[Any], Any]]

DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE = 86_400

# The members of Target (botocore's EventBridge model).
TARGET_MEMBERS = frozenset(
    (
        "Id",
        "Arn",
        "RoleArn",
        "Input",
        "InputPath",
        "InputTransformer",
        "KinesisParameters",
        "RunCommandParameters",
        "EcsParameters",
        "BatchParameters",
        "SqsParameters",
        "HttpParameters",
        "RedshiftDataParameters",
        "SageMakerPipelineParameters",
        "DeadLetterConfig",
        "RetryPolicy",
        "AppSyncParameters",
    )
)

#: A target kind of an AWS service and how its ARN names the resource: (service, resource type).
SERVICE_TARGETS = {
    "sqs": ("sqs", ""),
    "sns": ("sns", ""),
    "events": ("events", "event-bus"),
    "kinesis": ("kinesis", "stream"),
}


@dataclass
class CompiledTarget:
    """One target as the bus delivers to it, compiled from its stored record."""

    target_id: str
    arn: str
    kind: str  # "sqs", "sns", "events", "kinesis", "http", "python"
    input: TargetInput
    target: dict[str, Any]
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age: int = DEFAULT_MAXIMUM_EVENT_AGE
    dead_letter_arn: str | None = None
    message_group_id: str | None = None
    call: Callable[[Any], Any] | None = None  # python targets, in the process that put them
    #: An SQS target's queue name when its ARN is in the broker's region and account (else None:
    #: such a target can only fail, see ``BusDelivery.queue_target``).
    queue_name: str | None = None
    #: A queue getting the whole event: put_events stores these together
    #: (``BusDelivery.flush_queue_deliveries``).
    batchable: bool = field(init=False)
    #: ``queue_name`` when a delivery may be stored by ``Store.put_plain_many`` (it stores no
    #: MessageGroupId); None when every delivery to this target goes the long way.
    plain_queue: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.batchable = self.kind == "sqs" and self.input.kind == "event"
        self.plain_queue = self.queue_name if self.kind == "sqs" and self.message_group_id is None else None


def target_kind(arn: str) -> str:
    """ "sqs", "sns", "events", "kinesis", "lambda", "http", "python" or "unknown"."""
    if arn.startswith("python:"):
        return "python"
    if function_name(arn) is not None:
        return "lambda"
    parsed = Arn.parse(arn)
    if parsed is not None:
        for kind, (service, resource_type) in SERVICE_TARGETS.items():
            if parsed.named(service, resource_type) is not None:
                return kind
    if arn.split(":", 1)[0].lower() in HTTP_PROTOCOLS and "//" in arn:
        return "http"
    return "unknown"


def retry_policy(policy: Any, index: int) -> tuple[int, int]:
    """A target's RetryPolicy, checked: ``(MaximumRetryAttempts, MaximumEventAgeInSeconds)``,
    AWS's defaults for what it leaves out (EventBridge API Reference, 'RetryPolicy')."""
    if policy is None:
        return DEFAULT_MAXIMUM_RETRY_ATTEMPTS, DEFAULT_MAXIMUM_EVENT_AGE
    validation.mapping(policy, f"targets.{index}.member.retryPolicy", validation.EVENTS)
    attempts = policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
    age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE)
    where = f"targets.{index}.member.retryPolicy"
    for value, name, low, high in (
        (attempts, "maximumRetryAttempts", 0, 185),
        (age, "maximumEventAgeInSeconds", 60, 86_400),
    ):
        validation.integer(value, f"{where}.{name}", validation.EVENTS)
        if value < low:
            raise _constraint(
                value, f"{where}.{name}", f"Member must have value greater than or equal to {low}"
            )
        if value > high:
            raise _constraint(
                value, f"{where}.{name}", f"Member must have value less than or equal to {high}"
            )
    return attempts, age


def prepare_target(target: Target, index: int) -> tuple[dict[str, Any], Callable[[Any], Any] | None]:
    """PutTargets' checks of its ``index``-th target (1-based); returns the target as it is
    stored (its Arn a string) and, for a callable, the callable."""
    where = f"targets.{index}.member"
    target_id = target.get("Id")
    if target_id is None:
        raise _constraint("null", f"{where}.id", "Member must not be null")
    check_name(target_id, f"{where}.id", 64)
    arn, call = _target_arn(target.get("Arn"), where)
    stored = {**dict(target), "Arn": arn}
    TargetInput.from_target(stored, index)  # validates Input, InputPath, InputTransformer
    retry_policy(stored.get("RetryPolicy"), index)
    kind = target_kind(arn)
    dead_letter = stored.get("DeadLetterConfig")
    if dead_letter is not None:
        dlq = dead_letter.get("Arn") if isinstance(dead_letter, Mapping) else None
        if isinstance(dlq, Queue):
            dlq = dlq.arn
            stored["DeadLetterConfig"] = {**dead_letter, "Arn": dlq}
        if not isinstance(dlq, str) or sqs_queue_name(dlq) is None or dlq.endswith(".fifo"):
            # Our wording: the DLQ must be a standard SQS queue (EventBridge User Guide,
            # 'Using dead-letter queues to process undelivered events in EventBridge').
            raise error(
                VALIDATION,
                f"Parameter DeadLetterConfig.Arn is not valid for target {target_id}: "
                "it must be the ARN of a standard SQS queue.",
            )
    if kind == "kinesis":
        path = (stored.get("KinesisParameters") or {}).get("PartitionKeyPath")
        if path is not None and (not isinstance(path, str) or compile_path(path) is None):
            # Our wording, in the style of EventBridge's text for a bad InputPath.
            raise error(VALIDATION, f"PartitionKeyPath for target {target_id} is invalid.")
    if kind == "sqs" and arn.endswith(".fifo"):
        group = (stored.get("SqsParameters") or {}).get("MessageGroupId")
        if not isinstance(group, str) or not group:
            raise error(VALIDATION, f"Parameter(s) SqsParameters must be specified for target: {target_id}.")
    return stored, call


def _target_arn(value: Any, where: str) -> tuple[str, Callable[[Any], Any] | None]:
    from rulebus.events.bus import EventBus  # a target may be a bus object

    if isinstance(value, (Queue, Topic, EventBus, Stream, Function)):
        return value.arn, None
    if isinstance(value, str):
        if target_kind(value) == "unknown":
            raise _constraint(value, f"{where}.arn", "Member must be the ARN of a supported target")
        return value, None
    if callable(value):
        name = getattr(value, "__qualname__", type(value).__qualname__)
        return f"python:{name}:{id(value):x}", value
    if value is None:
        raise _constraint("null", f"{where}.arn", "Member must not be null")
    raise validation.EVENTS.wrong_type(
        f"{where}.arn", value, "an ARN, a Queue, Topic, EventBus, Stream or Function, or a callable"
    )


def compile_target(
    record: TargetRecord, call: Callable[[Any], Any] | None, region: str, account: str
) -> CompiledTarget:
    """A stored target as the bus delivers to it (``call``: the callable, in the process that
    put it); ``region`` and ``account`` are the broker's."""
    target = json.loads(record.target)
    arn = target["Arn"]
    attempts, age = retry_policy(target.get("RetryPolicy"), 1)
    kind = target_kind(arn)
    queue_name = None
    parsed = Arn.parse(arn) if kind == "sqs" else None
    if parsed is not None and parsed.is_in(region, account):
        queue_name = parsed.named("sqs")
    return CompiledTarget(
        target_id=record.target_id,
        arn=arn,
        kind=kind,
        input=TargetInput.from_target(target),
        target=target,
        maximum_retry_attempts=attempts,
        maximum_event_age=age,
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
        message_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
        call=call,
        queue_name=queue_name,
    )
