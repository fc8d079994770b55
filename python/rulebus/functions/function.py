"""A function: a Python handler registered under a name, with the settings of Lambda's that
matter in process (AWS Lambda Developer Guide, 'Configuring Lambda function options' and
'Asynchronous invocation').

Functions live in the program that registers them (a handler is a Python object): they are not
kept in the store. Settings are checked with the ranges and errors of Lambda's API (CreateFunction,
PutFunctionConcurrency, PutFunctionEventInvokeConfig): a value out of range is the request
model's ValidationException.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.functions.context import LambdaContext
from rulebus.metrics import LAMBDA_METRICS

if TYPE_CHECKING:
    from rulebus.functions.process_pool import ProcessPool

__all__ = [
    "Consumer",
    "Function",
    "Handler",
    "Invocation",
    "check_range",
    "function_arn",
    "function_name_of",
    "timed_out",
]

_log = logging.getLogger("rulebus.functions")

#: What a handler is: called with the event and a :class:`LambdaContext`.
Handler = Callable[[Any, LambdaContext], Any]

#: A function's own name (CreateFunction: 1-64 letters, digits, hyphens and underscores).
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: FunctionName as Lambda's API takes it: a name or ``arn:aws:lambda:<region>:<account>:function:<name>``.
_FUNCTION_ARN = re.compile(r"arn:aws:lambda:([a-z0-9-]+):([0-9]{12}):function:([a-zA-Z0-9_-]{1,64})")

#: Defaults and ranges (AWS Lambda API Reference: CreateFunction, PutFunctionEventInvokeConfig).
DEFAULT_TIMEOUT = 3
MAX_TIMEOUT = 900
DEFAULT_MEMORY_SIZE = 128
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2
MIN_EVENT_AGE = 60
MAX_EVENT_AGE = 21600


def function_arn(name: str, region: str, account: str) -> str:
    """The ARN of function ``name`` in this region and account."""
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def function_name_of(value: Any, region: str, account: str) -> str:
    """The function name a FunctionName parameter gives (a name, or an ARN of this region and
    account); ValidationException for anything else, ResourceNotFoundException for another
    region's or account's function."""
    validation.text(value, "functionName", validation.LAMBDA)
    if _NAME.fullmatch(value):
        return str(value)
    arn = _FUNCTION_ARN.fullmatch(value)
    if arn is None:
        raise validation.LAMBDA.invalid(
            "functionName",
            value,
            "Member must satisfy regular expression pattern: "
            r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
            r"([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?",
        )
    if (arn.group(1), arn.group(2)) != (region, account):
        raise function_not_found(value)
    return arn.group(3)


def function_not_found(arn: str) -> AwsError:
    """Lambda's answer for a function that does not exist."""
    return AwsError("ResourceNotFoundException", f"Function not found: {arn}", status=404)


def check_range(
    value: Any, member: str, low: int | None, high: int | None, *, required: bool = True
) -> int | None:
    """An integer parameter within [low, high], refused as Lambda's request model refuses it."""
    number = validation.integer(value, member, validation.LAMBDA, required=required)
    if number is None:
        return None
    if low is not None and number < low:
        raise constraint_error(number, member, f"Member must have value greater than or equal to {low}")
    if high is not None and number > high:
        raise constraint_error(number, member, f"Member must have value less than or equal to {high}")
    return number


@dataclass(frozen=True)
class Invocation:
    """How one invocation ended: ``error`` is None when the handler returned ``result``, else
    Lambda's error type and message (the handler's exception, or a timeout)."""

    result: Any = None
    error: tuple[str, str] | None = None
    request_id: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None


def timed_out(function: Function, request_id: str) -> Invocation:
    """The invocation of ``function`` that ran past its timeout, as Lambda reports it."""
    return Invocation(
        error=("Sandbox.Timedout", f"Task timed out after {function.timeout:.2f} seconds"),
        request_id=request_id,
    )


class Consumer(Protocol):
    """What an event source's batches are handed to: a function (its event is Lambda's
    ``{"Records": [...]}``), or a pipe (:mod:`rulebus.pipes`). ``name`` and
    ``reserved_concurrency`` bound how many batches it runs at once."""

    @property
    def name(self) -> str: ...

    @property
    def reserved_concurrency(self) -> int | None: ...

    def run_records(self, records: list[dict[str, Any]]) -> Invocation: ...


class Function:
    """A registered function (see the module docstring). ``invoke`` runs the handler as Lambda's
    RequestResponse invocation does; event source mappings and asynchronous deliveries invoke it
    through the broker's runtime.

    ``on_failure`` and ``dead_letter_config`` (a queue, topic or bus, or its ARN) are where
    asynchronous invocations that failed every attempt go; ``maximum_retry_attempts`` (0-2) and
    ``maximum_event_age_in_seconds`` (60-21600) bound those attempts. ``reserved_concurrency``
    caps the invocations running at once (0 stops the function from being invoked: throttled).
    """

    def __init__(
        self,
        name: str,
        handler: Handler,
        *,
        region: str,
        account: str,
        timeout: int = DEFAULT_TIMEOUT,
        memory_size: int = DEFAULT_MEMORY_SIZE,
        reserved_concurrency: int | None = None,
        maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        maximum_event_age_in_seconds: int = MAX_EVENT_AGE,
        on_failure: Any = None,
        dead_letter_config: Any = None,
        description: str = "",
    ) -> None:
        validation.text(name, "functionName", validation.LAMBDA)
        if not _NAME.fullmatch(name):
            raise validation.LAMBDA.invalid(
                "functionName", name, "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]{1,64}"
            )
        if not callable(handler):
            raise validation.LAMBDA.wrong_type("handler", handler, "a callable")
        self.name = name
        self.handler = handler
        self.arn = function_arn(name, region, account)
        self.timeout = check_range(timeout, "timeout", 1, MAX_TIMEOUT)
        self.memory_size = check_range(memory_size, "memorySize", 128, 10240)
        self.reserved_concurrency = check_range(
            reserved_concurrency, "reservedConcurrentExecutions", 0, None, required=False
        )
        self.maximum_retry_attempts = check_range(maximum_retry_attempts, "maximumRetryAttempts", 0, 2)
        self.maximum_event_age_in_seconds = check_range(
            maximum_event_age_in_seconds, "maximumEventAgeInSeconds", MIN_EVENT_AGE, MAX_EVENT_AGE
        )
        self.on_failure = on_failure
        self.dead_letter_config = dead_letter_config
        self.description = validation.text(description, "description", validation.LAMBDA)
        #: Where invocations run: None in the invoking thread, else the broker's process pool
        #: (set by the broker's runtime, see rulebus.functions.process_pool).
        self.pool: ProcessPool | None = None
        #: Lambda's metrics of this function, by CloudWatch's names (see rulebus.metrics), counted
        #: here and by the runtime (throttles, asynchronous events).
        self.metrics: dict[str, float] = dict.fromkeys(LAMBDA_METRICS, 0)
        self._metrics_lock = threading.Lock()
        self._running = 0

    def __repr__(self) -> str:
        return f"Function({self.name!r})"

    def configuration(self) -> dict[str, Any]:
        """The function's settings as GetFunctionConfiguration names them, in snake case."""
        return {
            "function_name": self.name,
            "function_arn": self.arn,
            "handler": getattr(self.handler, "__qualname__", repr(self.handler)),
            "timeout": self.timeout,
            "memory_size": self.memory_size,
            "reserved_concurrency": self.reserved_concurrency,
            "maximum_retry_attempts": self.maximum_retry_attempts,
            "maximum_event_age_in_seconds": self.maximum_event_age_in_seconds,
            "description": self.description,
            "version": "$LATEST",
        }

    def context(self) -> LambdaContext:
        """A fresh context for one invocation."""
        return LambdaContext(self.name, self.arn, self.memory_size or DEFAULT_MEMORY_SIZE, self.timeout or 0)

    def count(self, metric: str, amount: float = 1) -> None:
        """Add ``amount`` to one of this function's metrics."""
        with self._metrics_lock:
            self.metrics[metric] += amount

    def _started(self) -> float:
        with self._metrics_lock:
            self._running += 1
            self.metrics["Invocations"] += 1
            self.metrics["ConcurrentExecutions"] = self._running
        return time.monotonic()

    def _ended(self, started: float, failed: bool) -> None:
        with self._metrics_lock:
            self._running -= 1
            self.metrics["ConcurrentExecutions"] = self._running
            self.metrics["Duration"] += (time.monotonic() - started) * 1000
            if failed:
                self.metrics["Errors"] += 1

    def run(self, event: Any) -> Invocation:
        """One invocation: the handler's result, or its error. A handler that ran past the timeout
        failed ("Task timed out after N.NN seconds"): Lambda stops it, and so does a process pool
        (its child is killed); a thread cannot be stopped, so its result is thrown away instead."""
        context = self.context()
        started = self._started()
        if self.pool is not None:
            invocation = self.pool.invoke(self, event, context)
            self._ended(started, failed=invocation.failed)
            return invocation
        try:
            result = self.handler(event, context)
        except Exception as error:  # a handler's failure is the invocation's outcome, not ours
            self._ended(started, failed=True)
            _log.warning("function %s failed (request %s): %r", self.name, context.aws_request_id, error)
            return Invocation(error=(type(error).__name__, str(error)), request_id=context.aws_request_id)
        if time.monotonic() - started > (self.timeout or 0):
            self._ended(started, failed=True)
            _log.warning("function %s timed out (request %s)", self.name, context.aws_request_id)
            return timed_out(self, context.aws_request_id)
        self._ended(started, failed=False)
        return Invocation(result=result, request_id=context.aws_request_id)

    def run_records(self, records: list[dict[str, Any]]) -> Invocation:
        """One invocation by an event source mapping: Lambda's ``{"Records": [...]}`` event."""
        return self.run({"Records": [dict(record) for record in records]})

    def invoke(self, event: Any = None) -> Any:
        """Invoke synchronously (Invoke with RequestResponse): the handler's result; its
        exception propagates."""
        started = self._started()
        failed = True
        try:
            result = self.handler(event, self.context())
            failed = False
        finally:
            self._ended(started, failed)
        return result
