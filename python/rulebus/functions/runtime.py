"""Where functions run: one broker's functions and event source mappings, and the pool of
threads that polls the mappings' queues and invokes the functions.

The pool starts with the first mapping (``Broker(background_functions=False)`` keeps it off, for
tests that drive everything with :meth:`Functions.run`). One dispatcher thread takes batches from
the queues, as Lambda's pollers do, and hands each to a worker thread; how many batches run at
once is bounded by the workers, each mapping's ScalingConfig.MaximumConcurrency and each
function's reserved concurrency. A batch is received before it is handed over, so its messages
stay in flight (hidden) while they wait for the handler. Closing stops polling and lets the
batches already taken finish.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from rulebus._errors import AwsError, RulebusError
from rulebus.functions.event_source_mapping import (
    EventSourceMapping,
    changed_settings,
    check_settings,
    invalid_parameter,
    mapping_not_found,
)
from rulebus.functions.function import Function, function_name_of, function_not_found
from rulebus.functions.sqs_source import SqsSource
from rulebus.sqs.errors import queue_does_not_exist
from rulebus.sqs.queue import Message

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["DEFAULT_WORKERS", "Functions"]

_log = logging.getLogger("rulebus.functions")

#: Threads that run handlers at once, by default.
DEFAULT_WORKERS = 10

#: Batches one ``run`` takes at most, so that a queue whose failing messages come straight back
#: (VisibilityTimeout 0) cannot keep it busy forever.
MAX_BATCHES_PER_RUN = 10_000

_Claim = tuple[EventSourceMapping, Function, SqsSource, list[Message]]


class Functions:
    """One broker's functions and mappings (see the module docstring)."""

    def __init__(
        self, context: Context, *, background: bool = True, workers: int = DEFAULT_WORKERS, poll: float = 0.05
    ) -> None:
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise ValueError(f"function_workers must be a positive integer, not {workers!r}")
        self._context = context
        self._background = background
        self._workers = workers
        self._poll = poll
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        # Held while batches are taken and counted, so that "idle" never looks between the two.
        self._claiming = threading.Lock()
        self._functions: dict[str, Function] = {}
        self._mappings: dict[str, EventSourceMapping] = {}
        self._sources: dict[str, SqsSource] = {}
        self._running_by_mapping: Counter[str] = Counter()
        self._running_by_function: Counter[str] = Counter()
        self._running = 0
        self._executor: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ functions

    def add(self, function: Function) -> Function:
        """CreateFunction: ResourceConflictException when the name is taken."""
        with self._lock:
            if function.name in self._functions:
                raise AwsError(
                    "ResourceConflictException", f"Function already exist: {function.name}", status=409
                )
            self._functions[function.name] = function
        return function

    def get(self, name: Any) -> Function:
        """The function a name or ARN gives (ResourceNotFoundException when there is none)."""
        context = self._context
        short = function_name_of(name, context.region, context.account)
        with self._lock:
            function = self._functions.get(short)
        if function is None:
            raise function_not_found(f"arn:aws:lambda:{context.region}:{context.account}:function:{short}")
        return function

    def all(self) -> list[Function]:
        """Every function, sorted by name."""
        with self._lock:
            return [self._functions[name] for name in sorted(self._functions)]

    def delete(self, name: Any) -> None:
        """DeleteFunction. Its mappings stay (as on AWS) and invoke nothing until a function of
        that name is registered again."""
        function = self.get(name)
        with self._lock:
            self._functions.pop(function.name, None)
            self._changed.notify_all()

    # ------------------------------------------------------------------ mappings

    def create_mapping(self, function_name: Any, event_source_arn: Any, **settings: Any) -> dict[str, Any]:
        """CreateEventSourceMapping for an SQS queue of this broker."""
        function = self.get(function_name)
        source = self._source(event_source_arn)
        checked = check_settings(fifo=source.fifo, **settings)
        self._check_visibility(source, function)
        context = self._context
        with self._lock:
            for existing in self._mappings.values():
                if existing.event_source_arn == event_source_arn and existing.function_name == function.name:
                    raise AwsError(
                        "ResourceConflictException",
                        f'An event source mapping with SQS arn (" {event_source_arn} ") and function '
                        f'(" {function.name} ") already exists. Please update or delete the existing '
                        f"mapping with UUID {existing.uuid}",
                        status=409,
                    )
            mapping_id = str(uuid.uuid4())
            mapping = EventSourceMapping(
                uuid=mapping_id,
                arn=f"arn:aws:lambda:{context.region}:{context.account}:event-source-mapping:{mapping_id}",
                function_name=function.name,
                function_arn=function.arn,
                event_source_arn=event_source_arn,
                queue_name=source.queue.name,
                settings=checked,
                last_modified=context.clock(),
            )
            self._mappings[mapping_id] = mapping
            self._sources[mapping_id] = source
            self._changed.notify_all()
            answer = mapping.answer()
        self._start()
        return answer

    def _source(self, event_source_arn: Any) -> SqsSource:
        """The queue an EventSourceArn names (only SQS sources so far)."""
        from rulebus import validation

        validation.text(event_source_arn, "eventSourceArn", validation.LAMBDA)
        targets = self._context.targets
        name = targets.local_name(event_source_arn, "sqs")
        if name is None:
            # rulebus's words: Kinesis and other sources are not mapped yet.
            raise invalid_parameter(f"Unsupported event source: {event_source_arn}. rulebus maps SQS queues.")
        queue = targets.find_queue(name)
        if queue is None:
            missing = queue_does_not_exist()
            raise invalid_parameter(
                "Error occurred while ReceiveMessage. SQS Error Code: "
                f"AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: {missing.message}"
            )
        fifo = queue.get_attributes(["FifoQueue"]).get("FifoQueue") == "true"
        return SqsSource(queue, self._context.region, fifo)

    @staticmethod
    def _check_visibility(source: SqsSource, function: Function) -> None:
        visibility = int(source.queue.get_attributes(["VisibilityTimeout"])["VisibilityTimeout"])
        if function.timeout is not None and visibility < function.timeout:
            raise invalid_parameter(
                f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
                f"{function.timeout} seconds"
            )

    def _mapping(self, mapping_uuid: Any) -> EventSourceMapping:
        mapping = self._mappings.get(mapping_uuid) if isinstance(mapping_uuid, str) else None
        if mapping is None:
            raise mapping_not_found()
        return mapping

    def list_mappings(self, function_name: Any = None, event_source_arn: Any = None) -> list[dict[str, Any]]:
        """ListEventSourceMappings, optionally of one function and/or one source, oldest first."""
        wanted = None if function_name is None else self.get(function_name).name
        with self._lock:
            return [
                mapping.answer()
                for mapping in self._mappings.values()
                if (wanted is None or mapping.function_name == wanted)
                and (event_source_arn is None or mapping.event_source_arn == event_source_arn)
            ]

    def get_mapping(self, mapping_uuid: Any) -> dict[str, Any]:
        """GetEventSourceMapping."""
        with self._lock:
            return self._mapping(mapping_uuid).answer()

    def update_mapping(self, mapping_uuid: Any, function_name: Any = None, **changes: Any) -> dict[str, Any]:
        """UpdateEventSourceMapping: the settings given replace the mapping's (None: unchanged)."""
        with self._lock:
            mapping = self._mapping(mapping_uuid)
            source = self._sources[mapping.uuid]
        function = self.get(function_name if function_name is not None else mapping.function_name)
        settings = changed_settings(mapping.settings, changes, source.fifo)
        if function_name is not None:
            self._check_visibility(source, function)
        with self._lock:
            mapping.settings = settings
            mapping.function_name = function.name
            mapping.function_arn = function.arn
            mapping.last_modified = self._context.clock()
            self._changed.notify_all()
            return mapping.answer()

    def delete_mapping(self, mapping_uuid: Any) -> dict[str, Any]:
        """DeleteEventSourceMapping: the mapping's last answer, in state Deleting. Batches it
        already handed to the function finish."""
        with self._lock:
            mapping = self._mapping(mapping_uuid)
            del self._mappings[mapping.uuid]
            del self._sources[mapping.uuid]
            self._changed.notify_all()
            answer = mapping.answer()
        answer["state"] = "Deleting"
        return answer

    # ------------------------------------------------------------------ running

    def _capacity(self, mapping: EventSourceMapping, function: Function) -> int:
        """How many more batches of ``mapping`` may start now."""
        free = self._workers - self._running
        limit = mapping.settings.maximum_concurrency
        if limit is not None:
            free = min(free, limit - self._running_by_mapping[mapping.uuid])
        reserved = function.reserved_concurrency
        if reserved is not None:
            free = min(free, reserved - self._running_by_function[function.name])
        return free

    def _claim(self, most_per_mapping: int | None) -> list[_Claim]:
        """Take the batches that may start now, counted as running (under ``_claiming``)."""
        claims: list[_Claim] = []
        now = self._context.clock()
        with self._lock:
            active = [
                (mapping, self._sources[mapping.uuid], self._functions.get(mapping.function_name))
                for mapping in self._mappings.values()
                if mapping.settings.enabled
            ]
        for mapping, source, function in active:
            if function is None:
                continue
            taken = 0
            while most_per_mapping is None or taken < most_per_mapping:
                with self._lock:
                    if self._capacity(mapping, function) <= 0:
                        break
                try:
                    batch = source.take(mapping, now)
                except (AwsError, RulebusError) as error:
                    mapping.last_processing_result = f"PROBLEM: {error}"
                    _log.warning(
                        "event source mapping %s cannot poll %s: %s", mapping.uuid, mapping.queue_name, error
                    )
                    break
                if not batch:
                    break
                with self._lock:
                    self._running += 1
                    self._running_by_mapping[mapping.uuid] += 1
                    self._running_by_function[function.name] += 1
                claims.append((mapping, function, source, batch))
                taken += 1
        return claims

    def _invoke(
        self, mapping: EventSourceMapping, function: Function, source: SqsSource, batch: list[Message]
    ) -> None:
        try:
            result = source.process(mapping, function, batch)
        except Exception as error:  # a store failure while settling: the messages come back
            result = f"PROBLEM: {error}"
            _log.exception("event source mapping %s failed to settle a batch", mapping.uuid)
        with self._lock:
            mapping.last_processing_result = result
            self._running -= 1
            self._running_by_mapping[mapping.uuid] -= 1
            self._running_by_function[function.name] -= 1
            self._changed.notify_all()

    def run(self) -> int:
        """Run the work that is pending now in this thread, batch after batch, until no mapping
        has a batch to give (what the pool does; tests with a fake clock call this after moving
        it). Returns the batches taken."""
        taken = 0
        while taken < MAX_BATCHES_PER_RUN:
            with self._claiming:
                claims = self._claim(most_per_mapping=1)
            if not claims:
                break
            for claim in claims:
                self._invoke(*claim)
            taken += len(claims)
        return taken

    def idle(self) -> bool:
        """No batch running and no enabled mapping (with a function) whose queue has visible
        messages."""
        with self._claiming:
            with self._lock:
                if self._running:
                    return False
                active = [
                    self._sources[mapping.uuid]
                    for mapping in self._mappings.values()
                    if mapping.settings.enabled and mapping.function_name in self._functions
                ]
            for source in active:
                try:
                    if source.visible():
                        return False
                except (AwsError, RulebusError):
                    continue  # (its queue is gone: nothing to do)
        return True

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """True once :meth:`idle`; False when ``timeout`` real seconds pass first. Without the
        pool running (``background_functions=False``, or a closed broker) the pending work is
        run here first."""
        if self._thread is None:
            self.run()
            return self.idle()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.idle():
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            with self._changed:
                self._changed.wait(self._poll if remaining is None else min(self._poll, remaining))

    def _start(self) -> None:
        with self._lock:
            if not self._background or self._closed or self._thread is not None:
                return
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="rulebus-function")
            self._thread = threading.Thread(target=self._dispatch, name="rulebus-functions", daemon=True)
            self._thread.start()

    def _dispatch(self) -> None:
        executor = self._executor
        assert executor is not None
        while True:
            with self._lock:
                if self._closed:
                    return
            try:
                with self._claiming:
                    claims = self._claim(most_per_mapping=None)
            except Exception:  # the dispatcher must keep going whatever one poll hit
                _log.exception("the functions' dispatcher failed a pass")
                claims = []
            for claim in claims:
                executor.submit(self._invoke, *claim)
            if not claims:
                with self._changed:
                    if not self._closed:
                        self._changed.wait(self._poll)

    def close(self) -> None:
        """Stop polling; batches already taken finish."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()
            thread, executor = self._thread, self._executor
        if thread is not None:
            thread.join()
        if executor is not None:
            executor.shutdown(wait=True)

    def running(self) -> int:
        """Batches being processed now."""
        with self._lock:
            return self._running
