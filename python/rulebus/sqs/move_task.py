"""SQS message move tasks (dead-letter queue redrive; SQS API Reference): StartMessageMoveTask,
ListMessageMoveTasks and CancelMessageMoveTask.

Why the split with :mod:`rulebus.stores`: tasks live in the store (a table on SQLite, so another
broker or process on the same file lists them), and the store moves each step's messages in one
atomic step. This module decides what SQS would answer (validation, texts, result entries) and
drives the steps: a daemon thread per task started here sleeps by *real* time between steps, while
the broker's clock decides how many messages a step may move, so tests drive the very same steps
with :meth:`MoveTasks.run` after moving a fake clock, and never wait.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from typing import TYPE_CHECKING, Any, Union

from rulebus import validation
from rulebus._errors import AwsError, StoreClosedError, sqs_error
from rulebus.sqs.attributes import queue_arn
from rulebus.sqs.queue import Queue
from rulebus.stores.base import NotFound
from rulebus.stores.records import ACTIVE_MOVE_TASK_STATUSES, MoveTaskRecord
from rulebus.stores.semantics import queue_name_from_arn

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["DEFAULT_MESSAGES_PER_SECOND", "MoveTasks", "decode_task_handle", "encode_task_handle"]

#: A queue or its ARN: what the move-task calls accept wherever AWS takes an ARN.
QueueRef = Union[Queue, str]

#: MaxNumberOfMessagesPerSecond's documented maximum.
MAX_MESSAGES_PER_SECOND = 500
#: The rate when MaxNumberOfMessagesPerSecond is absent. AWS then "optimizes the rate based on the
#: backlog"; we take the documented maximum, 500 messages per second.
DEFAULT_MESSAGES_PER_SECOND = MAX_MESSAGES_PER_SECOND
#: ListMessageMoveTasks' MaxResults: default 1, at most 10.
MAX_LIST_RESULTS = 10
#: Real seconds a task's thread sleeps between steps.
STEP_INTERVAL = 0.05
# How long close() waits (real seconds) for each task thread to notice it should stop.
_JOIN_TIMEOUT = 5.0

# Texts recorded against AWS (LocalStack's validated test_sqs_move_task snapshots).
_NOT_A_DEAD_LETTER_QUEUE = "Source queue must be configured as a Dead Letter Queue."
_ALREADY_RUNNING = (
    "There is already a task running. Only one active task is allowed for a source queue arn "
    "at a given time."
)
_INVALID_HANDLE = "Value for parameter TaskHandle is invalid."
_NO_SUCH_TASK = "Task does not exist."


def _resource_not_found(parameter: str) -> AwsError:
    # AWS answers 404 here (the recorded snapshots), not the 400 SQS_ERRORS gives this code.
    return AwsError(
        "ResourceNotFoundException",
        f"The resource that you specified for the {parameter} parameter doesn't exist.",
        query_code="ResourceNotFoundException",
        status=404,
    )


def _task_not_found() -> AwsError:
    return AwsError(
        "ResourceNotFoundException", _NO_SUCH_TASK, query_code="ResourceNotFoundException", status=404
    )


def encode_task_handle(task_id: str, source_arn: str) -> str:
    """A TaskHandle as AWS mints them: base64 of ``{"taskId": ..., "sourceArn": ...}``."""
    document = json.dumps({"taskId": task_id, "sourceArn": source_arn}, separators=(",", ":"))
    return base64.b64encode(document.encode("utf-8")).decode("ascii")


def decode_task_handle(handle: Any) -> tuple[str, str] | None:
    """``(task id, source ARN)`` of a well-formed handle, None for anything else."""
    if not isinstance(handle, str):
        return None
    try:
        document = json.loads(base64.b64decode(handle.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    task_id, source_arn = document.get("taskId"), document.get("sourceArn")
    if not isinstance(task_id, str) or not isinstance(source_arn, str):
        return None
    return task_id, source_arn


def _arn_of(queue: QueueRef) -> str:
    if isinstance(queue, Queue):
        return queue.arn
    if isinstance(queue, str):
        return validation.text(queue, "SourceArn", validation.SQS)
    raise validation.SQS.wrong_type("SourceArn", queue, "a Queue or a queue ARN")


def _check_range(parameter: str, given: Any, high: int) -> int:
    value = validation.integer(given, parameter, validation.SQS)
    if not 1 <= value <= high:
        # Text not verified against AWS: ReceiveMessage's wording for its own ranges.
        raise sqs_error(
            "InvalidParameterValue",
            f"Value {value} for parameter {parameter} is invalid. "
            f"Reason: Must be between 1 and {high}, if provided.",
        )
    return value


def _entry(task: MoveTaskRecord) -> dict[str, Any]:
    """A ListMessageMoveTasksResultEntry: optional fields only when AWS includes them."""
    entry: dict[str, Any] = {
        "SourceArn": task.source_arn,
        "Status": task.status,
        "StartedTimestamp": int(task.started_timestamp * 1000),
        "ApproximateNumberOfMessagesMoved": task.approximate_number_of_messages_moved,
        "ApproximateNumberOfMessagesToMove": task.approximate_number_of_messages_to_move,
    }
    if task.status == "RUNNING":
        entry["TaskHandle"] = encode_task_handle(task.task_id, task.source_arn)
    if task.destination_arn is not None:
        entry["DestinationArn"] = task.destination_arn
    if task.max_number_of_messages_per_second is not None:
        entry["MaxNumberOfMessagesPerSecond"] = task.max_number_of_messages_per_second
    if task.failure_reason is not None:
        entry["FailureReason"] = task.failure_reason
    return entry


class MoveTasks:
    """A broker's message move tasks: the three AWS calls, the step runner, and the threads this
    broker started (``background=False`` starts none; :meth:`run` then does every step)."""

    def __init__(self, context: Context, background: bool = True) -> None:
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self._background = background
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ AWS calls

    def start(
        self,
        source_arn: QueueRef,
        destination_arn: QueueRef | None = None,
        max_number_of_messages_per_second: int | None = None,
    ) -> str:
        """StartMessageMoveTask; returns the TaskHandle."""
        source = _arn_of(source_arn)
        destination = _arn_of(destination_arn) if destination_arn is not None else None
        if max_number_of_messages_per_second is not None:
            _check_range(
                "MaxNumberOfMessagesPerSecond", max_number_of_messages_per_second, MAX_MESSAGES_PER_SECOND
            )
        self._require_queue(source, "SourceArn")
        if not self._is_dead_letter_queue(source):
            raise sqs_error("InvalidParameterValue", _NOT_A_DEAD_LETTER_QUEUE)
        if destination is not None:
            self._require_queue(destination, "DestinationArn")
        task = MoveTaskRecord(
            task_id=str(uuid.uuid4()),
            source_arn=source,
            destination_arn=destination,
            max_number_of_messages_per_second=max_number_of_messages_per_second,
            rate=max_number_of_messages_per_second or DEFAULT_MESSAGES_PER_SECOND,
            started_timestamp=self._clock(),
            approximate_number_of_messages_to_move=0,  # the store counts them
        )
        try:
            created = self._store.queues.create_move_task(task)
        except NotFound:  # deleted since the check above
            raise _resource_not_found("SourceArn") from None
        if not created:
            raise sqs_error("InvalidParameterValue", _ALREADY_RUNNING)
        if self._background:
            self._start_thread(task.task_id)
        return encode_task_handle(task.task_id, source)

    def list_tasks(self, source_arn: QueueRef, max_results: int = 1) -> list[dict[str, Any]]:
        """ListMessageMoveTasks: the source's ``max_results`` (1-10) most recent tasks."""
        source = _arn_of(source_arn)
        _check_range("MaxResults", max_results, MAX_LIST_RESULTS)
        self._require_queue(source, "SourceArn")
        return [_entry(task) for task in self._store.queues.move_tasks(source)[:max_results]]

    def cancel(self, task_handle: str) -> int:
        """CancelMessageMoveTask: a RUNNING task stops after its current step (status CANCELLING,
        then CANCELLED); messages already moved stay moved. Returns ApproximateNumberOfMessagesMoved."""
        decoded = decode_task_handle(task_handle)
        if decoded is None:
            raise sqs_error("InvalidParameterValue", _INVALID_HANDLE)
        task_id, source = decoded
        self._require_queue(source, "SourceArn")
        task = self._store.queues.get_move_task(task_id)
        if task is None or task.source_arn != source:
            raise _task_not_found()
        task = self._store.queues.cancel_move_task(task_id)
        if task is None or task.status != "CANCELLING":
            # Unverified: AWS's answer for a task that is no longer RUNNING; we treat it as
            # absent, since only a running task can be cancelled.
            raise _task_not_found()
        return task.approximate_number_of_messages_moved

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """One step of every active task in the store (whoever started it), by the broker's clock."""
        for task_id in self._store.queues.active_move_task_ids():
            self._store.queues.step_move_task(task_id, self._clock())

    def close(self) -> None:
        """Stop this broker's task threads (the tasks stay as stored; :meth:`run` resumes them)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT)
        self._threads.clear()

    def _start_thread(self, task_id: str) -> None:
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        thread = threading.Thread(
            target=self._loop, args=(task_id,), name=f"rulebus-move-task-{task_id}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _loop(self, task_id: str) -> None:
        store = self._store
        while not self._stop.is_set():
            try:
                task = store.queues.step_move_task(task_id, self._clock())
            except StoreClosedError:
                return  # the store was closed under us: the broker is shutting down
            if task is None or task.status not in ACTIVE_MOVE_TASK_STATUSES:
                return
            self._stop.wait(STEP_INTERVAL)

    # ------------------------------------------------------------------ checks

    def _require_queue(self, arn: str, parameter: str) -> None:
        """The ARN must name a queue of this broker (its region and account) that exists."""
        name = queue_name_from_arn(arn)
        same_place = arn == queue_arn(name, self._region, self._account)
        if not same_place or self._store.queues.get_queue(name) is None:
            raise _resource_not_found(parameter)

    def _is_dead_letter_queue(self, arn: str) -> bool:
        """Whether some queue's RedrivePolicy targets ``arn`` (only DLQs of SQS queues qualify)."""
        store = self._store
        for name in store.queues.queue_names():
            record = store.queues.get_queue(name)
            policy = record.attributes.redrive_policy if record is not None else None
            if policy is not None and policy.dead_letter_target_arn == arn:
                return True
        return False
