"""An event source mapping: which queue feeds which function, and how (AWS Lambda API Reference,
CreateEventSourceMapping; AWS Lambda Developer Guide, 'Using Lambda with Amazon SQS').

This module holds the mapping's record, its snake-case answer (CreateEventSourceMapping's fields)
and the checks Lambda makes of its settings, with Lambda's error codes and, where Lambda's text is
known, its messages. Running the mapping is :mod:`rulebus.functions.sqs_source`'s and
:mod:`rulebus.functions.runtime`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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


def check_settings(
    *,
    fifo: bool,
    batch_size: Any,
    maximum_batching_window_in_seconds: Any,
    enabled: Any,
    function_response_types: Any,
    filter_criteria: Any,
    scaling_config: Any,
) -> MappingSettings:
    """Lambda's checks of an SQS mapping's settings (see the constants above)."""
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
    elif size > MAX_FIFO_BATCH_SIZE and not window:
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
    return MappingSettings(size, window, enabled, tuple(dict.fromkeys(types)), criteria, concurrency)


@dataclass
class EventSourceMapping:
    """One mapping as the runtime keeps it (changed only under the runtime's lock)."""

    uuid: str
    arn: str
    function_name: str
    function_arn: str
    event_source_arn: str
    queue_name: str
    settings: MappingSettings
    last_modified: float
    last_processing_result: str = "No records processed"
    #: When the batching window started gathering (broker clock), None when it is not.
    window_opened: float | None = field(default=None, repr=False)

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
        return answer


def changed_settings(current: MappingSettings, changes: Mapping[str, Any], fifo: bool) -> MappingSettings:
    """UpdateEventSourceMapping: the settings given replace the current ones, checked together."""
    values: dict[str, Any] = {
        "batch_size": current.batch_size,
        "maximum_batching_window_in_seconds": current.maximum_batching_window_in_seconds,
        "enabled": current.enabled,
        "function_response_types": list(current.function_response_types),
        "filter_criteria": None if current.filter_criteria is None else current.filter_criteria.criteria,
        "scaling_config": None
        if current.maximum_concurrency is None
        else {"MaximumConcurrency": current.maximum_concurrency},
    }
    values.update({key: value for key, value in changes.items() if value is not None})
    return check_settings(fifo=fifo, **values)
