"""A pipe's parameters, checked as CreatePipe and UpdatePipe check them (EventBridge Pipes API
Reference: PipeSourceParameters, PipeEnrichmentParameters, PipeTargetParameters), and turned into
what runs them: the source's batching and failure settings as an event source mapping's
:class:`~rulebus.functions.event_source_mapping.MappingSettings` (a pipe reads its queue or
stream with the same poller as a Lambda mapping), and the target's parameters.

A value that breaks the request model (a range, a length, an enum, a type) is the model's
ValidationException ("1 validation error detected: ..."), with the member's path in camel case
(``sourceParameters.sqsQueueParameters.batchSize``). Checks beyond the model (a parameter for
another kind of source, a batch larger than the target takes) are ValidationException too, in
rulebus's words where AWS's text is not recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.functions.event_source_mapping import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_KINESIS_BATCH_SIZE,
    KINESIS,
    MAX_BATCH_SIZE,
    MAX_BATCHING_WINDOW,
    MAX_FIFO_BATCH_SIZE,
    MAX_KINESIS_RETRY_ATTEMPTS,
    MAX_PARALLELIZATION_FACTOR,
    MAX_RECORD_AGE,
    REPORT_BATCH_ITEM_FAILURES,
    STARTING_POSITIONS,
    MappingSettings,
)
from rulebus.functions.filter_criteria import MAX_FILTERS, FilterCriteria
from rulebus.pipes.input_template import InputTemplate, check_dynamic, checked_length

__all__ = [
    "SourceParameters",
    "TargetParameters",
    "check_enrichment_parameters",
    "check_source_parameters",
    "check_target_parameters",
    "invalid",
]

#: Request-model limits (EventBridge Pipes API Reference).
MAX_PATTERN_LENGTH = 4096
MAX_GROUP_ID_LENGTH = 100
MAX_PARTITION_KEY_LENGTH = 256
MAX_DETAIL_TYPE_LENGTH = 128
MAX_EVENT_SOURCE_LENGTH = 256
INVOCATION_TYPES = ("REQUEST_RESPONSE", "FIRE_AND_FORGET")
AUTOMATIC_BISECT = "AUTOMATIC_BISECT"

#: The most records one call of each target takes (EventBridge User Guide, 'Amazon EventBridge
#: Pipes batching and concurrency'): a pipe cannot be given a larger source batch.
TARGET_BATCH_LIMITS = {"sqs": 10, "events": 10, "kinesis": 500}

_SQS_MEMBERS = frozenset({"BatchSize", "MaximumBatchingWindowInSeconds"})
_KINESIS_MEMBERS = frozenset(
    {
        "BatchSize",
        "DeadLetterConfig",
        "OnPartialBatchItemFailure",
        "MaximumBatchingWindowInSeconds",
        "MaximumRecordAgeInSeconds",
        "MaximumRetryAttempts",
        "ParallelizationFactor",
        "StartingPosition",
        "StartingPositionTimestamp",
    }
)
_SOURCE_MEMBERS = {"sqs": "SqsQueueParameters", KINESIS: "KinesisStreamParameters"}
#: Members of PipeSourceParameters for sources rulebus does not have (DynamoDB, MQ, Kafka).
_OTHER_SOURCES = (
    "DynamoDBStreamParameters",
    "ActiveMQBrokerParameters",
    "RabbitMQBrokerParameters",
    "ManagedStreamingKafkaParameters",
    "SelfManagedKafkaParameters",
)
_TARGET_MEMBERS = {
    "lambda": "LambdaFunctionParameters",
    "sqs": "SqsQueueParameters",
    "events": "EventBridgeEventBusParameters",
    "kinesis": "KinesisStreamParameters",
}


def invalid(message: str) -> AwsError:
    """Pipes' ValidationException with ``message``."""
    return AwsError("ValidationException", message)


def _missing_parameter(name: str) -> AwsError:
    """Pipes' ValidationException for a required parameters member that is absent, in the shape
    AWS answers CreatePipe with (recorded for a DynamoDB stream source without
    DynamoDBStreamParameters and a Kafka one without ManagedStreamingKafkaParameters)."""
    fields = [{"Name": name, "Message": "Missing required parameter."}]
    return invalid(json.dumps({"ValidationErrorFields": fields}, separators=(",", ":")))


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


def _range(value: Any, where: str, low: int, high: int) -> int | None:
    number = validation.integer(value, where, validation.PIPES, required=False)
    if number is None:
        return None
    if number < low:
        raise constraint_error(number, where, f"Member must have value greater than or equal to {low}")
    if number > high:
        raise constraint_error(number, where, f"Member must have value less than or equal to {high}")
    return number


def _enum(value: Any, where: str, values: tuple[str, ...]) -> Any:
    """A member that takes one of ``values`` (or None)."""
    if value is not None and value not in values:
        raise constraint_error(value, where, f"Member must satisfy enum value set: [{', '.join(values)}]")
    return value


def _members(value: Any, where: str, known: frozenset[str]) -> Mapping[str, Any]:
    checked: Mapping[str, Any] = validation.mapping(value, where, validation.PIPES)
    unknown = sorted(set(checked) - known)
    if unknown:
        # rulebus's words (an SDK refuses an unknown member before sending).
        raise invalid(
            f'Unknown parameter in {where}: "{unknown[0]}", must be one of: {", ".join(sorted(known))}'
        )
    return checked


@dataclass(frozen=True)
class SourceParameters:
    """The source parameters given (for DescribePipe) and the settings that run them."""

    given: dict[str, Any]
    settings: MappingSettings


def _filter_criteria(value: Any) -> FilterCriteria | None:
    if value is None:
        return None
    where = "sourceParameters.filterCriteria"
    criteria = _members(value, where, frozenset({"Filters"}))
    filters = criteria.get("Filters", [])
    if not isinstance(filters, list):
        raise validation.PIPES.wrong_type(f"{where}.filters", filters, "a list")
    if len(filters) > MAX_FILTERS:
        raise constraint_error(
            filters, f"{where}.filters", f"Member must have length less than or equal to {MAX_FILTERS}"
        )
    for index, entry in enumerate(filters, 1):
        entry = _members(entry, f"{where}.filters.{index}.member", frozenset({"Pattern"}))
        checked_length(entry.get("Pattern"), f"{where}.filters.{index}.member.pattern", 0, MAX_PATTERN_LENGTH)
    try:
        return FilterCriteria(criteria)
    except AwsError as error:
        # rulebus's words, in the style of EventBridge's pattern errors.
        raise invalid(f"Invalid FilterCriteria: {error.message}") from None


def check_source_parameters(
    given: Any, kind: str, fifo: bool, enabled: bool, *, update: bool = False
) -> SourceParameters:
    """PipeSourceParameters (or, with ``update``, UpdatePipeSourceParameters, which cannot change
    the starting position) for a source of ``kind`` (``"sqs"`` or ``"kinesis"``)."""
    parameters = dict(given or {})
    _members(
        parameters,
        "sourceParameters",
        frozenset({"FilterCriteria", *_SOURCE_MEMBERS.values(), *_OTHER_SOURCES}),
    )
    for name in (*_OTHER_SOURCES, *(member for key, member in _SOURCE_MEMBERS.items() if key != kind)):
        if parameters.get(name) is not None:
            # rulebus's words: the parameters of another kind of source.
            raise invalid(f"{name} cannot be used with a source of this type.")
    member = _SOURCE_MEMBERS[kind]
    where = f"sourceParameters.{_camel(member)}"
    criteria = _filter_criteria(parameters.get("FilterCriteria"))
    if kind == KINESIS:
        known = _KINESIS_MEMBERS - ({"StartingPosition", "StartingPositionTimestamp"} if update else set())
        source = _members(parameters.get(member) or {}, where, frozenset(known))
        if not update and parameters.get(member) is None:
            raise _missing_parameter(f"SourceParameters.{member}")
    else:
        source = _members(parameters.get(member) or {}, where, _SQS_MEMBERS)
    size = _range(source.get("BatchSize"), f"{where}.batchSize", 1, MAX_BATCH_SIZE)
    window = _range(
        source.get("MaximumBatchingWindowInSeconds"),
        f"{where}.maximumBatchingWindowInSeconds",
        0,
        MAX_BATCHING_WINDOW,
    )
    if size is None:
        size = DEFAULT_KINESIS_BATCH_SIZE if kind == KINESIS else DEFAULT_BATCH_SIZE
    if fifo and size > MAX_FIFO_BATCH_SIZE:
        # rulebus's words: an SQS FIFO source takes batches of 10 at most, as a Lambda mapping.
        raise invalid(f"BatchSize {size} exceeds the maximum of {MAX_FIFO_BATCH_SIZE} for FIFO queues")
    settings = MappingSettings(
        size,
        window or 0,
        enabled,
        # A function target's batchItemFailures are always read (Pipes has no setting for it).
        (REPORT_BATCH_ITEM_FAILURES,),
        criteria,
        None,
    )
    if kind == KINESIS:
        settings = _kinesis(settings, source, where)
    return SourceParameters(parameters, settings)


def _kinesis(settings: MappingSettings, source: Mapping[str, Any], where: str) -> MappingSettings:
    position = _enum(source.get("StartingPosition"), f"{where}.startingPosition", STARTING_POSITIONS)
    timestamp = source.get("StartingPositionTimestamp")
    if timestamp is not None:
        timestamp = validation.finite_number(
            timestamp, f"{where}.startingPositionTimestamp", validation.PIPES
        )
    factor = _range(
        source.get("ParallelizationFactor"), f"{where}.parallelizationFactor", 1, MAX_PARALLELIZATION_FACTOR
    )
    retries = _range(
        source.get("MaximumRetryAttempts"), f"{where}.maximumRetryAttempts", -1, MAX_KINESIS_RETRY_ATTEMPTS
    )
    age = _range(
        source.get("MaximumRecordAgeInSeconds"), f"{where}.maximumRecordAgeInSeconds", -1, MAX_RECORD_AGE
    )
    bisect = _enum(
        source.get("OnPartialBatchItemFailure"), f"{where}.onPartialBatchItemFailure", (AUTOMATIC_BISECT,)
    )
    dead_letter = None
    if source.get("DeadLetterConfig") is not None:
        config = _members(source["DeadLetterConfig"], f"{where}.deadLetterConfig", frozenset({"Arn"}))
        dead_letter = validation.text(config.get("Arn"), f"{where}.deadLetterConfig.arn", validation.PIPES)
    return replace(
        settings,
        starting_position=position or "LATEST",
        starting_position_timestamp=timestamp,
        parallelization_factor=factor or 1,
        bisect_batch_on_function_error=bisect == AUTOMATIC_BISECT,
        maximum_retry_attempts=-1 if retries is None else retries,
        maximum_record_age_in_seconds=-1 if age is None else age,
        on_failure_destination=dead_letter,
    )


def updated_source_parameters(current: dict[str, Any], changes: Any) -> dict[str, Any]:
    """UpdatePipe's source parameters: the members given replace the current ones, one level
    down (a batch size alone keeps the filter criteria and the starting position)."""
    merged = {key: dict(value) if isinstance(value, Mapping) else value for key, value in current.items()}
    for key, value in dict(validation.mapping(changes, "sourceParameters", validation.PIPES)).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict) and key != "FilterCriteria":
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def check_enrichment_parameters(given: Any) -> InputTemplate | None:
    """PipeEnrichmentParameters: the template the enrichment's input is made with."""
    if given is None:
        return None
    parameters = _members(given, "enrichmentParameters", frozenset({"InputTemplate", "HttpParameters"}))
    if parameters.get("HttpParameters") is not None:
        # rulebus's words: enrichment by API destination or API Gateway is not emulated.
        raise invalid("HttpParameters are not supported: rulebus enriches with functions.")
    template = parameters.get("InputTemplate")
    return None if template is None else InputTemplate.compile(template, "enrichmentParameters.inputTemplate")


@dataclass(frozen=True)
class TargetParameters:
    """The target parameters given and the compiled template (None: records go as they are)."""

    given: dict[str, Any]
    template: InputTemplate | None

    def member(self, name: str) -> dict[str, Any]:
        """One target's parameters (``SqsQueueParameters``...), empty when not given."""
        return dict(self.given.get(name) or {})


def check_target_parameters(
    given: Any, kind: str, batch_size: int | None, fifo_target: bool
) -> TargetParameters:
    """PipeTargetParameters for a target of ``kind`` (``"lambda"``, ``"sqs"``, ``"sns"``,
    ``"events"``, ``"kinesis"``); ``batch_size`` is the source's, when given, checked against
    what the target takes at once."""
    parameters = dict(given or {})
    known = frozenset(
        {
            "InputTemplate",
            *_TARGET_MEMBERS.values(),
            "StepFunctionStateMachineParameters",
            "EcsTaskParameters",
            "BatchJobParameters",
            "HttpParameters",
            "RedshiftDataParameters",
            "SageMakerPipelineParameters",
            "CloudWatchLogsParameters",
            "TimestreamParameters",
        }
    )
    _members(parameters, "targetParameters", known)
    mine = _TARGET_MEMBERS.get(kind)
    for name in known - {"InputTemplate"}:
        if name != mine and parameters.get(name) is not None:
            # rulebus's words: the parameters of another kind of target.
            raise invalid(f"{name} cannot be used with a target of this type.")
    limit = TARGET_BATCH_LIMITS.get(kind)
    if batch_size is not None and limit is not None and batch_size > limit:
        # rulebus's words for the user guide's rule ("you can't configure a pipe with a larger
        # batch size than the target supports").
        raise invalid(f"BatchSize {batch_size} is more than this target takes at once ({limit}).")
    where = "targetParameters"
    if kind == "lambda":
        lambda_parameters = _members(
            parameters.get("LambdaFunctionParameters") or {},
            f"{where}.lambdaFunctionParameters",
            frozenset({"InvocationType"}),
        )
        _enum(
            lambda_parameters.get("InvocationType"),
            f"{where}.lambdaFunctionParameters.invocationType",
            INVOCATION_TYPES,
        )
    elif kind == "sqs":
        sqs = _members(
            parameters.get("SqsQueueParameters") or {},
            f"{where}.sqsQueueParameters",
            frozenset({"MessageGroupId", "MessageDeduplicationId"}),
        )
        for name in ("MessageGroupId", "MessageDeduplicationId"):
            value = checked_length(
                sqs.get(name), f"{where}.sqsQueueParameters.{_camel(name)}", 0, MAX_GROUP_ID_LENGTH
            )
            check_dynamic(value, f"{where}.sqsQueueParameters.{_camel(name)}")
        if fifo_target and sqs.get("MessageGroupId") is None:
            # rulebus's words: SendMessage to a FIFO queue needs a group.
            raise invalid("MessageGroupId is required for a FIFO queue target.")
    elif kind == "events":
        bus = _members(
            parameters.get("EventBridgeEventBusParameters") or {},
            f"{where}.eventBridgeEventBusParameters",
            frozenset({"EndpointId", "DetailType", "Source", "Resources", "Time"}),
        )
        detail_type = checked_length(
            bus.get("DetailType"),
            f"{where}.eventBridgeEventBusParameters.detailType",
            1,
            MAX_DETAIL_TYPE_LENGTH,
        )
        source = checked_length(
            bus.get("Source"), f"{where}.eventBridgeEventBusParameters.source", 1, MAX_EVENT_SOURCE_LENGTH
        )
        check_dynamic(detail_type, f"{where}.eventBridgeEventBusParameters.detailType")
        check_dynamic(source, f"{where}.eventBridgeEventBusParameters.source")
        if bus.get("Resources") is not None:
            validation.string_list(
                bus["Resources"], f"{where}.eventBridgeEventBusParameters.resources", validation.PIPES
            )
    elif kind == "kinesis":
        stream = parameters.get("KinesisStreamParameters")
        if stream is None:
            raise validation.PIPES.missing(f"{where}.kinesisStreamParameters.partitionKey")
        stream = _members(stream, f"{where}.kinesisStreamParameters", frozenset({"PartitionKey"}))
        key = checked_length(
            stream.get("PartitionKey"),
            f"{where}.kinesisStreamParameters.partitionKey",
            0,
            MAX_PARTITION_KEY_LENGTH,
            required=True,
        )
        check_dynamic(key, f"{where}.kinesisStreamParameters.partitionKey")
    template = parameters.get("InputTemplate")
    compiled = None if template is None else InputTemplate.compile(template, f"{where}.inputTemplate")
    return TargetParameters(parameters, compiled)
