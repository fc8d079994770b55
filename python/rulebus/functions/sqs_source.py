"""An SQS queue as a mapping's event source: Lambda's poller, through the queue's public API
(AWS Lambda Developer Guide, 'Using Lambda with Amazon SQS' and 'Handling errors for an SQS event
source in Lambda').

- A batch is up to BatchSize visible messages, received with every attribute; with a batching
  window, a batch smaller than BatchSize waits until the window (by the broker's clock) has passed
  since the poller first saw messages waiting.
- Records that match none of the mapping's filters are deleted without invoking the function.
- A function that returns deletes the batch; one that fails leaves it in flight, visible again
  when the visibility timeout ends (the queue's redrive policy then counts the receive).
- With ReportBatchItemFailures, ``{"batchItemFailures": [{"itemIdentifier": id}]}`` returns only
  those messages; a response Lambda cannot read (an id that is empty, missing or not in the batch,
  or a malformed response) fails the whole batch. An empty or absent list is full success.
- On a FIFO queue, a message group's messages after its first failed one are returned too, so
  that the group is processed in order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rulebus.functions.event_source_mapping import EventSourceMapping
from rulebus.functions.function import Consumer, Invocation
from rulebus.functions.records import sqs_record
from rulebus.sqs.queue import Message, Queue

__all__ = ["SqsSource", "failed_items"]

_log = logging.getLogger("rulebus.functions")

#: ReceiveMessage and DeleteMessageBatch take at most 10 messages a call.
_SQS_BATCH = 10


def failed_items(response: Any, message_ids: Sequence[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response returns; None when the response fails
    the whole batch (AWS Lambda Developer Guide, 'Implementing partial batch responses')."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    known = set(message_ids)
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        failed.add(identifier)
    return failed


class SqsSource:
    """One queue read by one mapping (see the module docstring)."""

    def __init__(self, queue: Queue, region: str, fifo: bool) -> None:
        self.queue = queue
        self.region = region
        self.fifo = fifo

    @property
    def name(self) -> str:
        return self.queue.name

    def release(self, batch: list[Message]) -> None:
        """Make a batch taken and not settled visible again at once (a worker stopping past its
        grace period): ChangeMessageVisibility 0, as a poller that gives up does."""
        for start in range(0, len(batch), _SQS_BATCH):
            chunk = batch[start : start + _SQS_BATCH]
            result = self.queue.change_visibility_batch(
                [
                    {"Id": str(index), "ReceiptHandle": message.receipt_handle, "VisibilityTimeout": 0}
                    for index, message in enumerate(chunk)
                ]
            )
            for failure in result.get("Failed", []):
                # (Deleted meanwhile by the handler's own settling, or its handle expired: it is
                # done, or it comes back when its visibility timeout ends.)
                _log.info("could not return a message to %s: %s", self.queue.name, failure)

    def visible(self) -> int:
        """Messages waiting (ApproximateNumberOfMessages, exact here)."""
        attributes = self.queue.get_attributes(["ApproximateNumberOfMessages"])
        return int(attributes["ApproximateNumberOfMessages"])

    def take(self, mapping: EventSourceMapping, now: float) -> list[Message]:
        """The next batch, received (in flight) from the queue; empty when there is none yet."""
        size = mapping.settings.batch_size
        window = mapping.settings.maximum_batching_window_in_seconds
        if window:
            waiting = self.visible()
            if not waiting:
                mapping.window_opened = None
                return []
            if waiting < size:
                if mapping.window_opened is None:
                    mapping.window_opened = now
                if now - mapping.window_opened < window:
                    return []
        mapping.window_opened = None
        batch: list[Message] = []
        while len(batch) < size:
            received = self.queue.receive(
                max_messages=min(_SQS_BATCH, size - len(batch)),
                wait_seconds=0,
                attribute_names=["All"],
                message_attribute_names=["All"],
            )
            if not received:
                break
            batch.extend(received)
        return batch

    def has_work(self, mapping: EventSourceMapping, now: float) -> bool:
        """Whether the queue has visible messages."""
        return self.visible() > 0

    def process(
        self, mapping: EventSourceMapping, consumer: Consumer, batch: list[Message], now: float
    ) -> str:
        """Hand ``batch`` (filtered) to ``consumer`` (a function, or a pipe) and settle it; returns
        the mapping's LastProcessingResult."""
        records = [sqs_record(message, self.queue.arn, self.region) for message in batch]
        criteria = mapping.settings.filter_criteria
        if criteria is not None:
            kept: list[dict[str, Any]] = []
            dropped: list[dict[str, Any]] = []
            for record, matched in zip(records, criteria.matches_many(records)):
                (kept if matched else dropped).append(record)
            self._delete(dropped)
            records = kept
        if not records:
            return "OK"
        invocation = consumer.run_records(records)
        failed = self._failed(mapping, invocation, records)
        if self.fifo and failed:
            failed = _with_later_group_messages(records, failed)
        self._delete([record for record in records if record["messageId"] not in failed])
        if invocation.failed:
            return "PROBLEM: Function call failed"
        return "OK"

    @staticmethod
    def _failed(
        mapping: EventSourceMapping, invocation: Invocation, records: list[dict[str, Any]]
    ) -> set[str]:
        ids = [record["messageId"] for record in records]
        if invocation.failed:
            return set(ids)
        if not mapping.reports_batch_item_failures:
            return set()
        failed = failed_items(invocation.result, ids)
        if failed is None:
            _log.warning(
                "function %s returned an unreadable batchItemFailures response: the whole batch fails",
                mapping.function_name,
            )
            return set(ids)
        return failed

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), _SQS_BATCH):
            chunk = records[start : start + _SQS_BATCH]
            result = self.queue.delete_batch(
                [
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(chunk)
                ]
            )
            for failure in result.get("Failed", []):
                # A FIFO handle expires with its visibility: the message comes back, as on AWS.
                _log.warning("could not delete a processed message from %s: %s", self.queue.name, failure)


def _with_later_group_messages(records: list[dict[str, Any]], failed: set[str]) -> set[str]:
    """``failed`` plus every message that follows a failed one in its message group."""
    stopped: set[str] = set()
    returned = set(failed)
    for record in records:
        group = record["attributes"].get("MessageGroupId", "")
        if group in stopped:
            returned.add(record["messageId"])
        elif record["messageId"] in failed:
            stopped.add(group)
    return returned
