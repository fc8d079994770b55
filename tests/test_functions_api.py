"""Registering functions and managing event source mappings: Lambda's API in snake case, its
defaults, and its refusals with Lambda's error codes (docs/functions.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from helpers.aws import aws_error
from rulebus import AwsError, Broker


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_functions=False)


def handler(event: Any, context: Any) -> None:
    return None


def _constraint(value: Any, member: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{member}' "
        f"failed to satisfy constraint: {constraint}"
    )


# ---------------------------------------------------------------------------------- functions


def test_a_function_has_lambdas_defaults(broker: Broker) -> None:
    function = broker.function("worker", handler)
    assert function.name == "worker"
    assert function.arn == f"arn:aws:lambda:{broker.region}:{broker.account}:function:worker"
    assert (function.timeout, function.memory_size, function.reserved_concurrency) == (3, 128, None)
    assert (function.maximum_retry_attempts, function.maximum_event_age_in_seconds) == (2, 21600)
    assert broker.functions() == [function]
    assert broker.get_function("worker") is function
    assert broker.get_function(function.arn) is function
    assert function.configuration()["function_arn"] == function.arn


def test_the_decorator_registers_and_keeps_the_def(broker: Broker) -> None:
    @broker.function("doubler", timeout=10)
    def doubler(event: Any, context: Any) -> Any:
        return event * 2

    assert doubler(2, None) == 4
    function = broker.get_function("doubler")
    assert function.timeout == 10
    assert function.invoke(21) == 42


def test_a_function_name_is_taken_once(broker: Broker) -> None:
    broker.function("worker", handler)
    with aws_error("ResourceConflictException", "Function already exist: worker"):
        broker.function("worker", handler)


def test_deleting_a_function(broker: Broker) -> None:
    broker.function("worker", handler)
    broker.delete_function("worker")
    assert broker.functions() == []
    missing = f"Function not found: arn:aws:lambda:{broker.region}:{broker.account}:function:worker"
    with aws_error("ResourceNotFoundException", missing):
        broker.delete_function("worker")


@pytest.mark.parametrize(
    ("settings", "member", "constraint"),
    [
        ({"timeout": 0}, "timeout", "Member must have value greater than or equal to 1"),
        ({"timeout": 901}, "timeout", "Member must have value less than or equal to 900"),
        ({"memory_size": 64}, "memorySize", "Member must have value greater than or equal to 128"),
        (
            {"maximum_retry_attempts": 3},
            "maximumRetryAttempts",
            "Member must have value less than or equal to 2",
        ),
        (
            {"maximum_event_age_in_seconds": 59},
            "maximumEventAgeInSeconds",
            "Member must have value greater than or equal to 60",
        ),
        (
            {"reserved_concurrency": -1},
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        ),
    ],
)
def test_function_settings_out_of_range(
    broker: Broker, settings: dict[str, Any], member: str, constraint: str
) -> None:
    value = next(iter(settings.values()))
    message = _constraint(value, member, constraint)
    with aws_error("ValidationException", message):
        broker.function("worker", handler, **settings)
    assert broker.functions() == []


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "a:b"])
def test_function_names_are_lambdas(broker: Broker, name: str) -> None:
    with aws_error("ValidationException"):
        broker.function(name, handler)


def test_a_handler_must_be_callable(broker: Broker) -> None:
    with pytest.raises(TypeError):
        broker.function("worker", "not callable")  # type: ignore[call-overload]


# ---------------------------------------------------------------------------------- mappings


def test_a_mapping_answers_as_create_event_source_mapping(broker: Broker) -> None:
    queue = broker.queue("orders")
    function = broker.function("worker", handler)
    mapping = broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    assert mapping == {
        "uuid": mapping["uuid"],
        "event_source_mapping_arn": f"arn:aws:lambda:{broker.region}:{broker.account}:event-source-mapping:"
        + mapping["uuid"],
        "batch_size": 10,
        "maximum_batching_window_in_seconds": 0,
        "event_source_arn": queue.arn,
        "function_arn": function.arn,
        "last_modified": mapping["last_modified"],
        "last_processing_result": "No records processed",
        "state": "Enabled",
        "state_transition_reason": "USER_INITIATED",
        "function_response_types": [],
    }
    assert broker.get_event_source_mapping(mapping["uuid"]) == mapping
    assert broker.list_event_source_mappings() == [mapping]
    assert broker.list_event_source_mappings(function_name="worker") == [mapping]
    assert broker.list_event_source_mappings(event_source_arn=queue) == [mapping]
    assert broker.list_event_source_mappings(event_source_arn=broker.queue("other").arn) == []


def test_a_mapping_takes_objects_and_all_its_settings(broker: Broker) -> None:
    queue = broker.queue("orders")
    function = broker.function("worker", handler)
    criteria = {"Filters": [{"Pattern": '{"body": ["x"]}'}]}
    mapping = broker.create_event_source_mapping(
        function_name=function,
        event_source_arn=queue,
        batch_size=100,
        maximum_batching_window_in_seconds=2,
        function_response_types=["ReportBatchItemFailures"],
        filter_criteria=criteria,
        scaling_config={"MaximumConcurrency": 5},
    )
    assert mapping["batch_size"] == 100
    assert mapping["maximum_batching_window_in_seconds"] == 2
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["filter_criteria"] == criteria
    assert mapping["scaling_config"] == {"MaximumConcurrency": 5}
    updated = broker.update_event_source_mapping(
        mapping["uuid"], batch_size=5, filter_criteria={}, scaling_config={}, function_response_types=[]
    )
    assert updated["batch_size"] == 5
    assert updated["maximum_batching_window_in_seconds"] == 2
    assert updated["filter_criteria"] == {"Filters": []}
    assert "scaling_config" not in updated
    assert updated["function_response_types"] == []


def test_one_mapping_per_queue_and_function(broker: Broker) -> None:
    queue = broker.queue("orders")
    broker.function("worker", handler)
    first = broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    message = (
        f'An event source mapping with SQS arn (" {queue.arn} ") and function (" worker ") already exists. '
        f"Please update or delete the existing mapping with UUID {first['uuid']}"
    )
    with aws_error("ResourceConflictException", message):
        broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)


def test_unknown_mappings_are_not_found(broker: Broker) -> None:
    for call in (
        broker.get_event_source_mapping,
        broker.delete_event_source_mapping,
        broker.update_event_source_mapping,
    ):
        with aws_error("ResourceNotFoundException", "The resource you requested does not exist."):
            call("00000000-0000-0000-0000-000000000000")


def test_a_mapping_needs_an_existing_function_and_queue(broker: Broker) -> None:
    queue = broker.queue("orders")
    missing = f"Function not found: arn:aws:lambda:{broker.region}:{broker.account}:function:nobody"
    with aws_error("ResourceNotFoundException", missing):
        broker.create_event_source_mapping(function_name="nobody", event_source_arn=queue.arn)
    broker.function("worker", handler)
    with pytest.raises(AwsError) as error:
        broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn[:-1] + "X")
    assert error.value.code == "InvalidParameterValueException"
    assert "NonExistentQueue" in error.value.message
    with aws_error("InvalidParameterValueException"):
        broker.create_event_source_mapping(function_name="worker", event_source_arn=broker.topic("t").arn)
    assert broker.list_event_source_mappings() == []


@pytest.mark.parametrize(
    ("queue_name", "settings", "code", "message"),
    [
        (
            "orders",
            {"batch_size": 0},
            "ValidationException",
            _constraint(0, "batchSize", "Member must have value greater than or equal to 1"),
        ),
        (
            "orders",
            {"batch_size": 10001, "maximum_batching_window_in_seconds": 1},
            "ValidationException",
            _constraint(10001, "batchSize", "Member must have value less than or equal to 10000"),
        ),
        (
            "orders",
            {"batch_size": 11},
            "InvalidParameterValueException",
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ),
        (
            "orders",
            {"maximum_batching_window_in_seconds": 301},
            "ValidationException",
            _constraint(
                301, "maximumBatchingWindowInSeconds", "Member must have value less than or equal to 300"
            ),
        ),
        (
            "orders",
            {"function_response_types": ["Everything"]},
            "ValidationException",
            _constraint(
                "Everything",
                "functionResponseTypes",
                "Member must satisfy enum value set: [ReportBatchItemFailures]",
            ),
        ),
        (
            "orders",
            {"scaling_config": {"MaximumConcurrency": 1}},
            "ValidationException",
            _constraint(
                1, "scalingConfig.maximumConcurrency", "Member must have value greater than or equal to 2"
            ),
        ),
        (
            "orders",
            {"filter_criteria": {"Filters": [{"Pattern": '{"body": "not a list"}'}]}},
            "InvalidParameterValueException",
            None,
        ),
        (
            "orders",
            {"filter_criteria": {"Filters": [{"Pattern": "{}"}] * 6}},
            "InvalidParameterValueException",
            None,
        ),
        ("tx.fifo", {"batch_size": 11}, "InvalidParameterValueException", None),
        ("tx.fifo", {"maximum_batching_window_in_seconds": 1}, "InvalidParameterValueException", None),
    ],
)
def test_mapping_settings_lambda_refuses(
    broker: Broker, queue_name: str, settings: dict[str, Any], code: str, message: str | None
) -> None:
    queue = broker.queue(queue_name)
    broker.function("worker", handler)
    with aws_error(code, message):
        broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn, **settings)
    assert broker.list_event_source_mappings() == []


def test_the_queue_visibility_timeout_must_cover_the_function_timeout(broker: Broker) -> None:
    queue = broker.queue("orders", visibility_timeout=30)
    broker.function("slow", handler, timeout=60)
    message = "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds"
    with aws_error("InvalidParameterValueException", message):
        broker.create_event_source_mapping(function_name="slow", event_source_arn=queue.arn)


def test_an_update_is_checked_like_a_creation(broker: Broker) -> None:
    queue = broker.queue("orders")
    broker.function("worker", handler)
    mapping = broker.create_event_source_mapping(function_name="worker", event_source_arn=queue.arn)
    with aws_error("InvalidParameterValueException"):
        broker.update_event_source_mapping(mapping["uuid"], batch_size=50)
    assert broker.get_event_source_mapping(mapping["uuid"])["batch_size"] == 10
