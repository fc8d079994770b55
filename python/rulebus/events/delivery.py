"""Delivering a bus's matched events to their targets, with retries and dead-letter queues
(EventBridge API Reference, 'RetryPolicy' and 'DeadLetterConfig'; EventBridge User Guide,
'Using dead-letter queues to process undelivered events in EventBridge').

Each target of each matched rule gets what its input says (the event, ``Input``, ``InputPath``
or ``InputTransformer``, see ``rulebus.events.input_transformer``). Queues, topics, buses,
streams and callables are invoked before ``put_events`` returns, a request's whole-event queue
deliveries stored together, in one store call (``BusDelivery.flush_queue_deliveries``); HTTP
endpoints on their target's own lane (``rulebus.delivery``). A failure that can pass (a
callable raising, an endpoint answering 5xx or 429 or not at all) is retried with exponential
backoff and jitter until the target's RetryPolicy runs out (MaximumRetryAttempts, default 185;
MaximumEventAgeInSeconds, default 86,400), on a timer that never holds up other events or
targets; one that cannot (the queue is gone, SQS refuses the message, a 4xx answer) is not
retried. Then the event goes to the target's dead-letter queue with EventBridge's attributes, or
is dropped. The bus's ``metrics`` count what happened, by CloudWatch's names.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter, deque
from collections.abc import Mapping
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any

from rulebus import tracing
from rulebus._errors import AwsError, StoreRowCorruptError
from rulebus.arn import Arn, function_name
from rulebus.arn import queue_name as sqs_queue_name
from rulebus.delivery import DeliveryLanes, RetryTimer
from rulebus.events.input_transformer import (
    InputTransformationError,
    compile_path,
    is_missing,
    select,
    string_text,
)
from rulebus.events.put_events import Gathering, LazyEvent, PlainDeliveries, plain
from rulebus.events.rules import Rule
from rulebus.events.targets import SERVICE_TARGETS, CompiledTarget
from rulebus.sqs.queue import Queue
from rulebus.stores.base import NotFound
from rulebus.stores.semantics import is_plain_body
from rulebus.transport import client_error, delivered, http_post, redacted

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["RETRY_BACKOFF_CAP_SECONDS", "BusDelivery", "Failure", "backoff", "partition_key"]

#: Retry backoff: doubling from 1 s to this cap, each delay drawn from its upper half (jitter).
#: AWS publishes only "exponential backoff and jitter"; the numbers are ours.
RETRY_BACKOFF_CAP_SECONDS = 600.0

#: Every failed invocation is logged here (docs/observability.md).
_log = logging.getLogger("rulebus.events")


class Failure(Exception):
    """A failed invocation: the DLQ's ERROR_CODE and ERROR_MESSAGE, and whether to retry."""

    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


def backoff(retry: int) -> float:
    """Seconds before retry number ``retry`` (1-based)."""
    ceiling = min(2.0 ** (retry - 1), RETRY_BACKOFF_CAP_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


def partition_key(target: CompiledTarget, event: Mapping[str, Any]) -> str:
    """KinesisParameters.PartitionKeyPath applied to the event; the event's id without one (or
    when the path finds nothing), as EventBridge does."""
    path = (target.target.get("KinesisParameters") or {}).get("PartitionKeyPath")
    steps = compile_path(path) if isinstance(path, str) else None
    if steps is None:
        return str(event["id"])
    value = select(event, steps)
    key = "" if is_missing(value) or value is None else string_text(value)
    return key or str(event["id"])


def _arn_parts(target: CompiledTarget) -> tuple[str, str, str]:
    """(region, account, resource name) of a service target's ARN."""
    arn = Arn.parse(target.arn)
    if arn is not None and target.kind in SERVICE_TARGETS:
        name = arn.named(*SERVICE_TARGETS[target.kind])
        if name is not None:
            return arn.region, arn.account, name
    raise Failure("NO_RESOURCE", f"{target.arn} is not a target rulebus can reach.", retryable=False)


#: Requests put_events' fast lane keeps before it counts their matches per rule.
PLAIN_MATCHES_KEPT = 256

#: One fast-lane request's matches: the rules' view it was routed with, and each event's rules.
_Matches = tuple[Mapping[str, Rule], list[list[str]]]


def _count_rules(kept: list[_Matches]) -> None:
    """Add fast-lane requests' matches to each rule's metrics: counted in C (``Counter``) over
    all the requests routed with one view, then one addition per rule."""
    by_view: dict[int, tuple[Mapping[str, Rule], list[list[str]]]] = {}
    for view, matched in kept:
        by_view.setdefault(id(view), (view, []))[1].extend(matched)
    for view, matched in by_view.values():
        for name, count in Counter(chain.from_iterable(matched)).items():
            rule = view.get(name)
            if rule is None:
                continue
            metrics = rule.metrics
            metrics["MatchedEvents"] += count
            metrics["TriggeredRules"] += count
            metrics["Invocations"] += count * len(rule.plain_queues or ())


class BusDelivery:
    """The deliveries of the bus ``name``: invocations, their retries (on the bus's timer) and
    dead letters, counted in ``metrics`` (the bus's). ``batch`` is the bus's gathering: a queue
    delivery made inside put_events waits there for ``flush_queue_deliveries``."""

    def __init__(self, context: Context, name: str, metrics: Counter[str], batch: Gathering) -> None:
        self._name = name
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self._targets = context.targets
        self._counters = context.counters  # the queues' NumberOfMessagesSent
        self._metrics = metrics
        # put_events' fast lane leaves each request's matches here, to count them per rule in
        # bulk (count_plain_matches) instead of per event; a deque, which threads append to and
        # take from safely.
        self._plain_matches: deque[_Matches] = deque()
        self._batch = batch
        self._lanes = DeliveryLanes(f"rulebus-events:{name}")
        self._retries = RetryTimer(
            context.clock, f"rulebus-retry:{name}", background=context.background_retries
        )

    def invoke(
        self, rule: Rule, target: CompiledTarget, event: Mapping[str, Any], text: str, ingestion: float
    ) -> None:
        """Deliver an event that matched ``rule`` to ``target``: now, or on the target's lane
        for an HTTP endpoint."""
        if target.kind == "python" and target.call is None:
            return  # a callable of another process (or broker): it delivers there
        attempt = partial(self._attempt, rule, target, event, text, ingestion, 0)
        if target.kind == "http":
            self._lanes.submit(f"{rule.record.name}/{target.target_id}", attempt)
        else:
            attempt()

    def _attempt(
        self,
        rule: Rule,
        target: CompiledTarget,
        event: Mapping[str, Any],
        text: str,
        ingestion: float,
        retries: int,
    ) -> None:
        """One invocation; on failure a retry is scheduled, or the event is dead-lettered."""
        self._metrics["Invocations"] += 1
        rule.metrics["Invocations"] += 1
        if retries:
            self._metrics["RetryInvocationAttempts"] += 1
            rule.metrics["RetryInvocationAttempts"] += 1
        try:
            payload = (
                text
                if target.input.kind == "event"
                else target.input.render(plain(event), rule.arn, rule.record.name, ingestion)
            )
            pending = self._batch.pending
            if target.kind == "sqs" and pending is not None and retries == 0:
                pending.append((rule, target, event, text, ingestion, payload))
                return
            if not tracing.active():
                self._send(target, payload, event)
            else:
                with tracing.consumer(
                    "aws.eventbridge",
                    self._name,
                    "Invoke",
                    rule=rule.record.name,
                    target=target.target_id,
                    target_arn=redacted(target.arn),
                    event_id=event.get("id"),
                    retry=retries,
                ):
                    self._send(target, payload, event)
        except InputTransformationError as refused:
            failure = Failure("INVALID_JSON", str(refused), retryable=False)
        except Failure as error:
            failure = error
        else:
            return
        self._failed(rule, target, event, text, ingestion, retries, failure)

    def _failed(
        self,
        rule: Rule,
        target: CompiledTarget,
        event: Mapping[str, Any],
        text: str,
        ingestion: float,
        retries: int,
        failure: Failure,
    ) -> None:
        """A failed invocation: retried later if it may pass, else (or once the retry policy is
        spent) dead-lettered."""
        self._metrics["FailedInvocations"] += 1
        rule.metrics["FailedInvocations"] += 1
        now = self._clock()
        exhausted = None
        if failure.retryable:
            if retries >= target.maximum_retry_attempts:
                exhausted = "MaximumRetryAttempts"
            elif now - ingestion >= target.maximum_event_age:
                exhausted = "MaximumEventAgeInSeconds"
            else:
                retry = partial(self._attempt, rule, target, event, text, ingestion, retries + 1)
                delay = backoff(retries + 1)
                self._retries.schedule(now + delay, retry)
                _log.warning(
                    "%s failed: %s: %s; retry %d in %.0f s",
                    self._describe(rule, target, event),
                    failure.code,
                    failure.message,
                    retries + 1,
                    delay,
                )
                return
        self._dead_letter(rule, target, text, failure, retries, exhausted, event)

    def _describe(self, rule: Rule, target: CompiledTarget, event: Mapping[str, Any]) -> str:
        """An invocation as a log line names it: the event, bus, rule and target."""
        return (
            f"EventBridge event {event.get('id')} on bus {self._name}, rule {rule.record.name}, "
            f"target {target.target_id} ({redacted(target.arn)})"
        )

    def deliver_plain(
        self,
        accepted: list[tuple[str, str, list[str]]],
        plain: PlainDeliveries | None,
        time: str,
        view: Mapping[str, Rule],
        ingestion: float,
    ) -> bool:
        """put_events' deliveries for its events ``accepted`` (each as ``(id, text, names of the
        rules it matched)``, made at ``time``), when every one is plain, as the engine planned
        them (``RuleSet.route_common``; ``plain``, None when one is not): each matched rule's
        targets all take the whole event into a standard queue of this account
        (``Rule.plain_queues``), each event's text is printable ASCII, within every such queue's
        MaximumMessageSize. Then they are counted and stored in one ``put_plain_many`` call, as
        dispatching them and ``flush_queue_deliveries`` would have, and this returns True;
        otherwise it returns False having done nothing, and the general path takes the request.
        No target runs in between, so the view holds still."""
        if plain is None:
            return False
        bodies, sent, matched_events, triggered, longest = plain
        get_queue = self._store.queues.get_queue
        for queue in sent:
            try:
                record = get_queue(queue)
            except StoreRowCorruptError:
                return False
            if record is None or record.attributes.fifo_queue:
                return False
            if longest > record.attributes.maximum_message_size:
                return False
        if matched_events:
            metrics = self._metrics
            metrics["MatchedEvents"] += matched_events
            if triggered:
                metrics["TriggeredRules"] += triggered
                kept = self._plain_matches
                kept.append((view, [matched for _, _, matched in accepted]))
                if len(kept) >= PLAIN_MATCHES_KEPT:
                    self.count_plain_matches()
        if not bodies:
            return True
        self._metrics["Invocations"] += len(bodies)
        now = self._clock()
        refused = self._store.queues.put_plain_many(bodies, self._account, now)
        self._count_sent(bodies, refused, sent)
        if refused:  # a queue changed since it was looked at: those go the long way
            deliveries = []
            for event_id, text, matched in accepted:
                event = LazyEvent(text, event_id, time)
                deliveries += [
                    (rule, target, event, text, ingestion, text)
                    for rule in (view.get(name) for name in matched)
                    if rule is not None
                    for target in rule.targets
                ]
            prepared = self._prepare_long_way([(i, deliveries[i]) for i in refused], now, {})
            self._store_long_way(prepared)
        return True

    def count_plain_matches(self) -> None:
        """Count the fast lane's kept matches into the rules' metrics (before they are read)."""
        kept = self._plain_matches
        taken: list[_Matches] = []
        while True:
            try:
                taken.append(kept.popleft())
            except IndexError:
                break
        if taken:
            _count_rules(taken)

    def flush_queue_deliveries(self, pending: list[tuple[Any, ...]]) -> None:
        """Store the queue deliveries gathered by put_events, each queue's in event order, as
        SendMessage would store each; one SQS refuses, or whose queue is gone, fails as a single
        send would (retried or dead-lettered by ``_failed``).

        Most are plain: a standard queue of this account, no MessageGroupId, a body of printable
        ASCII within the queue's MaximumMessageSize. Those go to the store in one
        ``put_plain_many`` call, which builds and stores the messages itself (natively, on the
        memory store); the rest go the long way (``_prepare_long_way``: SendMessage's
        validation, then one ``put_messages_many``). The order of things is the one of storing
        everything the long way: the failures are handled (and dead-lettered) first, in event
        order, then the messages are stored; and a queue's plain deliveries are stored first,
        so a delivery goes the plain way only while no earlier delivery of this flush to its
        queue went the long way.

        Which deliveries are plain is decided here, as put_plain_many decides (``is_plain_body``
        with the queue's record, read once per flush as the long way reads it), so that it
        takes them all. An event's text is checked once for all its deliveries, and by cheaper
        scans than ``is_plain_body``'s, which come to the same: the engine writes JSON with
        every control character escaped but DEL, and takes no raw one in a detail. Should the
        store refuse some all the same (a queue changed in between), they go the long way
        afterwards."""
        if not pending:
            return
        now = self._clock()
        limits: dict[str, int] = {}  # a queue's MaximumMessageSize; 0 when it is gone or FIFO
        bodies: list[tuple[str, str]] = []  # for put_plain_many, in order
        others: list[int] = []  # the indices in ``pending`` of those going the long way
        blocked: set[str] = set()  # queues with a delivery going the long way
        checked: str | None = None  # the last event text checked (its deliveries share it)
        plain_text = False
        for index, delivery in enumerate(pending):
            target = delivery[1]
            queue = target.plain_queue
            if queue is not None and queue not in blocked:
                limit = limits.get(queue)
                if limit is None:
                    try:
                        record = self._store.queues.get_queue(queue)
                    except StoreRowCorruptError:  # the long way, where it fails alone
                        record = None
                    if record is None or record.attributes.fifo_queue:
                        limit = 0
                    else:
                        limit = record.attributes.maximum_message_size
                    limits[queue] = limit
                payload = delivery[5]
                if payload is delivery[3]:  # the event's text, as the engine wrote it
                    if payload is not checked:
                        checked = payload
                        plain_text = (
                            payload.isascii()
                            and "\t" not in payload
                            and "\r" not in payload
                            and "\x7f" not in payload
                        )
                    taken = plain_text and 0 < len(payload) <= limit
                else:  # a payload the target's input made
                    taken = is_plain_body(payload, limit)
                if taken:
                    bodies.append((queue, payload))
                    continue
            others.append(index)
            if target.queue_name is not None:
                blocked.add(target.queue_name)
        queues: dict[str, tuple[Queue, Any] | Failure] = {}
        prepared = self._prepare_long_way([(i, pending[i]) for i in others], now, queues)
        if bodies:
            refused = self._store.queues.put_plain_many(bodies, self._account, now)
            self._count_sent(bodies, refused)
            if refused:
                long_way = set(others)
                plain_way = [index for index in range(len(pending)) if index not in long_way]  # bodies'
                prepared += self._prepare_long_way(
                    [(plain_way[i], pending[plain_way[i]]) for i in refused], now, queues
                )
                prepared.sort(key=lambda item: item[0])
        self._store_long_way(prepared)

    def _prepare_long_way(
        self,
        deliveries: list[tuple[int, tuple[Any, ...]]],
        now: float,
        queues: dict[str, tuple[Queue, Any] | Failure],
    ) -> list[tuple[int, str, Any, tuple[Any, ...]]]:
        """Each delivery's message validated as SendMessage validates it (``queues``: the queues
        looked up so far, by target ARN); a failure is handled at once. Returns the messages to
        store, ``(index, queue name, message, delivery)``."""
        prepared = []
        for index, delivery in deliveries:
            rule, target, event, text, ingestion, payload = delivery
            found = queues.get(target.arn)
            if found is None:
                try:
                    queue = self.queue_target(target)
                    found = queues[target.arn] = (queue, queue.queue_attributes())
                except (Failure, AwsError) as error:
                    failure = (
                        error if isinstance(error, Failure) else Failure("NO_RESOURCE", str(error), False)
                    )
                    found = queues[target.arn] = failure
            if isinstance(found, Failure):
                self._failed(rule, target, event, text, ingestion, 0, found)
                continue
            queue, attributes = found
            try:
                message = queue.prepare_message(
                    payload, message_group_id=target.message_group_id, attributes=attributes, now=now
                )
            except AwsError as error:
                failure = Failure("INVALID_PARAMETER", f"{error.code}: {error.message}", retryable=False)
                self._failed(rule, target, event, text, ingestion, 0, failure)
                continue
            prepared.append((index, queue.name, message, delivery))
        return prepared

    def _store_long_way(self, prepared: list[tuple[int, str, Any, tuple[Any, ...]]]) -> None:
        """The messages ``_prepare_long_way`` made, stored in one store call (one lock, or one
        SQLite transaction), each queue's in the order given."""
        if not prepared:
            return
        batches: dict[str, list[Any]] = {}
        for _, name, message, _ in prepared:
            batch = batches.get(name)
            if batch is None:
                batches[name] = [message]
            else:
                batch.append(message)
        try:
            self._store.queues.put_messages_many(list(batches.items()))
            self._counters.sqs_add_many(
                "NumberOfMessagesSent", {name: len(batch) for name, batch in batches.items()}
            )
        except (NotFound, StoreRowCorruptError):
            # A queue went away in between (or its row is damaged): one by one, so the others
            # still get theirs.
            for _, _, _, (rule, target, event, text, ingestion, payload) in prepared:
                try:
                    self._send(target, payload, event)
                except Failure as failure:
                    self._failed(rule, target, event, text, ingestion, 0, failure)

    def _count_sent(
        self, bodies: list[tuple[str, str]], refused: list[int], sent: dict[str, int] | None = None
    ) -> None:
        """The queues' NumberOfMessagesSent for a plain put of ``bodies``, less what the store
        refused (those go the long way, and are counted there); ``sent``: the deliveries per
        queue when the engine counted them already (``RuleSet.route_common``). A loop of dict
        steps, not a ``Counter(...)``, whose construction costs more than a small put_events'
        counting."""
        if sent is None:
            sent = {}
            for queue, _ in bodies:
                sent[queue] = sent.get(queue, 0) + 1
        for index in refused:
            sent[bodies[index][0]] -= 1
        self._counters.sqs_add_many("NumberOfMessagesSent", sent)

    def queue_target(self, target: CompiledTarget) -> Queue:
        """The queue of an SQS target; Failure NO_RESOURCE when it is not one of this broker's."""
        region, account, name = _arn_parts(target)
        queue = self._targets.find_queue(name) if (region, account) == (self._region, self._account) else None
        if queue is None:
            raise Failure("NO_RESOURCE", f"Queue {name} does not exist.", retryable=False)
        return queue

    def _send(self, target: CompiledTarget, payload: str, event: Mapping[str, Any]) -> None:
        if target.kind == "python":
            assert target.call is not None
            try:
                target.call(json.loads(payload))
            except Exception as error:
                raise Failure(
                    "ERROR_FROM_TARGET", f"{type(error).__name__}: {error}", retryable=True
                ) from None
            return
        if target.kind == "http":
            status = http_post(target.arn, payload, {"Content-Type": "application/json; charset=utf-8"})
            if delivered(status):
                return
            if status == 0:
                raise Failure("CONNECTION_FAILURE", f"no answer from {target.arn}", retryable=True)
            raise Failure("ERROR_FROM_TARGET", f"{target.arn} answered {status}", not client_error(status))
        if target.kind == "lambda":
            # Lambda takes the event asynchronously: the delivery succeeds once it is queued, and
            # the function's own retries and failure destination take it from there.
            parsed = Arn.parse(target.arn)
            name = function_name(target.arn)
            if (
                parsed is None
                or name is None
                or not parsed.is_in(self._region, self._account)
                or not self._targets.invoke_function(name, json.loads(payload))
            ):
                raise Failure("NO_RESOURCE", f"Function {target.arn} does not exist.", retryable=False)
            return
        region, account, name = _arn_parts(target)
        if (region, account) != (self._region, self._account):
            raise Failure("NO_RESOURCE", f"{target.arn} does not exist.", retryable=False)
        try:
            if target.kind == "sqs":
                self.queue_target(target).send(payload, message_group_id=target.message_group_id)
            elif target.kind == "sns":
                topic = self._targets.find_topic(name)
                if topic is None:
                    raise Failure("NO_RESOURCE", f"Topic {name} does not exist.", retryable=False)
                topic.publish(payload, message_group_id=target.message_group_id)
            elif target.kind == "kinesis":
                stream = self._targets.find_stream(name)
                if stream is None:
                    raise Failure("NO_RESOURCE", f"Stream {name} does not exist.", retryable=False)
                stream.put_record(payload, partition_key(target, event))
            else:  # another bus: the event itself goes on, as EventBridge forwards it
                bus = self._targets.find_event_bus(name)
                if bus is None:
                    raise Failure("NO_RESOURCE", f"Event bus {name} does not exist.", retryable=False)
                bus.ingest(event)
        except AwsError as error:
            raise Failure("INVALID_PARAMETER", f"{error.code}: {error.message}", retryable=False) from None

    def _dead_letter(
        self,
        rule: Rule,
        target: CompiledTarget,
        text: str,
        failure: Failure,
        retries: int,
        exhausted: str | None,
        event: Mapping[str, Any],
    ) -> None:
        """The event to the target's DLQ with EventBridge's attributes (EventBridge User Guide,
        'Using dead-letter queues to process undelivered events in EventBridge'), logged at
        WARNING; or dropped, logged at ERROR."""
        why = f"{failure.code}: {failure.message}" + (f" ({exhausted} reached)" if exhausted else "")
        if target.dead_letter_arn is None:
            _log.error(
                "%s failed: %s; no dead-letter queue: dropped", self._describe(rule, target, event), why
            )
            return
        attributes = {
            "RULE_ARN": rule.arn,
            "TARGET_ARN": target.arn,
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message[:256],
            "RETRY_ATTEMPTS": str(retries),
        }
        if exhausted is not None:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        name = sqs_queue_name(target.dead_letter_arn)
        try:
            dead_letter_queue = self._targets.find_queue(name) if name is not None else None
            if dead_letter_queue is None:
                raise AwsError("NO_RESOURCE", "the dead-letter queue does not exist")
            dead_letter_queue.send(
                text,
                message_attributes={
                    k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
                },
            )
        except AwsError as refused:
            self._metrics["InvocationsFailedToBeSentToDLQ"] += 1
            rule.metrics["InvocationsFailedToBeSentToDLQ"] += 1
            _log.error(
                "%s failed: %s; its dead-letter queue %s refused it too (%s: %s): dropped",
                self._describe(rule, target, event),
                why,
                target.dead_letter_arn,
                refused.code,
                refused.message,
            )
        else:
            self._metrics["InvocationsSentToDLQ"] += 1
            rule.metrics["InvocationsSentToDLQ"] += 1
            _log.warning(
                "%s failed: %s; sent to its dead-letter queue %s",
                self._describe(rule, target, event),
                why,
                target.dead_letter_arn,
            )

    # ------------------------------------------------------------------ the timer and the lanes

    def run_retries(self) -> int:
        """Run every retry that is due by the broker's clock, now, in this thread."""
        return self._retries.run_due()

    def pending_retries(self) -> int:
        return self._retries.pending()

    def wait(self, timeout: float | None) -> bool:
        """Block until the HTTP deliveries handed over so far have been attempted."""
        return self._lanes.wait(timeout)

    def close(self) -> None:
        """Stop the retry timer (pending retries are dropped)."""
        self._retries.close()
