"""An event source mapping: which queue feeds which function, and how (AWS Lambda API Reference,
CreateEventSourceMapping; AWS Lambda Developer Guide, 'Using Lambda with Amazon SQS').

This module holds the mapping's record, its snake-case answer (CreateEventSourceMapping's fields)
and the checks Lambda makes of its settings, with Lambda's error codes and, where Lambda's text is
known, its messages. Running the mapping is :mod:`rulebus.functions.sqs_source`'s and
:mod:`rulebus.functions.runtime`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.functions.filter_criteria import FilterCriteria
from rulebus.functions.function import check_range

__all__ = [
    "REPORT_BATCH_ITEM_FAILURES",
    "EventSourceMapping",
    "MappingSettings",
    "check_settings",
    "mapping_not_found",
]

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

#: SQS mappings (AWS Lambda API Reference, CreateEventSourceMapping): BatchSize defaults to 10,
#: up to 10,000 on a standard queue (more than 10 needs a batching window) and 10 on a FIFO queue;
#: MaximumBatchingWindowInSeconds 0-300; ScalingConfig.MaximumConcurrency 2-1000.
DEFAULT_BATCH_SIZE = 10
#: Kinesis mappings (same page): BatchSize defaults to 100; ParallelizationFactor 1-10;
#: MaximumRetryAttempts -1 (no limit, the default) to 10,000; MaximumRecordAgeInSeconds -1 (no
#: limit, the default) or 60 to 604,800; StartingPosition is required.
DEFAULT_KINESIS_BATCH_SIZE = 100
MAX_PARALLELIZATION_FACTOR = 10
MAX_KINESIS_RETRY_ATTEMPTS = 10000
MAX_RECORD_AGE = 604800
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
SQS = "sqs"
KINESIS = "kinesis"
MAX_BATCH_SIZE = 10000
MAX_FIFO_BATCH_SIZE = 10
MAX_BATCHING_WINDOW = 300
MIN_MAXIMUM_CONCURRENCY = 2
MAX_MAXIMUM_CONCURRENCY = 1000


def invalid_parameter(message: str) -> AwsError:
    """Lambda's InvalidParameterValueException."""
    return AwsError("InvalidParameterValueException", message)


def mapping_not_found() -> AwsError:
    """Lambda's answer for an event source mapping UUID it does not know."""
    return AwsError("ResourceNotFoundException", "The resource you requested does not exist.", status=404)


@dataclass(frozen=True)
class MappingSettings:
    """The settings a mapping is created or updated with, checked."""

    batch_size: int
    maximum_batching_window_in_seconds: int
    enabled: bool
    function_response_types: tuple[str, ...]
    filter_criteria: FilterCriteria | None
    maximum_concurrency: int | None
    # Kinesis only (None on SQS mappings).
    starting_position: str | None = None
    starting_position_timestamp: float | None = None
    parallelization_factor: int | None = None
    bisect_batch_on_function_error: bool | None = None
    maximum_retry_attempts: int | None = None
    maximum_record_age_in_seconds: int | None = None
    on_failure_destination: str | None = None

    def answer(self) -> dict[str, Any]:
        """The Kinesis members of the mapping's answer (none for SQS)."""
        if self.starting_position is None:
            return {}
        answer: dict[str, Any] = {
            "starting_position": self.starting_position,
            "parallelization_factor": self.parallelization_factor,
            "bisect_batch_on_function_error": self.bisect_batch_on_function_error,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_record_age_in_seconds": self.maximum_record_age_in_seconds,
            "destination_config": {"OnFailure": {}}
            if self.on_failure_destination is None
            else {"OnFailure": {"Destination": self.on_failure_destination}},
        }
        if self.starting_position_timestamp is not None:
            answer["starting_position_timestamp"] = self.starting_position_timestamp
        return answer

    def given(self) -> dict[str, Any]:
        """These settings as check_settings' keywords (what an update starts from)."""
        return {
            "batch_size": self.batch_size,
            "maximum_batching_window_in_seconds": self.maximum_batching_window_in_seconds,
            "enabled": self.enabled,
            "function_response_types": list(self.function_response_types),
            "filter_criteria": None if self.filter_criteria is None else self.filter_criteria.criteria,
            "scaling_config": None
            if self.maximum_concurrency is None
            else {"MaximumConcurrency": self.maximum_concurrency},
            "starting_position": self.starting_position,
            "starting_position_timestamp": self.starting_position_timestamp,
            "parallelization_factor": self.parallelization_factor,
            "bisect_batch_on_function_error": self.bisect_batch_on_function_error,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_record_age_in_seconds": self.maximum_record_age_in_seconds,
            "destination_config": None
            if self.on_failure_destination is None
            else {"OnFailure": {"Destination": self.on_failure_destination}},
        }


def check_settings(
    *,
    kind: str = SQS,
    fifo: bool = False,
    batch_size: Any = None,
    maximum_batching_window_in_seconds: Any = 0,
    enabled: Any = True,
    function_response_types: Any = None,
    filter_criteria: Any = None,
    scaling_config: Any = None,
    starting_position: Any = None,
    starting_position_timestamp: Any = None,
    parallelization_factor: Any = None,
    bisect_batch_on_function_error: Any = None,
    maximum_retry_attempts: Any = None,
    maximum_record_age_in_seconds: Any = None,
    destination_config: Any = None,
) -> MappingSettings:
    """Lambda's checks of a mapping's settings for its kind of source (see the constants above)."""
    if batch_size is None:
        batch_size = DEFAULT_KINESIS_BATCH_SIZE if kind == KINESIS else DEFAULT_BATCH_SIZE
    size = check_range(batch_size, "batchSize", 1, MAX_BATCH_SIZE)
    window = check_range(
        maximum_batching_window_in_seconds, "maximumBatchingWindowInSeconds", 0, MAX_BATCHING_WINDOW
    )
    assert size is not None and window is not None
    if not isinstance(enabled, bool):
        raise validation.LAMBDA.wrong_type("enabled", enabled, "a boolean")
    if fifo:
        if size > MAX_FIFO_BATCH_SIZE:
            # rulebus's words: Lambda's text for a FIFO batch over 10 is not recorded.
            raise invalid_parameter(
                f"BatchSize {size} exceeds the maximum of {MAX_FIFO_BATCH_SIZE} for FIFO queues"
            )
        if window:
            # rulebus's words: FIFO queues take no batching window (Lambda Developer Guide).
            raise invalid_parameter("Batching window is not supported for FIFO queues")
    elif kind == SQS and size > MAX_FIFO_BATCH_SIZE and not window:
        raise invalid_parameter(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        )
    types = validation.string_list(function_response_types or [], "functionResponseTypes", validation.LAMBDA)
    for value in types:
        if value != REPORT_BATCH_ITEM_FAILURES:
            raise constraint_error(
                value,
                "functionResponseTypes",
                f"Member must satisfy enum value set: [{REPORT_BATCH_ITEM_FAILURES}]",
            )
    criteria = None if filter_criteria is None else FilterCriteria(filter_criteria)
    concurrency = None
    if scaling_config is not None:
        validation.mapping(scaling_config, "scalingConfig", validation.LAMBDA)
        unknown = set(scaling_config) - {"MaximumConcurrency"}
        if unknown:
            raise validation.LAMBDA.invalid(
                "scalingConfig", scaling_config, f"Unknown member {sorted(unknown)[0]}"
            )
        concurrency = check_range(
            scaling_config.get("MaximumConcurrency"),
            "scalingConfig.maximumConcurrency",
            MIN_MAXIMUM_CONCURRENCY,
            MAX_MAXIMUM_CONCURRENCY,
            required=False,
        )
    settings = MappingSettings(size, window, enabled, tuple(dict.fromkeys(types)), criteria, concurrency)
    stream_only = {
        "StartingPosition": starting_position,
        "StartingPositionTimestamp": starting_position_timestamp,
        "ParallelizationFactor": parallelization_factor,
        "BisectBatchOnFunctionError": bisect_batch_on_function_error,
        "MaximumRetryAttempts": maximum_retry_attempts,
        "MaximumRecordAgeInSeconds": maximum_record_age_in_seconds,
        "DestinationConfig": destination_config,
    }
    if kind != KINESIS:
        for name, value in stream_only.items():
            if value is not None:
                # rulebus's words: Lambda refuses stream settings on a queue's mapping.
                raise invalid_parameter(
                    f"Unsupported {name} parameter for an Amazon SQS event source mapping"
                )
        return settings
    if concurrency is not None:
        raise invalid_parameter("Unsupported ScalingConfig parameter for a Kinesis event source mapping")
    return _kinesis_settings(settings, stream_only)


def _kinesis_settings(settings: MappingSettings, given: dict[str, Any]) -> MappingSettings:
    position = given["StartingPosition"]
    if position is None:
        raise validation.LAMBDA.missing("startingPosition")
    if position not in STARTING_POSITIONS:
        raise constraint_error(
            position,
            "startingPosition",
            f"Member must satisfy enum value set: [{', '.join(STARTING_POSITIONS)}]",
        )
    timestamp = given["StartingPositionTimestamp"]
    if position == "AT_TIMESTAMP":
        timestamp = validation.finite_number(timestamp, "startingPositionTimestamp", validation.LAMBDA)
    elif timestamp is not None:
        # rulebus's words.
        raise invalid_parameter("StartingPositionTimestamp is only valid with StartingPosition AT_TIMESTAMP")
    factor = given["ParallelizationFactor"]
    factor = (
        1 if factor is None else check_range(factor, "parallelizationFactor", 1, MAX_PARALLELIZATION_FACTOR)
    )
    bisect = given["BisectBatchOnFunctionError"]
    if bisect is None:
        bisect = False
    if not isinstance(bisect, bool):
        raise validation.LAMBDA.wrong_type("bisectBatchOnFunctionError", bisect, "a boolean")
    retries = given["MaximumRetryAttempts"]
    retries = (
        -1
        if retries is None
        else check_range(retries, "maximumRetryAttempts", -1, MAX_KINESIS_RETRY_ATTEMPTS)
    )
    age = given["MaximumRecordAgeInSeconds"]
    age = -1 if age is None else check_range(age, "maximumRecordAgeInSeconds", -1, MAX_RECORD_AGE)
    if age is not None and 0 <= age < 60:
        # rulebus's words, in Lambda's style: -1 or 60 and more.
        raise invalid_parameter("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800")
    destination = None
    config = given["DestinationConfig"]
    if config is not None:
        validation.mapping(config, "destinationConfig", validation.LAMBDA)
        on_failure = config.get("OnFailure") or {}
        validation.mapping(on_failure, "destinationConfig.onFailure", validation.LAMBDA)
        destination = validation.text(
            on_failure.get("Destination"),
            "destinationConfig.onFailure.destination",
            validation.LAMBDA,
            required=False,
        )
    return replace(
        settings,
        maximum_concurrency=None,
        starting_position=position,
        starting_position_timestamp=timestamp,
        parallelization_factor=factor,
        bisect_batch_on_function_error=bisect,
        maximum_retry_attempts=retries,
        maximum_record_age_in_seconds=age,
        on_failure_destination=destination,
    )


@dataclass
class EventSourceMapping:
    """One mapping as the runtime keeps it (changed only under the runtime's lock)."""

    uuid: str
    arn: str
    function_name: str
    function_arn: str
    event_source_arn: str
    source_name: str  # the queue or stream
    settings: MappingSettings
    last_modified: float
    last_processing_result: str = "No records processed"
    #: When the batching window started gathering (broker clock), None when it is not.
    window_opened: float | None = field(default=None, repr=False)
    #: Held back by the function's reserved concurrency since the last batch (counted once).
    throttled: bool = field(default=False, repr=False)

    @property
    def reports_batch_item_failures(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.settings.function_response_types

    def answer(self) -> dict[str, Any]:
        """CreateEventSourceMapping's (and Get/Update/Delete's) answer, in snake case. A mapping
        is Enabled or Disabled at once (AWS passes through Creating, Enabling, ... for a while)."""
        settings = self.settings
        answer: dict[str, Any] = {
            "uuid": self.uuid,
            "event_source_mapping_arn": self.arn,
            "batch_size": settings.batch_size,
            "maximum_batching_window_in_seconds": settings.maximum_batching_window_in_seconds,
            "event_source_arn": self.event_source_arn,
            "function_arn": self.function_arn,
            "last_modified": self.last_modified,
            "last_processing_result": self.last_processing_result,
            "state": "Enabled" if settings.enabled else "Disabled",
            "state_transition_reason": "USER_INITIATED",
            "function_response_types": list(settings.function_response_types),
        }
        if settings.filter_criteria is not None:
            answer["filter_criteria"] = settings.filter_criteria.criteria
        if settings.maximum_concurrency is not None:
            answer["scaling_config"] = {"MaximumConcurrency": settings.maximum_concurrency}
        answer.update(settings.answer())
        return answer


def changed_settings(
    current: MappingSettings, changes: Mapping[str, Any], kind: str, fifo: bool
) -> MappingSettings:
    """UpdateEventSourceMapping: the settings given replace the current ones, checked together."""
    values = current.given()
    values.update({key: value for key, value in changes.items() if value is not None})
    if kind != KINESIS:
        for key in ("starting_position", "starting_position_timestamp"):
            values.pop(key)
    return check_settings(kind=kind, fifo=fifo, **values)
