"""Where functions run: one broker's functions and event source mappings, and the pool of
threads that polls the mappings' queues and invokes the functions.

The pool starts with the first mapping (``Broker(background_functions=False)`` keeps it off, for
tests that drive everything with :meth:`Functions.run`). One dispatcher thread takes batches from
the queues, as Lambda's pollers do, and hands each to a worker thread; how many batches run at
once is bounded by the workers, each mapping's ScalingConfig.MaximumConcurrency and each
function's reserved concurrency. A batch is received before it is handed over, so its messages
stay in flight (hidden) while they wait for the handler. Closing stops polling and lets the
batches already taken finish. Asynchronous invocations (SNS, EventBridge, pipes) wait in each
function's event queue in the store (:mod:`rulebus.functions.event_queue`); the dispatcher takes
them from the queues of the functions registered here, whoever published them.

``function_pool="processes"`` runs each handler in a child process instead
(:mod:`rulebus.functions.process_pool`); the worker threads then wait for the children.
``rulebus worker`` (:mod:`rulebus.functions.worker`) runs the pool of a program's broker in a
process of its own: it stops polling, waits for the batches taken, and returns those that do not
finish in time (:meth:`Functions.stop_polling`, :meth:`Functions.wait_for_batches`,
:meth:`Functions.return_batches`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Union

from rulebus._errors import AwsError, RulebusError
from rulebus.functions.async_invocation import EVENT_AGE_EXCEEDED, AsyncEvent, send_to_failure_destination
from rulebus.functions.event_queue import THROTTLE_DELAY, ClaimedEvent, EventQueue
from rulebus.functions.event_source_mapping import (
    KINESIS,
    SQS,
    EventSourceMapping,
    changed_settings,
    check_settings,
    invalid_parameter,
    mapping_not_found,
)
from rulebus.functions.function import Consumer, Function, function_arn, function_name_of, function_not_found
from rulebus.functions.kinesis_source import KinesisSource
from rulebus.functions.process_pool import POOLS, ProcessPool, handler_reference, in_function_child
from rulebus.functions.sqs_source import SqsSource
from rulebus.sqs.errors import QUEUE_DOES_NOT_EXIST, queue_does_not_exist

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["DEFAULT_WORKERS", "Consumer", "Functions", "hold_pools", "open_source"]

_log = logging.getLogger("rulebus.functions")

#: Threads that run handlers at once, by default.
DEFAULT_WORKERS = 10

#: Batches one ``run`` takes at most, so that a queue whose failing messages come straight back
#: (VisibilityTimeout 0) cannot keep it busy forever.
MAX_BATCHES_PER_RUN = 10_000

_Source = Union[SqsSource, KinesisSource]
_Claim = tuple[EventSourceMapping, Consumer, _Source, Any]

# Set: this process's brokers start no pool on their own (see hold_pools).
_held = threading.Event()


def hold_pools() -> None:
    """From now on the brokers of this process start no pool on their own: ``rulebus worker``
    imports a program this way, then starts its broker's pool itself (:meth:`Functions.serve`)."""
    _held.set()


def _checked_workers(workers: Any) -> int:
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"function_workers must be a positive integer, not {workers!r}")
    return workers


def _checked_pool(pool: Any) -> str:
    if pool not in POOLS:
        raise ValueError(f"function_pool must be one of {', '.join(map(repr, POOLS))}, not {pool!r}")
    return str(pool)


class Functions:
    """One broker's functions and mappings (see the module docstring)."""

    def __init__(
        self,
        context: Context,
        *,
        background: bool = True,
        workers: int = DEFAULT_WORKERS,
        pool: str = "threads",
        poll: float = 0.05,
    ) -> None:
        workers = _checked_workers(workers)
        self._processes: ProcessPool | None = (
            ProcessPool(workers) if _checked_pool(pool) == "processes" else None
        )
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
        self._sources: dict[str, _Source] = {}
        # Mappings whose batches go to something other than their function (pipes), by UUID.
        self._consumers: dict[str, Consumer] = {}
        # Each registered function's event queue (its asynchronous invocations, in the store).
        self._event_queues: dict[str, EventQueue] = {}
        # Functions whose event queue could not be read at the last look (said once in the log).
        self._unreachable: set[str] = set()
        self._running_by_mapping: Counter[str] = Counter()
        self._running_by_function: Counter[str] = Counter()
        self._running = 0
        # The batches taken and not yet settled, with their sources (returned by return_batches).
        self._in_flight: dict[int, tuple[_Source | EventQueue, Any]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False

    # ------------------------------------------------------------------ functions

    def add(self, function: Function) -> Function:
        """CreateFunction: ResourceConflictException when the name is taken; with a process
        pool, HandlerNotImportable when the handler cannot be sent to a child."""
        with self._lock:
            if function.name in self._functions:
                raise AwsError(
                    "ResourceConflictException", f"Function already exist: {function.name}", status=409
                )
            if self._processes is not None:
                handler_reference(function)
            events = EventQueue(self._context, function.name)
            events.create()  # the function is known to every process on the store from now on
            function.pool = self._processes
            self._functions[function.name] = function
            self._event_queues[function.name] = events
            self._changed.notify_all()
        # Its event queue may hold events already (published before, or by another process).
        self._start()
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
        that name is registered again; the asynchronous events waiting for it are deleted with its
        event queue, as Lambda deletes them."""
        function = self.get(name)
        with self._lock:
            self._functions.pop(function.name, None)
            events = self._event_queues.pop(function.name, None)
            self._changed.notify_all()
        if events is not None:
            events.delete()

    # ------------------------------------------------------------------ mappings

    def create_mapping(self, function_name: Any, event_source_arn: Any, **settings: Any) -> dict[str, Any]:
        """CreateEventSourceMapping for an SQS queue or a Kinesis stream of this broker."""
        function = self.get(function_name)
        source = self._source(event_source_arn)
        kind = _kind(source)
        checked = check_settings(kind=kind, fifo=source.fifo, **settings)
        if isinstance(source, SqsSource):
            self._check_visibility(source, function)
        context = self._context
        with self._lock:
            for existing in self._mappings.values():
                if existing.event_source_arn == event_source_arn and existing.function_name == function.name:
                    raise AwsError(
                        "ResourceConflictException",
                        (
                            f'An event source mapping with SQS arn (" {event_source_arn} ") and function '
                            f'(" {function.name} ") already exists.'
                            if kind == SQS
                            else f'The event source arn (" {event_source_arn} ") and function '
                            f'(" {function.name} ") provided mapping already exists.'
                        )
                        + f" Please update or delete the existing mapping with UUID {existing.uuid}",
                        status=409,
                    )
            mapping_id = str(uuid.uuid4())
            mapping = EventSourceMapping(
                uuid=mapping_id,
                arn=f"arn:aws:lambda:{context.region}:{context.account}:event-source-mapping:{mapping_id}",
                function_name=function.name,
                function_arn=function.arn,
                event_source_arn=event_source_arn,
                source_name=source.queue.name if isinstance(source, SqsSource) else source.stream.name,
                settings=checked,
                last_modified=context.clock(),
            )
            if isinstance(source, KinesisSource):
                source.load(function.name, checked.starting_position or "TRIM_HORIZON")
            self._mappings[mapping_id] = mapping
            self._sources[mapping_id] = source
            self._changed.notify_all()
            answer = mapping.answer()
        self._start()
        return answer

    def _source(self, event_source_arn: Any) -> _Source:
        """The queue or stream an EventSourceArn names (Lambda's errors for anything else)."""
        from rulebus import validation

        validation.text(event_source_arn, "eventSourceArn", validation.LAMBDA)
        source = open_source(self._context, event_source_arn)
        if isinstance(source, (SqsSource, KinesisSource)):
            return source
        if source == KINESIS:
            # rulebus's words: Lambda's text for a missing stream is not recorded.
            raise invalid_parameter(f"Stream not found: {event_source_arn}")
        if source == SQS:
            missing = queue_does_not_exist()
            raise invalid_parameter(
                "Error occurred while ReceiveMessage. SQS Error Code: "
                f"AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: {missing.message}"
            )
        # rulebus's words: other sources are not mapped.
        raise invalid_parameter(
            f"Unsupported event source: {event_source_arn}. rulebus maps SQS queues and Kinesis streams."
        )

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
        if mapping is None or mapping.uuid in self._consumers:
            raise mapping_not_found()
        return mapping

    def list_mappings(self, function_name: Any = None, event_source_arn: Any = None) -> list[dict[str, Any]]:
        """ListEventSourceMappings, optionally of one function and/or one source, oldest first."""
        wanted = None if function_name is None else self.get(function_name).name
        with self._lock:
            return [
                mapping.answer()
                for mapping in self._mappings.values()
                if mapping.uuid not in self._consumers
                and (wanted is None or mapping.function_name == wanted)
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
        settings = changed_settings(mapping.settings, changes, _kind(source), source.fifo)
        if function_name is not None and isinstance(source, SqsSource):
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
            source = self._sources.pop(mapping.uuid)
            self._changed.notify_all()
            answer = mapping.answer()
        if isinstance(source, KinesisSource):
            source.leave()  # its shards go to the mapping's pollers in other processes at once
        answer["state"] = "Deleting"
        return answer

    # ------------------------------------------------------------------ other consumers

    def attach(self, mapping: EventSourceMapping, source: _Source, consumer: Consumer) -> None:
        """Poll ``source`` as ``mapping`` says and hand its batches to ``consumer`` (a pipe)
        instead of a function; the pool starts if it is not running."""
        with self._lock:
            self._mappings[mapping.uuid] = mapping
            self._sources[mapping.uuid] = source
            self._consumers[mapping.uuid] = consumer
            self._changed.notify_all()
        self._start()

    def detach(self, mapping_uuid: str) -> None:
        """Stop polling for an attached consumer (batches it already took finish)."""
        with self._lock:
            self._mappings.pop(mapping_uuid, None)
            self._sources.pop(mapping_uuid, None)
            self._consumers.pop(mapping_uuid, None)
            self._changed.notify_all()

    def _consumer(self, mapping: EventSourceMapping) -> Consumer | None:
        """Who takes ``mapping``'s batches: its attached consumer, else its function (if any)."""
        consumer = self._consumers.get(mapping.uuid)
        return consumer if consumer is not None else self._functions.get(mapping.function_name)

    # ------------------------------------------------------------------ running

    def _function_capacity(self, function: Consumer) -> int:
        """How many more invocations of ``function`` may start now (workers, reserved concurrency)."""
        free = self._workers - self._running
        reserved = function.reserved_concurrency
        if reserved is not None:
            free = min(free, reserved - self._running_by_function[function.name])
        return free

    def _capacity(self, mapping: EventSourceMapping, function: Consumer) -> int:
        """How many more batches of ``mapping`` may start now."""
        free = self._function_capacity(function)
        limit = mapping.settings.maximum_concurrency
        if limit is not None:
            free = min(free, limit - self._running_by_mapping[mapping.uuid])
        return free

    # ------------------------------------------------------------------ asynchronous invocation

    def invoke_async(self, name: Any, event: Any) -> str:
        """Invoke with InvocationType Event: queue ``event`` in the function's event queue and
        return its request id at once (see :mod:`rulebus.functions.async_invocation`). The
        function may be registered by another process on the same store (its event queue
        exists); ResourceNotFoundException when no process registered it."""
        context = self._context
        short = function_name_of(name, context.region, context.account)
        with self._lock:
            function = self._functions.get(short)
            events = self._event_queues.get(short)
        if events is None:
            events = EventQueue(context, short)
            if not events.exists():
                raise function_not_found(function_arn(short, context.region, context.account))
        pending = AsyncEvent(short, event, received=context.clock(), counted=function is not None)
        try:
            events.put(pending)
        except AwsError as error:
            if error.code != QUEUE_DOES_NOT_EXIST:
                raise
            # Deleted meanwhile (DeleteFunction in another process).
            raise function_not_found(function_arn(short, context.region, context.account)) from None
        if function is not None:  # else whichever process registered it runs it
            function.count("AsyncEventsReceived")
            with self._lock:
                self._changed.notify_all()
            self._start()
        return pending.request_id

    def _claim_async(self) -> list[tuple[EventQueue, ClaimedEvent, Function]]:
        """The asynchronous events due now that may start, taken from their event queues and
        counted as running; expired ones go to their function's failure destination, throttled
        ones wait (under ``_claiming``)."""
        now = self._context.clock()
        claims: list[tuple[EventQueue, ClaimedEvent, Function]] = []
        expired: list[tuple[EventQueue, ClaimedEvent, Function]] = []
        with self._lock:
            registered = [(self._functions[name], events) for name, events in self._event_queues.items()]
        for function, events in registered:
            with self._lock:
                free = self._function_capacity(function)
                reserved = function.reserved_concurrency
                throttled = reserved is not None and self._running_by_function[function.name] >= reserved
            if free <= 0 and not throttled:
                continue  # every worker is busy: the events wait where they are
            try:
                # A throttled function's events are taken to be counted and put back for a while.
                taken = events.take(
                    10 if throttled else min(free, 10), THROTTLE_DELAY if throttled else _hide_for(function)
                )
            except (AwsError, RulebusError) as error:
                if function.name not in self._unreachable:  # once, not at every poll
                    self._unreachable.add(function.name)
                    _log.warning(
                        "function %s: cannot take events from its event queue: %s", function.name, error
                    )
                continue
            self._unreachable.discard(function.name)
            for claimed in taken:
                pending = claimed.event
                if not pending.counted:  # published by a process without the function
                    pending.counted = True
                    function.count("AsyncEventsReceived")
                if pending.expired(function, now):
                    expired.append((events, claimed, function))
                elif throttled:
                    self._throttle(events, claimed, function)
                else:
                    with self._lock:
                        self._running += 1
                        self._running_by_function[function.name] += 1
                        self._in_flight[id(claimed)] = (events, claimed)
                    claims.append((events, claimed, function))
        for events, claimed, function in expired:
            self._fail_async(claimed.event, function, EVENT_AGE_EXCEEDED, now)
            events.done(claimed)
        return claims

    @staticmethod
    def _throttle(events: EventQueue, claimed: ClaimedEvent, function: Function) -> None:
        """Held back by reserved concurrency: tried again while it is young enough, counted once
        per attempt however often it is looked at (the event is put back marked throttled)."""
        if claimed.event.throttled:
            return  # hidden for THROTTLE_DELAY by the take
        claimed.event.throttled = True
        function.count("Throttles")
        try:
            events.again(claimed, THROTTLE_DELAY)
        except (AwsError, RulebusError) as error:  # it comes back when its visibility ends
            _log.warning("function %s: could not put a throttled event back: %s", function.name, error)

    def _fail_async(self, pending: AsyncEvent, function: Function, condition: str, now: float) -> None:
        try:
            sent = send_to_failure_destination(self._context.targets, pending, function, condition, now)
        except Exception:  # a destination that refuses: logged, as Lambda records a failed destination
            sent = False
            _log.exception(
                "function %s: the failure destination refused event %s", function.name, pending.request_id
            )
        if not sent:
            if function.on_failure is not None:
                function.count("DestinationDeliveryFailures")
            elif function.dead_letter_config is not None:
                function.count("DeadLetterErrors")
            function.count("AsyncEventsDropped")

    def _invoke_async(self, events: EventQueue, claimed: ClaimedEvent, function: Function) -> None:
        pending = claimed.event
        function.metrics["AsyncEventAge"] = max(0, int((self._context.clock() - pending.received) * 1000))
        try:
            invocation = function.run(pending.event)
            now = self._context.clock()
            outcome = pending.settle(function, invocation, now)
            if isinstance(outcome, int):
                events.again(claimed, outcome)  # tried again when due
            else:
                if outcome is not None:
                    self._fail_async(pending, function, outcome, now)
                events.done(claimed)
        except (AwsError, RulebusError) as error:  # the store refused: the event comes back
            _log.warning(
                "function %s: could not settle event %s: %s", function.name, pending.request_id, error
            )
        finally:
            with self._lock:
                self._in_flight.pop(id(claimed), None)
                self._running -= 1
                self._running_by_function[function.name] -= 1
                self._changed.notify_all()

    def _claim(self, most_per_mapping: int | None) -> list[_Claim]:
        """Take the batches that may start now, counted as running (under ``_claiming``)."""
        claims: list[_Claim] = []
        now = self._context.clock()
        with self._lock:
            active = [
                (mapping, self._sources[mapping.uuid], self._consumer(mapping))
                for mapping in self._mappings.values()
                if mapping.settings.enabled
            ]
        for mapping, source, function in active:
            if function is None:
                continue
            taken = 0
            while most_per_mapping is None or taken < most_per_mapping:
                with self._lock:
                    blocked = self._capacity(mapping, function) <= 0
                    reserved = function.reserved_concurrency
                    throttled = (
                        blocked
                        and reserved is not None
                        and (self._running_by_function[function.name] >= reserved)
                    )
                if blocked:
                    if throttled:
                        self._throttled(mapping, function, source, now)
                    break
                try:
                    batch = source.take(mapping, now)
                except (AwsError, RulebusError) as error:
                    problem = f"PROBLEM: {error}"
                    if mapping.last_processing_result != problem:  # once, not at every poll
                        _log.warning(
                            "event source mapping %s cannot poll %s: %s",
                            mapping.uuid,
                            mapping.source_name,
                            error,
                        )
                    mapping.last_processing_result = problem
                    break
                if not batch:
                    break
                with self._lock:
                    self._running += 1
                    self._running_by_mapping[mapping.uuid] += 1
                    self._running_by_function[function.name] += 1
                    self._in_flight[id(batch)] = (source, batch)
                mapping.throttled = False
                claims.append((mapping, function, source, batch))
                taken += 1
        return claims

    @staticmethod
    def _throttled(mapping: EventSourceMapping, consumer: Consumer, source: _Source, now: float) -> None:
        """A mapping held back by its function's reserved concurrency while records wait: one
        Throttles per spell (not per poll), ended by the next batch it takes."""
        if mapping.throttled or not isinstance(consumer, Function):
            return
        try:
            waiting = source.has_work(mapping, now)
        except (AwsError, RulebusError):
            return
        if waiting:
            mapping.throttled = True
            consumer.count("Throttles")

    def _invoke(self, mapping: EventSourceMapping, function: Consumer, source: _Source, batch: Any) -> None:
        try:
            result = source.process(mapping, function, batch, self._context.clock())
        except Exception as error:  # a store failure while settling: the messages come back
            result = f"PROBLEM: {error}"
            _log.exception("event source mapping %s failed to settle a batch", mapping.uuid)
        with self._lock:
            self._in_flight.pop(id(batch), None)
            mapping.last_processing_result = result
            self._running -= 1
            self._running_by_mapping[mapping.uuid] -= 1
            self._running_by_function[function.name] -= 1
            self._changed.notify_all()

    def run(self) -> int:
        """Run the work that is pending now in this thread, batch after batch, until no mapping
        has a batch to give (what the pool does; tests with a fake clock call this after moving
        it). Returns the batches and asynchronous events taken."""
        taken = 0
        while taken < MAX_BATCHES_PER_RUN:
            with self._claiming:
                claims = self._claim(most_per_mapping=1)
                events = self._claim_async()
            if not claims and not events:
                break
            for claim in claims:
                self._invoke(*claim)
            for event in events:
                self._invoke_async(*event)
            taken += len(claims) + len(events)
        return taken

    def idle(self) -> bool:
        """No batch running and no enabled mapping (with a function) whose queue has visible
        messages."""
        with self._claiming:
            with self._lock:
                if self._running:
                    return False
                now = self._context.clock()
                registered = list(self._event_queues.values())
                active = [
                    (mapping, self._sources[mapping.uuid])
                    for mapping in self._mappings.values()
                    if mapping.settings.enabled and self._consumer(mapping) is not None
                ]
            for mapping, source in active:
                try:
                    if source.has_work(mapping, now):
                        return False
                except (AwsError, RulebusError):
                    continue  # (its queue is gone: nothing to do)
            for events in registered:
                if events.has_work():
                    return False
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

    def _start(self, *, served: bool = False) -> None:
        with self._lock:
            if self._closed or self._thread is not None:
                return
            if not served and (not self._background or _held.is_set() or in_function_child()):
                return
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="rulebus-function")
            self._thread = threading.Thread(target=self._dispatch, name="rulebus-functions", daemon=True)
            self._thread.start()

    def _dispatch(self) -> None:
        executor = self._executor
        assert executor is not None
        while True:
            with self._lock:
                if self._closed or self._stopping:
                    return
            events: list[tuple[EventQueue, ClaimedEvent, Function]] = []
            try:
                with self._claiming:
                    claims = self._claim(most_per_mapping=None)
                    events = self._claim_async()
            except Exception:  # the dispatcher must keep going whatever one poll hit
                _log.exception("the functions' dispatcher failed a pass")
                claims = []
            try:
                for claim in claims:
                    executor.submit(self._invoke, *claim)
                for event in events:
                    executor.submit(self._invoke_async, *event)
            except RuntimeError:
                # The interpreter is exiting without close(): what was taken comes back (the
                # messages when their visibility timeout ends).
                return
            if not claims and not events:
                with self._changed:
                    if not self._closed and not self._stopping:
                        self._changed.wait(self._poll)

    def serve(self, *, workers: int | None = None, pool: str | None = None) -> None:
        """Start the pool now, whatever ``background`` and :func:`hold_pools` say (``rulebus
        worker``), with these workers and this pool if given."""
        with self._lock:
            if self._thread is not None or self._closed:
                raise RuntimeError("the functions' pool is already running or closed")
            if workers is not None:
                self._workers = _checked_workers(workers)
            if pool is not None and _checked_pool(pool) == "processes":
                if self._processes is None:
                    for function in self._functions.values():
                        handler_reference(function)
                    self._processes = ProcessPool(self._workers)
            elif pool is not None:
                self._processes = None
            if self._processes is not None:
                self._processes.resize(self._workers)
            for function in self._functions.values():
                function.pool = self._processes
        self._start(served=True)

    @property
    def pool(self) -> str:
        """Where handlers run: "threads" or "processes"."""
        return "threads" if self._processes is None else "processes"

    def stop_polling(self) -> None:
        """Take no more batches or events; those taken go on (the first step of a graceful stop)."""
        with self._lock:
            self._stopping = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def wait_for_batches(self, timeout: float | None = None) -> bool:
        """Wait until no batch or event is running; False if ``timeout`` real seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._running:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def return_batches(self) -> int:
        """Give back the batches still running, unsettled: a queue's messages become visible
        again at once (ChangeMessageVisibility 0), a stream's records stay after the shard's
        checkpoint; a process pool's busy children are killed. Returns how many batches. For a
        stop past its grace period: the handlers still running are abandoned."""
        with self._lock:
            in_flight = list(self._in_flight.values())
            self._in_flight.clear()
        for source, batch in in_flight:
            try:
                source.release(batch)
            except (AwsError, RulebusError) as error:  # they come back when their visibility ends
                _log.warning("could not return a batch of %s at once: %s", source.name, error)
        if self._processes is not None:
            self._processes.kill_busy()
        return len(in_flight)

    def close(self) -> None:
        """Stop polling; batches already taken finish."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()
            thread, executor = self._thread, self._executor
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if executor is not None:
            executor.shutdown(wait=True)
        if self._processes is not None:
            self._processes.close()
        with self._lock:
            sources = list(self._sources.values())
        for source in sources:  # every batch is settled: other processes' pollers take the shards
            if isinstance(source, KinesisSource):
                try:
                    source.leave()
                except (AwsError, RulebusError) as error:  # (their leases run out by themselves)
                    _log.warning("could not give back the shards of %s: %s", source.name, error)

    def running(self) -> int:
        """Batches being processed now."""
        with self._lock:
            return self._running


def _hide_for(function: Function) -> int:
    """Seconds an event taken is hidden from other processes: six times the function's timeout,
    as Lambda's guidance for an SQS source has it, so that it comes back only when the process
    running it died."""
    return 6 * (function.timeout or 1)


def _kind(source: _Source) -> str:
    return KINESIS if isinstance(source, KinesisSource) else SQS


def open_source(context: Context, arn: str) -> SqsSource | KinesisSource | str | None:
    """The queue or stream ``arn`` names in this broker, read as an event source (by a mapping or
    a pipe); when there is none: ``"sqs"`` or ``"kinesis"`` for a queue or stream ARN of this
    broker that does not exist, None for anything else. Each caller words its own error."""
    targets = context.targets
    stream = targets.local_name(arn, "kinesis", "stream")
    if stream is not None:
        found = targets.find_stream(stream)
        if found is None:
            return KINESIS
        return KinesisSource(found, context.region, context.account, targets, context.clock())
    name = targets.local_name(arn, "sqs")
    if name is None:
        return None
    queue = targets.find_queue(name)
    if queue is None:
        return SQS
    fifo = queue.get_attributes(["FifoQueue"]).get("FifoQueue") == "true"
    return SqsSource(queue, context.region, fifo)
