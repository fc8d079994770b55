"""An EventBridge event bus: the resource, the rules it matches events with, and PutEvents
(EventBridge API Reference, PutEvents, PutRule and CreateEventBus; EventBridge User Guide,
'Event buses in Amazon EventBridge').

Why it looks like this: routing is the Rust engine's job, so every bus keeps one ``RuleSet``
holding the patterns of its enabled rules (rule names are the rule set's names): an event costs
one engine call whether the bus has 10 rules or 100,000. PutEvents hands the engine a whole
request at once (``RuleSet.route_common`` for the usual request, of Source, DetailType and
Detail alone, which it also reads and answers; ``RuleSet.route_events`` for the rest): it writes
each event's envelope around the detail it validates, and matches it, so Python parses an event
only when a target reshapes it.
Everything around it is EventBridge's surface, as AWS documents it (see docs/semantics.md,
'EventBridge buses'), in a module per concept:

- ``rulebus.events.names``: bus, rule, target, archive and replay names, and ARNs;
- ``rulebus.events.errors``: EventBridge's error codes and texts;
- ``rulebus.events.put_events``: the PutEvents request, its entries, their per-entry results
  and the events they become;
- ``rulebus.events.rules``: rules and their targets in the store (PutRule ... ListTargetsByRule);
- ``rulebus.events.targets``: what PutTargets takes, and a target as the bus delivers to it;
- ``rulebus.events.delivery``: invoking targets, retry policies and dead-letter queues;
- ``rulebus.events.input_transformer``, ``archive``, ``schedule`` and ``scheduler``.

Rules and targets live in the broker's store (``rulebus.stores``): with ``Broker("app.db")``
every broker on the file routes by the same rules. Each ``EventBus`` object keeps a compiled view
of them and refreshes it when the store's rules version moves. Targets that are Python callables
cannot be stored: the store keeps their entry (so limits and listings agree everywhere), and only
the bus object that put them delivers to them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import tracing, validation
from rulebus._core import RuleSet
from rulebus.arn import event_bus_name
from rulebus.events.delivery import RETRY_BACKOFF_CAP_SECONDS, BusDelivery
from rulebus.events.errors import (
    ALREADY_EXISTS,
    INVALID_PATTERN,
    LIMIT_EXCEEDED,
    NOT_FOUND,
    VALIDATION,
    missing_bus,
)
from rulebus.events.names import DEFAULT_BUS, bus_arn, check_name, rule_arn, validate_bus_name
from rulebus.events.put_events import (
    DEFAULT_MAX_EVENTS_SIZE,
    MAX_DETAIL_TYPE_LENGTH,
    MAX_PUT_EVENTS_ENTRIES,
    EntryError,
    EntryFields,
    Gathering,
    LazyEvent,
    Routed,
    Saved,
    check_request,
    compact,
    entry_fields,
    entry_size,
    event_time,
    event_time_now,
    malformed_detail,
    not_authorized_for_source,
    parse_event_time,
    route_entries,
)
from rulebus.events.rules import (
    DEFAULT_RULES_PER_BUS,
    MAX_DESCRIPTION_LENGTH,
    MAX_PATTERN_LENGTH,
    MAX_PUT_TARGETS_ENTRIES,
    MAX_SCHEDULE_LENGTH,
    MAX_TARGETS_PER_RULE,
    RULE_STATES,
    Rule,
    Rules,
)
from rulebus.events.targets import (
    DEFAULT_MAXIMUM_EVENT_AGE,
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    Target,
    TargetArn,
)
from rulebus.stores.receipts import TOKENS

if TYPE_CHECKING:
    from rulebus.context import Context
    from rulebus.events.archive import Archives
    from rulebus.events.schedule import Schedule

__all__ = [
    # Importable from here as they were before the bus's concepts had modules of their own.
    "ALREADY_EXISTS",
    "DEFAULT_BUS",
    "DEFAULT_MAXIMUM_EVENT_AGE",
    "DEFAULT_MAXIMUM_RETRY_ATTEMPTS",
    "DEFAULT_MAX_EVENTS_SIZE",
    "DEFAULT_RULES_PER_BUS",
    "INVALID_PATTERN",
    "LIMIT_EXCEEDED",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_DETAIL_TYPE_LENGTH",
    "MAX_PATTERN_LENGTH",
    "MAX_PUT_EVENTS_ENTRIES",
    "MAX_PUT_TARGETS_ENTRIES",
    "MAX_SCHEDULE_LENGTH",
    "MAX_TARGETS_PER_RULE",
    "NOT_FOUND",
    "RETRY_BACKOFF_CAP_SECONDS",
    "RULE_STATES",
    "VALIDATION",
    "EventBus",
    "Target",
    "TargetArn",
    "bus_arn",
    "check_name",
    "entry_size",
    "event_time",
    "parse_event_time",
    "rule_arn",
    "validate_bus_name",
]


class EventBus:
    """One EventBridge event bus; get it with ``broker.event_bus(name)`` (``"default"`` always
    exists). See the module docstring for how rules, targets and deliveries work."""

    def __init__(self, context: Context, name: str, archives: Archives) -> None:
        #: The broker's context (see :mod:`rulebus.context`).
        self.context = context
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self._targets = context.targets
        self._max_events_size = context.max_events_size
        self._archives = archives
        self.name = name
        self._rules = Rules(context, name)
        # The compiled view of the store's rules: the enabled rules' patterns in ``_matcher``
        # (by rule name, as ``_patterns``), every rule with its targets in ``_view``, and each
        # rule's ``plain_queues`` by name (what ``RuleSet.route_common`` plans deliveries by).
        self._matcher = RuleSet()
        self._view: dict[str, Rule] = {}
        self._plain_queues: dict[str, tuple[str, ...] | None] = {}
        self._patterns: dict[str, str] = {}
        self._version: int | None = None
        self._sync_lock = threading.Lock()
        # Queue deliveries and archives put_events gathers (see open_batch).
        self._batch = Gathering()
        #: CloudWatch's names: MatchedEvents, Invocations, FailedInvocations, RetryInvocationAttempts,
        #: InvocationsSentToDLQ, InvocationsFailedToBeSentToDLQ; counts of this process.
        self.metrics: Counter[str] = Counter()
        self._delivery = BusDelivery(context, name, self.metrics, self._batch)
        self._invoke = self._delivery.invoke  # bound once: _dispatch calls it per target

    def __repr__(self) -> str:
        return f"EventBus({self.name!r})"

    @property
    def rule_metrics(self) -> dict[str, dict[str, int]]:
        """Each rule's metrics counted by this process, by rule name (CloudWatch's AWS/Events
        metrics with the RuleName dimension; ``metrics`` has the bus's)."""
        self._delivery.count_plain_matches()
        return self._rules.metrics

    @property
    def arn(self) -> str:
        """``arn:aws:events:<region>:<account>:event-bus/<name>``."""
        return bus_arn(self.name, self._region, self._account)

    def rule_arn(self, rule: str) -> str:
        """``arn:aws:events:<region>:<account>:rule/[<bus>/]<rule>``: the ARN of this bus's rule
        ``rule`` (whether or not it exists)."""
        return rule_arn(self.name, rule, self._region, self._account)

    def check_exists(self) -> None:
        """ResourceNotFoundException "Event bus <name> does not exist." when the bus was deleted
        (by any broker on the store)."""
        if self._store.buses.get_event_bus(self.name) is None:
            raise missing_bus(self.name)

    def describe(self) -> dict[str, Any]:
        """DescribeEventBus: Name, Arn, Description (when set), CreationTime and LastModifiedTime
        (a bus is not modified after creation here); ResourceNotFoundException if it was deleted."""
        record = self._store.buses.get_event_bus(self.name)
        if record is None:
            raise missing_bus(self.name)
        created = datetime.fromtimestamp(record.creation_time, tz=timezone.utc)
        described: dict[str, Any] = {"Name": self.name, "Arn": self.arn}
        if record.description is not None:
            described["Description"] = record.description
        described["CreationTime"] = created
        described["LastModifiedTime"] = created
        return described

    # ------------------------------------------------------------------ the compiled view

    def _sync(self) -> None:
        """Bring the compiled view up to date with the store, if its rules version moved (one
        thread at a time: the view and the RuleSet change together)."""
        if self._store.buses.rules_version(self.name) == self._version:
            return
        with self._sync_lock:
            self._refresh()

    def _refresh(self) -> None:
        version, rules, targets = self._store.buses.rules(self.name)
        view = self._rules.compile(rules, targets)
        wanted = {
            name: rule.record.event_pattern
            for name, rule in view.items()
            if rule.record.event_pattern is not None and rule.record.state != "DISABLED"
        }
        for name in self._patterns.keys() - wanted.keys():
            self._matcher.remove(name)
        for name, pattern in wanted.items():
            if self._patterns.get(name) != pattern:
                self._matcher.add(name, pattern)
        self._patterns = wanted
        self._view = view
        self._plain_queues = {name: rule.plain_queues for name, rule in view.items()}
        self._version = version

    def route_events(self, fields: list[EntryFields]) -> list[tuple[str, list[str]] | None]:
        """PutEvents entries' events written and matched against the bus's enabled rules in one
        engine call (``RuleSet.route_events``), the view brought up to date first: per entry,
        the event's text and the rules it matched, or None when its detail is malformed."""
        self._sync()
        try:
            return self._matcher.route_events(fields, self._account, self._region)
        except UnicodeError:  # a lone surrogate somewhere: text no JSON document can carry
            return [self._route_one(entry) for entry in fields]

    def _route_one(self, entry: EntryFields) -> tuple[str, list[str]] | None:
        """``route_events`` for one entry, for when the batch held a string the engine cannot take."""
        try:
            [result] = self._matcher.route_events([entry], self._account, self._region)
        except UnicodeError:
            return None
        return result

    # ------------------------------------------------------------------ rules and targets

    def put_rule(
        self,
        name: str,
        event_pattern: str | Mapping[str, Any] | None = None,
        schedule_expression: str | None = None,
        state: str = "ENABLED",
        description: str | None = None,
    ) -> str:
        """PutRule: create the rule or replace it (omitted arguments become empty, targets stay);
        returns its ARN. The pattern is compiled by the engine and refused with AWS's
        InvalidEventPatternException text; a schedule (default bus only) is ``rate(...)`` or
        ``cron(...)``."""
        return self._rules.put_rule(name, event_pattern, schedule_expression, state, description)

    def describe_rule(self, name: str) -> dict[str, Any]:
        """DescribeRule: Name, Arn, EventPattern, ScheduleExpression, State, Description,
        EventBusName, CreatedBy (the fields that are set)."""
        return self._rules.describe_rule(name)

    def list_rules(self, name_prefix: str | None = None) -> list[dict[str, Any]]:
        """ListRules: the bus's rules (those whose name starts with ``name_prefix``), by name."""
        return self._rules.list_rules(name_prefix)

    def enable_rule(self, name: str) -> None:
        """EnableRule: the rule matches events (and fires on its schedule) again."""
        self._rules.set_state(name, "ENABLED")

    def disable_rule(self, name: str) -> None:
        """DisableRule: the rule stays, with its targets, but matches nothing."""
        self._rules.set_state(name, "DISABLED")

    def delete_rule(self, name: str) -> None:
        """DeleteRule: refused while the rule has targets; deleting a missing rule is no error."""
        self._rules.delete_rule(name)

    def put_targets(self, rule: str, targets: Sequence[Target]) -> dict[str, Any]:
        """PutTargets: add or replace (by Id) up to 5 targets per rule. A target's ``Arn`` is an
        SQS queue, SNS topic, event bus or Kinesis stream ARN (``KinesisParameters.PartitionKeyPath``
        picks the partition key; the event id without it), the object itself, an
        ``http(s)://`` URL (POSTed the event, as an API destination would be) or a Python callable
        (called with the JSON the target receives, parsed). Returns ``{"FailedEntryCount",
        "FailedEntries"}``; invalid targets raise ValidationException and change nothing."""
        return self._rules.put_targets(rule, targets)

    def remove_targets(self, rule: str, ids: Sequence[str]) -> dict[str, Any]:
        """RemoveTargets: the rule's targets with these Ids go; unknown Ids are no error."""
        return self._rules.remove_targets(rule, ids)

    def list_targets_by_rule(self, rule: str) -> list[dict[str, Any]]:
        """ListTargetsByRule: the rule's targets as they were put (their Arn as a string)."""
        return self._rules.list_targets_by_rule(rule)

    # ------------------------------------------------------------------ events

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """PutEvents: 1-10 entries ``{"Source", "DetailType", "Detail", "Resources"?, "Time"?,
        "EventBusName"?, "TraceHeader"?}``. Returns ``{"FailedEntryCount", "Entries"}`` with one
        result per entry, in order: ``{"EventId"}`` or ``{"ErrorCode", "ErrorMessage"}``. Each
        accepted event is archived and routed before this returns (HTTP targets after)."""
        if not tracing.active():
            return self._put_events(entries)
        with tracing.producer("aws.eventbridge", self.name, "PutEvents"):
            return self._put_events(entries)

    def _put_events(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        # The usual request (``RuleSet.route_common`` says which) in one engine call; any other
        # on the general path, which is the reference for what the usual one answers.
        now = self._clock()
        now_text = event_time_now(now)
        self._sync()
        routed = self._matcher.route_common(
            entries,
            self.name,
            self._max_events_size,
            self._account,
            self._region,
            now_text,
            TOKENS,
            self._plain_queues,
        )
        if routed is None:
            return self._put_general(entries)
        return self._put_common(routed, now, now_text)

    def _put_general(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        check_request(entries, self._max_events_size)
        now = self._clock()
        now_text = event_time_now(now)
        results: list[dict[str, Any]] = []
        checked: list[bool] = []
        fields: list[tuple[int, EventBus, EntryFields]] = []
        for entry in entries:
            try:
                bus = self._entry_bus(entry.get("EventBusName"), checked)
                fields.append((len(results), bus, entry_fields(entry, now, now_text)))
                results.append({})
            except EntryError as error:
                results.append({"ErrorCode": error.code, "ErrorMessage": error.message})
        accepted = route_entries(fields, results)
        # Deliveries to queues are gathered and stored per queue in batches once every event is
        # routed (see open_batch): one store call per 10 messages instead of one each.
        opened = [(bus, bus.open_batch()) for bus in {id(bus): bus for bus, _, _ in accepted}.values()]
        try:
            for bus, event, matched in accepted:
                bus.ingest_accepted(event, matched, now)
        finally:
            for bus, saved in opened:
                bus.close_batch(saved)
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def _put_common(self, routed: Routed, now: float, now_text: str) -> dict[str, Any]:
        """put_events for a request of the usual shape, routed by ``RuleSet.route_common`` (its
        ids minted, its events written and matched, its results made): what the general path
        does for it, step for step (the bus's existence checked, the same per-entry results,
        then each event ingested in order and the queue deliveries flushed), without its
        per-entry checks, which such entries pass but routing's, and without a call per event."""
        self.check_exists()
        failed, results, accepted, plain = routed
        if failed:
            results = [_entry_result(result) for result in results]
        if accepted:
            records = self._archives.records(self)
            if not records and self._delivery.deliver_plain(accepted, plain, now_text, self._view, now):
                return {"FailedEntryCount": failed, "Entries": results}
            events = [(LazyEvent(text, event_id, now_text), matched) for event_id, text, matched in accepted]
            batch = self._batch
            saved = batch.open(records)  # open_batch, inline
            try:
                self._ingest_routed(events, now)
            finally:
                self._delivery.flush_queue_deliveries(batch.close(saved))  # close_batch, inline
        return {"FailedEntryCount": failed, "Entries": results}

    def _ingest_routed(self, accepted: list[tuple[LazyEvent, list[str]]], ingestion: float) -> None:
        """``ingest_accepted`` for each accepted event in turn, in one loop (a nested put_events
        restores this call's gathering before it returns, so it holds for every event)."""
        batch = self._batch
        pending, records = batch.pending, batch.archive_records
        archives = self._archives
        for event, matched in accepted:
            text = event.text
            if records:
                archives.archive(self, event, text, ingestion, records)
            if matched:
                self._dispatch(matched, event, text, ingestion, pending)

    def _entry_bus(self, name: Any, checked: list[bool]) -> EventBus:
        """The bus an entry names (this one when it names none); ``checked`` remembers, for the
        whole call, that this bus exists."""
        if name is None or name == self.name or name == self.arn:
            if not checked:
                self.check_exists()
                checked.append(True)
            return self
        if isinstance(name, EventBus):
            name = name.name
        bus_name = event_bus_name(name) or name
        bus = self._targets.find_event_bus(bus_name) if isinstance(bus_name, str) else None
        if bus is None:
            raise missing_bus(bus_name)
        return bus

    def open_batch(self) -> Saved:
        """Start gathering what a put_events call makes on this bus, in this thread: its queue
        deliveries, stored together by ``close_batch``, and the bus's archives, looked up once.
        Returns what an enclosing call (a target putting events from inside one) had gathered."""
        return self._batch.open(self._archives.records(self))

    def close_batch(self, saved: Saved) -> None:
        """Store the queue deliveries gathered since ``open_batch`` (as SendMessage would store
        each, see ``BusDelivery.flush_queue_deliveries``); ``saved`` is gathered again."""
        self._delivery.flush_queue_deliveries(self._batch.close(saved))

    def ingest_accepted(self, event: LazyEvent, matched: list[str], ingestion: float) -> None:
        """An event put_events accepted for this bus and matched (``route_events``), between
        ``open_batch`` and ``close_batch``: archived, and delivered to the targets of the
        rules ``matched``."""
        batch = self._batch
        records = batch.archive_records
        text = event.text
        if records is None or records:
            self._archives.archive(self, event, text, ingestion, records)
        if matched:
            self._dispatch(matched, event, text, ingestion, batch.pending)

    def ingest(
        self,
        event: Mapping[str, Any],
        *,
        replay: str | None = None,
        only_rules: Iterable[str] | None = None,
    ) -> list[str]:
        """Take in an event that is already whole (``id``, ``time``, ``source``, ``detail``...),
        now by the broker's clock: what EventBridge does when this bus is a rule's target (the
        event goes on as it is, to be archived and matched here) and when an archive is replayed
        to it (``replay``: the replay's name; a replayed event is not archived again, and only
        the rules ``only_rules`` see it when given). Returns the names of the rules it matched;
        their targets got it as any other event's."""
        ingestion = self._clock()
        text = event.text if isinstance(event, LazyEvent) else compact(event)
        records = self._batch.archive_records
        if replay is None and (records is None or records):
            self._archives.archive(self, event, text, ingestion, records)
        self._sync()
        matched = self._matcher.matches(text)
        if only_rules is not None:
            allowed = set(only_rules)
            matched = [name for name in matched if name in allowed]
        if matched:
            self._dispatch(matched, event, text, ingestion, self._batch.pending)
        return matched

    def _dispatch(
        self,
        matched: list[str],
        event: Mapping[str, Any],
        text: str,
        ingestion: float,
        pending: list[tuple[Any, ...]] | None,
    ) -> None:
        """An event that matched the rules ``matched``, to their targets: whole-event queue
        targets gathered in ``pending`` (when there is a gathering) for one store call at the end
        of put_events, the others invoked now. The view is read per event: a target may change
        the rules."""
        metrics = self.metrics
        metrics["MatchedEvents"] += 1
        view = self._view
        for name in matched:
            rule = view.get(name)
            if rule is None:
                continue
            metrics["TriggeredRules"] += 1
            counts = rule.metrics
            counts["MatchedEvents"] += 1
            counts["TriggeredRules"] += 1
            for target in rule.targets:
                if pending is not None and target.batchable:
                    metrics["Invocations"] += 1  # the common case, without the general path's calls
                    counts["Invocations"] += 1
                    pending.append((rule, target, event, text, ingestion, text))
                else:
                    self._invoke(rule, target, event, text, ingestion)

    def fire_scheduled_rule(self, name: str, schedule: Schedule, when: float) -> None:
        """Fire the scheduled rule ``name`` as due at ``when`` (epoch seconds): its scheduled
        event (``schedule.scheduled_event``, "Scheduled Event" from ``aws.events``) goes to its
        targets only, as EventBridge does when a rule's ScheduleExpression comes due; nothing
        happens for a rule that is gone or DISABLED. The scheduler calls this (see
        ``rulebus.events.scheduler``)."""
        self._sync()
        rule = self._view.get(name)
        if rule is None or rule.record.state == "DISABLED":
            return
        event = schedule.scheduled_event(rule.arn, self._account, self._region, when)
        text = compact(event)
        self.metrics["TriggeredRules"] += 1
        rule.metrics["TriggeredRules"] += 1
        for target in rule.targets:
            self._invoke(rule, target, event, text, when)

    # ------------------------------------------------------------------ deliveries in flight

    def run_retries(self) -> int:
        """Run every retry that is due by the broker's clock, now, in this thread (what the
        background timer does on its own); returns how many ran. Tests with a fake clock move it
        and call this instead of waiting."""
        return self._delivery.run_retries()

    def pending_retries(self) -> int:
        """Retries scheduled and not run yet."""
        return self._delivery.pending_retries()

    def wait_for_deliveries(self, timeout: float | None = None) -> bool:
        """Block until the HTTP deliveries handed over so far have been attempted (see
        ``Topic.wait_for_deliveries``); False if ``timeout`` ran out."""
        validation.finite_number(timeout, "timeout", validation.EVENTS, required=False)
        return self._delivery.wait(timeout)

    def close(self) -> None:
        """Stop the retry timer (pending retries are dropped)."""
        self._delivery.close()

    # ------------------------------------------------------------------ archives and replays

    def create_archive(
        self,
        name: str,
        event_pattern: str | Mapping[str, Any] | None = None,
        retention_days: int = 0,
        description: str | None = None,
    ) -> dict[str, Any]:
        """CreateArchive of this bus's events (those matching ``event_pattern``, all without one;
        never replayed ones), kept ``retention_days`` (0: forever). See ``rulebus.events.archive``."""
        check_name(name, "archiveName", 48)
        event_pattern = validation.pattern(event_pattern, "eventPattern", validation.EVENTS)
        validation.integer(retention_days, "retentionDays", validation.EVENTS)
        validation.text(description, "description", validation.EVENTS, required=False)
        return self._archives.create(self, name, event_pattern, retention_days, description)

    def describe_archive(self, name: str) -> dict[str, Any]:
        """DescribeArchive: with EventCount and SizeBytes."""
        check_name(name, "archiveName", 48)
        return self._archives.describe(name)

    def update_archive(
        self,
        name: str,
        event_pattern: str | Mapping[str, Any] | None = None,
        retention_days: int | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """UpdateArchive: at least one of the three must be given."""
        check_name(name, "archiveName", 48)
        event_pattern = validation.pattern(event_pattern, "eventPattern", validation.EVENTS)
        validation.integer(retention_days, "retentionDays", validation.EVENTS, required=False)
        validation.text(description, "description", validation.EVENTS, required=False)
        return self._archives.update(name, event_pattern, retention_days, description)

    def delete_archive(self, name: str) -> None:
        """DeleteArchive: the archive and its events."""
        check_name(name, "archiveName", 48)
        self._archives.delete(name)

    def list_archives(self, name_prefix: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """ListArchives of this bus."""
        validation.text(name_prefix, "namePrefix", validation.EVENTS, required=False)
        validation.text(state, "state", validation.EVENTS, required=False)
        return self._archives.list_archives(self, name_prefix, state)

    def start_replay(
        self,
        name: str,
        archive: str,
        start_time: datetime | float,
        end_time: datetime | float,
        rules: Iterable[str] | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """StartReplay: re-send the archive's events with ``start_time <= time < end_time`` to
        this bus (only to ``rules``, names or ARNs, when given), in the background."""
        check_name(name, "replayName", 64)
        validation.text(archive, "eventSourceArn", validation.EVENTS)
        for parameter, value in (("eventStartTime", start_time), ("eventEndTime", end_time)):
            if not isinstance(value, datetime):
                validation.finite_number(value, parameter, validation.EVENTS)
        validation.string_list(rules, "destination.filterArns", validation.EVENTS, required=False)
        validation.text(description, "description", validation.EVENTS, required=False)
        return self._archives.start_replay(self, name, archive, start_time, end_time, rules, description)

    def cancel_replay(self, name: str) -> dict[str, Any]:
        """CancelReplay: only while STARTING or RUNNING (else IllegalStatusException)."""
        check_name(name, "replayName", 64)
        return self._archives.cancel_replay(name)

    def describe_replay(self, name: str) -> dict[str, Any]:
        """DescribeReplay, plus rulebus's ReplayedEventCount and TotalEventCount (progress)."""
        check_name(name, "replayName", 64)
        return self._archives.describe_replay(name)

    def list_replays(self, name_prefix: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        """ListReplays of this bus, most recent first."""
        validation.text(name_prefix, "namePrefix", validation.EVENTS, required=False)
        validation.text(state, "state", validation.EVENTS, required=False)
        return self._archives.list_replays(self, name_prefix, state)

    def wait_for_replay(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the replay started here ends (or ``timeout``); return it as described."""
        check_name(name, "replayName", 64)
        validation.finite_number(timeout, "timeout", validation.EVENTS, required=False)
        return self._archives.wait_for_replay(name, timeout)


def _entry_result(result: dict[str, Any] | bool | None) -> dict[str, Any]:
    """An entry's result as ``RuleSet.route_common`` gives it, in full: None is a malformed
    detail, False a source claiming AWS (``Routed``)."""
    if result is None:
        return malformed_detail()
    if result is False:
        return not_authorized_for_source()
    assert isinstance(result, dict)
    return result
