"""A function's event queue: where its asynchronous invocations wait, in the store (AWS Lambda
Developer Guide, 'Invoking a Lambda function asynchronously': "Lambda places the event in a
queue and returns a success response"; a separate process takes events from it).

Each function has one internal SQS queue in the broker's store, named ``lambda:async:<function>``:
a name no SQS queue can have (SQS names are letters, digits, hyphens and underscores), so that no
user queue collides with it, and that ListQueues, ``broker.queues()``, the console and the metrics
leave out. The queue gives what Lambda's internal queue gives, on every store and across
processes: an event outlives the process that published it, is hidden while one process runs it
(and comes back if that process dies), and waits out its retry delay as a delayed message. A
message holds one :class:`~rulebus.functions.async_invocation.AsyncEvent` as JSON: the event, when
it was received, its attempts so far and the last attempt's error.

The queue also says that the function exists for other processes: registering a function creates
it, DeleteFunction deletes it (and the events waiting in it, as Lambda does), and a publisher
whose broker lacks the function hands the event to the queue when there is one.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rulebus._errors import AwsError, NotFound
from rulebus.functions.async_invocation import AsyncEvent
from rulebus.sqs.attributes import INTERNAL_QUEUE_PREFIX, QueueAttributes
from rulebus.sqs.queue import Queue
from rulebus.stores.records import QueueRecord

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["PREFIX", "THROTTLE_DELAY", "ClaimedEvent", "EventQueue"]

_log = logging.getLogger("rulebus.functions")

#: What every event queue's name starts with (a colon: no SQS queue name has one).
PREFIX = INTERNAL_QUEUE_PREFIX

#: Seconds a throttled event waits before it is looked at again (Lambda backs off from a second).
THROTTLE_DELAY = 1

#: SQS's longest visibility timeout (12 hours).
_MAX_VISIBILITY = 43_200


@dataclass
class ClaimedEvent:
    """An event taken from its queue: hidden from other takers until it is settled or released."""

    event: AsyncEvent
    receipt_handle: str


class EventQueue:
    """One function's event queue (see the module docstring)."""

    def __init__(self, context: Context, function_name: str) -> None:
        self._context = context
        self.function_name = function_name
        self.name = PREFIX + function_name
        self._queue = Queue(context, self.name)

    def create(self) -> None:
        """Create the queue if it is not there (a function registered by any process)."""
        now = self._context.clock()
        # recreate_after 0: a function deleted and registered again gets its queue back at once.
        self._context.store.queues.create_queue(QueueRecord(self.name, QueueAttributes(), now, now), 0.0)

    def delete(self) -> None:
        """Delete the queue and the events waiting in it."""
        with contextlib.suppress(NotFound):
            self._context.store.queues.delete_queue(self.name, self._context.clock())

    def exists(self) -> bool:
        """Whether some process registered the function (and nobody deleted it since)."""
        return self._context.store.queues.get_queue(self.name) is not None

    def put(self, event: AsyncEvent, delay: int = 0) -> None:
        """Queue ``event``, visible after ``delay`` seconds; QueueDoesNotExist when the function
        was deleted."""
        self._queue.send(event.to_body(), delay_seconds=delay)

    def take(self, most: int, hide_for: int) -> list[ClaimedEvent]:
        """Up to ``most`` (1-10) events visible now, hidden for ``hide_for`` seconds. A message
        that is not an event (a damaged row) is logged and deleted, never run."""
        taken = []
        for message in self._queue.receive(
            most, wait_seconds=0, visibility_timeout=min(hide_for, _MAX_VISIBILITY)
        ):
            event = AsyncEvent.from_body(message.body)
            if event is None:
                _log.error("function %s: dropped a damaged event: %r", self.function_name, message.body[:200])
                self._queue.delete(message.receipt_handle)
                continue
            taken.append(ClaimedEvent(event, message.receipt_handle))
        return taken

    def has_work(self) -> bool:
        """Whether an event is visible now (waiting for an attempt)."""
        try:
            return self._context.store.queues.counts(self.name, self._context.clock()).visible > 0
        except NotFound:
            return False

    def done(self, claimed: ClaimedEvent) -> None:
        """The event is settled (succeeded, or went to its failure destination): gone."""
        try:
            self._queue.delete(claimed.receipt_handle)
        except AwsError as error:  # the function was deleted meanwhile: nothing left to delete
            _log.warning(
                "function %s: could not delete event %s: %s",
                self.function_name,
                claimed.event.request_id,
                error,
            )

    def again(self, claimed: ClaimedEvent, delay: int) -> None:
        """Queue the event as it stands now (attempts, last error) for another look in ``delay``
        seconds, and delete the message it came in. Put first: a crash in between runs the
        event twice rather than never."""
        self.put(claimed.event, delay)
        self.done(claimed)

    def release(self, claimed: ClaimedEvent) -> None:
        """Give an unsettled event back: visible again at once (a worker stopping past its grace
        period)."""
        self._queue.change_visibility(claimed.receipt_handle, 0)
