"""Asynchronous invocation, as Lambda does it for SNS and EventBridge (AWS Lambda Developer Guide,
'Invoking a Lambda function asynchronously'): the caller hands the event over and goes on; the
function is invoked from a queue of events (the function's event queue in the store,
:mod:`rulebus.functions.event_queue`), and one that fails is tried again after a minute, then
after two more (``maximum_retry_attempts``, 0-2), while the event is younger than
``maximum_event_age_in_seconds``. An event that ran out of attempts or age goes to the function's
on-failure destination as an invocation record, or, without one, to its dead-letter queue as
the event itself; with neither it is dropped (and logged).

Times are the broker's clock, so a test moves a fake clock past the retry delays.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus._errors import AwsError
from rulebus.arn import function_name
from rulebus.functions.function import Function, Invocation

if TYPE_CHECKING:
    from rulebus.targets import Targets

__all__ = ["AsyncEvent", "failure_record"]

_log = logging.getLogger("rulebus.functions")

#: Seconds before the second attempt; the third waits twice as long (Lambda's 1 and 2 minutes).
RETRY_DELAY = 60

RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"


@dataclass
class AsyncEvent:
    """One event handed to a function asynchronously, with its attempts so far: what its
    message in the function's event queue holds (:meth:`to_body`, :meth:`from_body`)."""

    function_name: str
    event: Any
    received: float
    attempts: int = 0
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: The last attempt's error (Lambda's error type and message), None when none failed yet.
    error: tuple[str, str] | None = None
    #: Whether this attempt was throttled already (counted once).
    throttled: bool = False
    #: Whether AsyncEventsReceived counted it already (by the publisher, when it has the function).
    counted: bool = False

    def expired(self, function: Function, now: float) -> bool:
        """Older than the function's maximum event age."""
        return now - self.received > (function.maximum_event_age_in_seconds or 0)

    def settle(self, function: Function, invocation: Invocation, now: float) -> str | int | None:
        """Count an attempt: None when it succeeded, the seconds until the next attempt when it
        will be tried again, else the condition it ended on."""
        self.attempts += 1
        self.error = invocation.error
        self.throttled = False
        if not invocation.failed:
            return None
        if self.attempts > (function.maximum_retry_attempts or 0):
            return RETRIES_EXHAUSTED
        delay = RETRY_DELAY * self.attempts
        if self.expired(function, now + delay):
            return EVENT_AGE_EXCEEDED
        return delay

    def to_body(self) -> str:
        """The event as its queue's message holds it (JSON); InvalidRequestContentException, as
        Lambda's Invoke answers, for an event JSON cannot carry."""
        try:
            return json.dumps(
                {
                    "function": self.function_name,
                    "requestId": self.request_id,
                    "received": self.received,
                    "attempts": self.attempts,
                    "error": self.error,
                    "throttled": self.throttled,
                    "counted": self.counted,
                    "event": self.event,
                },
                separators=(",", ":"),
                allow_nan=False,
            )
        except (TypeError, ValueError) as error:
            raise AwsError(
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
                status=400,
            ) from None

    @classmethod
    def from_body(cls, body: str) -> AsyncEvent | None:
        """The event a message holds; None when it holds no event."""
        try:
            held = json.loads(body)
            error = held["error"]
            return cls(
                function_name=str(held["function"]),
                event=held["event"],
                received=float(held["received"]),
                attempts=int(held["attempts"]),
                request_id=str(held["requestId"]),
                error=None if error is None else (str(error[0]), str(error[1])),
                throttled=bool(held["throttled"]),
                counted=bool(held["counted"]),
            )
        except (ValueError, TypeError, KeyError, IndexError):
            return None


def _timestamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def failure_record(event: AsyncEvent, function: Function, condition: str, now: float) -> dict[str, Any]:
    """The invocation record an on-failure destination receives (AWS Lambda Developer Guide,
    'Capturing records of Lambda asynchronous invocations')."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": _timestamp(now),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"{function.arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": event.event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    }
    if event.error is not None:
        error_type, message = event.error
        record["responsePayload"] = {"errorMessage": message, "errorType": error_type}
    return record


def send_to_failure_destination(
    targets: Targets, event: AsyncEvent, function: Function, condition: str, now: float
) -> bool:
    """The on-failure destination gets the invocation record; else the DLQ gets the event (with
    Lambda's RequestID, ErrorCode and ErrorMessage attributes); else the event is dropped. False
    when it went nowhere (dropped, or its destination does not exist)."""
    from rulebus.events.bus import EventBus
    from rulebus.sns.topic import Topic
    from rulebus.sqs.queue import Queue

    record = failure_record(event, function, condition, now)
    if function.on_failure is not None:
        on_failure = function.on_failure
        name = on_failure.name if isinstance(on_failure, Function) else function_name(on_failure)
        if name is not None:  # another function: invoked asynchronously with the record
            if not targets.invoke_function(name, record):
                _log.warning("function %s: on-failure destination %s does not exist", function.name, name)
                return False
            return True
        destination = targets.resolve(on_failure)
        if isinstance(destination, EventBus):
            destination.put_events(
                [
                    {
                        "Source": "lambda",
                        "DetailType": "Lambda Function Invocation Result - Failure",
                        "Detail": json.dumps(record),
                        "Resources": [function.arn],
                    }
                ]
            )
        elif isinstance(destination, (Queue, Topic)):
            _deliver(destination, json.dumps(record), None)
        elif callable(destination):
            destination(record)
        else:
            _log.warning(
                "function %s: on-failure destination %r does not exist", function.name, function.on_failure
            )
            return False
        return True
    if function.dead_letter_config is not None:
        destination = targets.resolve(function.dead_letter_config)
        error = record.get("responsePayload", {}).get("errorMessage", condition)
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": error or condition},
        }
        if isinstance(destination, (Queue, Topic)):
            _deliver(destination, json.dumps(event.event), attributes)
        else:
            _log.warning(
                "function %s: dead-letter queue %r does not exist", function.name, function.dead_letter_config
            )
            return False
        return True
    _log.warning(
        "function %s dropped an event after %s (request %s)", function.name, condition, event.request_id
    )
    return False


def _deliver(destination: Any, body: str, attributes: dict[str, Any] | None) -> None:
    from rulebus.sqs.queue import Queue

    if isinstance(destination, Queue):
        destination.send(body, message_attributes=attributes)
    else:
        destination.publish(body, message_attributes=attributes)
