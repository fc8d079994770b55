"""An EventBridge event bus: rules, targets, PutEvents and delivery with retries.

Why it looks like this: routing is the Rust engine's job, so every bus keeps one ``RuleSet``
holding the patterns of its enabled rules (rule names are the rule set's names): an event costs
one engine call whether the bus has 10 rules or 100,000. PutEvents hands the engine a whole
request at once (``RuleSet.route_events``): it writes each event's envelope around the detail it
validates, and matches it, so Python parses an event only when a target reshapes it.
Everything around it is EventBridge's surface, as AWS documents it
(see docs/semantics.md, 'EventBridge buses'): names and limits, PutEvents' per-entry
results, the envelope, targets with their input shaping (``rulebus.events.input_transformer``), retry
policies and dead-letter queues.

Rules and targets live in the broker's store (``rulebus.stores``): with ``Broker("app.db")``
every broker on the file routes by the same rules. Each ``EventBus`` object keeps a compiled view
of them and refreshes it when the store's rules version moves. Targets that are Python callables
cannot be stored: the store keeps their entry (so limits and listings agree everywhere), and only
the bus object that put them delivers to them.

Delivery: a matched event goes to each target of each matched rule. Queues, topics, buses,
streams and callables are invoked before ``put_events`` returns (a request's queue deliveries
stored together, in one store call); HTTP endpoints on their target's own lane
(``rulebus.delivery``). A failure that can pass (a callable raising, an endpoint answering 5xx or
429 or not at all) is retried with exponential backoff and jitter until the target's RetryPolicy
runs out (MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86,400), on a timer
that never holds up other events or targets; one that cannot (the queue is gone, SQS refuses the
message, a 4xx answer) is not retried. Then the event goes to the target's dead-letter queue with
EventBridge's attributes, or is dropped. ``metrics`` counts what happened, by CloudWatch's names.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Union

from rulebus import validation
from rulebus._core import Pattern, RuleSet
from rulebus._errors import AwsError, InvalidPatternError, StoreRowCorruptError
from rulebus._errors import constraint_error as _constraint
from rulebus.arn import Arn, event_bus_name
from rulebus.arn import queue_name as sqs_queue_name
from rulebus.delivery import DeliveryLanes, RetryTimer
from rulebus.events.input_transformer import (
    InputTransformationError,
    TargetInput,
    compile_path,
    is_missing,
    select,
    string_text,
)
from rulebus.kinesis.stream import Stream
from rulebus.sns.topic import Topic
from rulebus.sqs.queue import Queue
from rulebus.stores.base import NotFound
from rulebus.stores.receipts import new_message_id
from rulebus.stores.records import DeleteRuleResult, RuleRecord, TargetRecord
from rulebus.stores.semantics import is_plain_body
from rulebus.transport import HTTP_PROTOCOLS, client_error, delivered, http_post

if TYPE_CHECKING:
    from rulebus.context import Context
    from rulebus.events.archive import Archives
    from rulebus.events.schedule import Schedule

__all__ = ["DEFAULT_BUS", "EventBus", "bus_arn", "validate_bus_name"]

DEFAULT_BUS = "default"
VALIDATION = "ValidationException"
NOT_FOUND = "ResourceNotFoundException"
LIMIT_EXCEEDED = "LimitExceededException"
ALREADY_EXISTS = "ResourceAlreadyExistsException"
INVALID_PATTERN = "InvalidEventPatternException"

MAX_PUT_EVENTS_ENTRIES = 10
#: PutEvents' request size limit: 1 MB since 2026-01-29 (AWS Compute Blog, 'More room to build:
#: serverless services now support payloads up to 1 MB'; 2^20 here, unverified).
DEFAULT_MAX_EVENTS_SIZE = 1_048_576
#: Rules per bus: AWS's default quota (adjustable there, and here with Broker(rules_per_bus=...)).
DEFAULT_RULES_PER_BUS = 300
MAX_TARGETS_PER_RULE = 5
MAX_PUT_TARGETS_ENTRIES = 100
MAX_DETAIL_TYPE_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 512
MAX_PATTERN_LENGTH = 4096
MAX_SCHEDULE_LENGTH = 256
RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE = 86_400
#: Retry backoff: doubling from 1 s to this cap, each delay drawn from its upper half (jitter).
#: AWS publishes only "exponential backoff and jitter"; the numbers are ours.
RETRY_BACKOFF_CAP_SECONDS = 600.0

_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
_NAME = re.compile(r"[.\-_A-Za-z0-9]+")  # rule names and target Ids

Target = Mapping[str, Any]
TargetArn = Union[str, Queue, Topic, "EventBus", Callable[[Any], Any]]


def _error(code: str, message: str) -> AwsError:
    return AwsError(code, message, status=404 if code == NOT_FOUND else 400)


def check_name(given: Any, where: str, longest: int) -> str:
    """A rule name, target Id, archive or replay name: at most ``longest`` of
    ``[.-_A-Za-z0-9]``, else AWS's request-model ValidationException naming ``where``."""
    value = validation.text(given, where, validation.EVENTS)
    if len(value) > longest:
        raise _constraint(value, where, f"Member must have length less than or equal to {longest}")
    if not _NAME.fullmatch(value):
        raise _constraint(value, where, r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")
    return value


def validate_bus_name(name: Any) -> None:
    """A bus name: 1-256 of ``[/.-_A-Za-z0-9]`` (EventBridge API Reference, CreateEventBus)."""
    validation.text(name, "name", validation.EVENTS)
    if not _BUS_NAME.fullmatch(name):
        raise _constraint(name, "name", r"Member must satisfy regular expression pattern: [/\.\-_A-Za-z0-9]+")


def bus_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(bus: str, rule: str, region: str, account: str) -> str:
    """``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on the others (EventBridge API
    Reference, PutRule)."""
    path = rule if bus == DEFAULT_BUS else f"{bus}/{rule}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"


def event_time(seconds: float) -> str:
    """An event's ``time``: UTC, second precision (EventBridge User Guide, 'Amazon EventBridge events')."""
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_event_time(text: Any) -> float | None:
    """An event's ``time`` back to epoch seconds (None when it is not one)."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


# Epoch seconds of 0001-01-01 and 9999-12-31T23:59:59Z: the times an event's ``time`` can show.
_MIN_TIME = -62_135_596_800
_MAX_TIME = 253_402_300_799


def _entry_time(value: Any, now: float) -> float:
    """PutEvents' ``Time``: a datetime (naive means UTC, as boto3 sends it), epoch seconds or an
    ISO 8601 text; absent means the time of the call."""
    if value is None:
        return now
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if _MIN_TIME <= value <= _MAX_TIME:  # not NaN, and a time a datetime can show
            return float(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()
    raise _error(VALIDATION, f"Parameter Time is not valid: {validation.shown(value)}")  # our wording


def _utf8(text: Any) -> int:
    if not isinstance(text, str):
        return 0
    # surrogatepass: a lone surrogate is counted here, and refused with its entry later.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _over_size(entries: Sequence[Mapping[str, Any]], limit: int) -> bool:
    """Whether the entries add up to more than ``limit`` bytes; counted only when they might, as
    no character takes more than 4 bytes of UTF-8."""
    chars = 0
    for entry in entries:
        try:
            chars += len(entry["Source"]) + len(entry["DetailType"]) + len(entry["Detail"]) + 4
            resources = entry.get("Resources")
            if resources:
                chars += sum(map(len, resources))
        except (KeyError, TypeError):  # a member missing or not text: count the careful way
            return sum(entry_size(entry) for entry in entries) > limit
    return chars * 4 > limit and sum(entry_size(entry) for entry in entries) > limit


def entry_size(entry: Mapping[str, Any]) -> int:
    """PutEvents entry size as AWS counts it (EventBridge User Guide, 'Calculating Amazon
    EventBridge PutEvents event entry size'): 14 bytes for a Time, plus the UTF-8
    bytes of Source, DetailType, Detail and every Resource."""
    size = 14 if entry.get("Time") is not None else 0
    size += _utf8(entry.get("Source")) + _utf8(entry.get("DetailType")) + _utf8(entry.get("Detail"))
    return size + sum(_utf8(resource) for resource in entry.get("Resources") or ())


def _common_entries(entries: Any, bus: str, limit: int) -> list[tuple[str, str, str]] | None:
    """``(detail_type, source, detail)`` of each entry when the request has the usual shape, for
    which put_events can skip its general checks (``_put_common``); None otherwise. The usual
    shape: a list or tuple of 1-10 dicts, each with exactly Source, DetailType and Detail
    (perhaps EventBusName, this bus's name), all non-empty ``str``, the DetailType within its
    limit, and their sizes summed (as ``_over_size`` does) clearly within ``limit``. Such
    entries pass every request check and every per-entry one but routing's (malformed detail,
    an ``aws.`` source), and name no Resources, Time or other bus."""
    if type(entries) is not list and type(entries) is not tuple:
        return None
    if not 0 < len(entries) <= MAX_PUT_EVENTS_ENTRIES:
        return None
    chars = 0
    common = []
    for entry in entries:
        if type(entry) is not dict:
            return None
        size = len(entry)
        if size != 3 and (size != 4 or entry.get("EventBusName") != bus):
            return None
        try:
            members = _COMMON_MEMBERS(entry)
        except KeyError:
            return None
        # With the three present, ``size`` says no other member is there.
        detail_type, source, detail = members
        if type(source) is not str or type(detail_type) is not str or type(detail) is not str:
            return None
        if not (source and detail_type and detail) or len(detail_type) > MAX_DETAIL_TYPE_LENGTH:
            return None
        chars += len(source) + len(detail_type) + len(detail) + 4
        common.append(members)
    return None if chars * 4 > limit else common


_COMMON_MEMBERS = itemgetter("DetailType", "Source", "Detail")

# The members of PutEventsRequestEntry and Target (botocore's EventBridge model).
_PUT_EVENTS_ENTRY = frozenset(
    ("Time", "Source", "Resources", "DetailType", "Detail", "EventBusName", "TraceHeader")
)
_TARGET_MEMBERS = frozenset(
    (
        "Id",
        "Arn",
        "RoleArn",
        "Input",
        "InputPath",
        "InputTransformer",
        "KinesisParameters",
        "RunCommandParameters",
        "EcsParameters",
        "BatchParameters",
        "SqsParameters",
        "HttpParameters",
        "RedshiftDataParameters",
        "SageMakerPipelineParameters",
        "DeadLetterConfig",
        "RetryPolicy",
        "AppSyncParameters",
    )
)
_TEXT_MEMBERS = (
    ("Source", "source"),
    ("DetailType", "detailType"),
    ("Detail", "detail"),
    ("TraceHeader", "traceHeader"),
)


def _check_entries(entries: Any) -> None:
    """PutEvents' request model, on the general path (``_common_entries`` vouches for the usual
    entries): a list of mappings of PutEventsRequestEntry's members, each of its type. Text
    with a lone surrogate is left to fail its entry alone, as a malformed one."""
    validation.entries(entries, "entries", validation.EVENTS, _PUT_EVENTS_ENTRY)
    for index, entry in enumerate(entries, start=1):
        where = f"entries.{index}.member"
        for member, name in _TEXT_MEMBERS:
            value = entry.get(member)
            if value is not None and not isinstance(value, str):
                raise validation.EVENTS.wrong_type(f"{where}.{name}", value, "a string")
        bus = entry.get("EventBusName")
        if not isinstance(bus, EventBus):  # a name or ARN the store is asked about
            validation.text(bus, f"{where}.eventBusName", validation.EVENTS, required=False)
        resources = entry.get("Resources")
        if resources is not None:
            validation.string_list(resources, f"{where}.resources", validation.EVENTS)


# The last event_time(now) put_events wrote, by whole second: a call's events share their time,
# and strftime costs more than the rest of an entry's checks. One tuple, replaced whole, so
# threads read a consistent pair.
_LAST_TIME: tuple[int, str] = (0, event_time(0))


def _event_time_now(now: float) -> str:
    """``event_time(now)``, remembered for the second."""
    global _LAST_TIME
    second, text = _LAST_TIME
    if int(now) != second:
        text = event_time(now)
        _LAST_TIME = (int(now), text)
    return text


_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


# --------------------------------------------------------------------------------------------
# Targets.


class _Failure(Exception):
    """A failed invocation: the DLQ's ERROR_CODE and ERROR_MESSAGE, and whether to retry."""

    def __init__(self, code: str, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass
class _Target:
    """One target as the bus delivers to it, compiled from its stored record."""

    target_id: str
    arn: str
    kind: str  # "sqs", "sns", "events", "http", "python"
    input: TargetInput
    target: dict[str, Any]
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age: int = DEFAULT_MAXIMUM_EVENT_AGE
    dead_letter_arn: str | None = None
    message_group_id: str | None = None
    call: Callable[[Any], Any] | None = None  # python targets, in the process that put them
    #: An SQS target's queue name when its ARN is in the broker's region and account (else None:
    #: such a target can only fail, see ``_queue_target``).
    queue_name: str | None = None
    #: A queue getting the whole event: put_events stores these together (_flush_queue_deliveries).
    batchable: bool = field(init=False)
    #: ``queue_name`` when a delivery may be stored by ``Store.put_plain_many`` (it stores no
    #: MessageGroupId); None when every delivery to this target goes the long way.
    plain_queue: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.batchable = self.kind == "sqs" and self.input.kind == "event"
        self.plain_queue = self.queue_name if self.kind == "sqs" and self.message_group_id is None else None


@dataclass
class _Rule:
    record: RuleRecord
    arn: str
    targets: list[_Target] = field(default_factory=list)


def _retry_policy(policy: Any, index: int) -> tuple[int, int]:
    if policy is None:
        return DEFAULT_MAXIMUM_RETRY_ATTEMPTS, DEFAULT_MAXIMUM_EVENT_AGE
    validation.mapping(policy, f"targets.{index}.member.retryPolicy", validation.EVENTS)
    attempts = policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
    age = policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE)
    where = f"targets.{index}.member.retryPolicy"
    for value, name, low, high in (
        (attempts, "maximumRetryAttempts", 0, 185),
        (age, "maximumEventAgeInSeconds", 60, 86_400),
    ):
        validation.integer(value, f"{where}.{name}", validation.EVENTS)
        if value < low:
            raise _constraint(
                value, f"{where}.{name}", f"Member must have value greater than or equal to {low}"
            )
        if value > high:
            raise _constraint(
                value, f"{where}.{name}", f"Member must have value less than or equal to {high}"
            )
    return attempts, age


def _backoff(retry: int) -> float:
    """Seconds before retry number ``retry`` (1-based)."""
    ceiling = min(2.0 ** (retry - 1), RETRY_BACKOFF_CAP_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


# --------------------------------------------------------------------------------------------
# The bus.


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
        self._on_rules_changed = context.rules_changed
        self._rules_per_bus = context.rules_per_bus
        self._max_events_size = context.max_events_size
        self._archives = archives
        self.name = name
        self._rules = RuleSet()
        self._view: dict[str, _Rule] = {}
        self._patterns: dict[str, str] = {}  # the enabled rules' patterns in ``_rules``, by name
        self._version: int | None = None
        self._local: dict[tuple[str, str], Callable[[Any], Any]] = {}  # python targets
        self._lanes = DeliveryLanes(f"rulebus-events:{name}")
        # Queue deliveries put_events gathers to send in batches (None: send each at once).
        self._batch = _Batch()
        self._sync_lock = threading.Lock()
        self._retries = RetryTimer(
            context.clock, f"rulebus-retry:{name}", background=context.background_retries
        )
        #: CloudWatch's names: MatchedEvents, Invocations, FailedInvocations, RetryInvocationAttempts,
        #: InvocationsSentToDLQ, InvocationsFailedToBeSentToDLQ; counts of this process.
        self.metrics: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"EventBus({self.name!r})"

    @property
    def arn(self) -> str:
        """``arn:aws:events:<region>:<account>:event-bus/<name>``."""
        return bus_arn(self.name, self._region, self._account)

    def rule_arn(self, rule: str) -> str:
        """``arn:aws:events:<region>:<account>:rule/[<bus>/]<rule>``: the ARN of this bus's rule
        ``rule`` (whether or not it exists)."""
        return rule_arn(self.name, rule, self._region, self._account)

    def _missing_rule(self, name: str) -> AwsError:
        return _error(NOT_FOUND, f"Rule {name} does not exist on EventBus {self.name}.")

    def check_exists(self) -> None:
        """ResourceNotFoundException "Event bus <name> does not exist." when the bus was deleted
        (by any broker on the store)."""
        if self._store.buses.get_event_bus(self.name) is None:
            raise self._missing_bus()

    def _missing_bus(self) -> AwsError:
        return _error(NOT_FOUND, f"Event bus {self.name} does not exist.")

    def _gone(self, error: NotFound) -> AwsError:
        """AWS's error for a bus or rule the store found gone (deleted since it was checked)."""
        return self._missing_bus() if error.kind == "bus" else self._missing_rule(error.name)

    # ------------------------------------------------------------------ the store's rules

    def _sync(self) -> None:
        """Bring the compiled view up to date with the store, if its rules version moved (one
        thread at a time: the view and the RuleSet change together)."""
        if self._store.buses.rules_version(self.name) == self._version:
            return
        with self._sync_lock:
            self._refresh()

    def _refresh(self) -> None:
        version, rules, targets = self._store.buses.rules(self.name)
        view = {record.name: _Rule(record, self.rule_arn(record.name)) for record in rules}
        for record in targets:
            rule = view.get(record.rule)
            if rule is not None:
                rule.targets.append(self._compile_target(record))
        wanted = {
            name: rule.record.event_pattern
            for name, rule in view.items()
            if rule.record.event_pattern is not None and rule.record.state != "DISABLED"
        }
        for name in self._patterns.keys() - wanted.keys():
            self._rules.remove(name)
        for name, pattern in wanted.items():
            if self._patterns.get(name) != pattern:
                self._rules.add(name, pattern)
        self._patterns = wanted
        self._view = view
        self._version = version

    def _compile_target(self, record: TargetRecord) -> _Target:
        target = json.loads(record.target)
        arn = target["Arn"]
        attempts, age = _retry_policy(target.get("RetryPolicy"), 1)
        kind = _target_kind(arn)
        queue_name = None
        parsed = Arn.parse(arn) if kind == "sqs" else None
        if parsed is not None and parsed.is_in(self._region, self._account):
            queue_name = parsed.named("sqs")
        return _Target(
            target_id=record.target_id,
            arn=arn,
            kind=kind,
            input=TargetInput.from_target(target),
            target=target,
            maximum_retry_attempts=attempts,
            maximum_event_age=age,
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
            message_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
            call=self._local.get((record.rule, record.target_id)),
            queue_name=queue_name,
        )

    # ------------------------------------------------------------------ rules

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
        check_name(name, "name", 64)
        event_pattern = validation.pattern(event_pattern, "eventPattern", validation.EVENTS)
        validation.text(schedule_expression, "scheduleExpression", validation.EVENTS, required=False)
        validation.text(state, "state", validation.EVENTS)
        validation.text(description, "description", validation.EVENTS, required=False)
        if state not in RULE_STATES:
            raise _constraint(
                state, "state", f"Member must satisfy enum value set: [{', '.join(RULE_STATES)}]"
            )
        if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
            raise _constraint(description, "description", "Member must have length less than or equal to 512")
        pattern_text = None
        if event_pattern is not None:
            pattern_text = (
                event_pattern
                if isinstance(event_pattern, str)
                else validation.json_text(event_pattern, "eventPattern", validation.EVENTS)
            )
            if len(pattern_text) > MAX_PATTERN_LENGTH:
                raise _constraint(
                    pattern_text, "eventPattern", "Member must have length less than or equal to 4096"
                )
            try:
                Pattern(validation.engine_text(pattern_text))
            except InvalidPatternError as error:
                raise _error(INVALID_PATTERN, str(error)) from None
        if schedule_expression is not None:
            if len(schedule_expression) > MAX_SCHEDULE_LENGTH:
                raise _constraint(
                    schedule_expression,
                    "scheduleExpression",
                    "Member must have length less than or equal to 256",
                )
            if self.name != DEFAULT_BUS:
                raise _error(VALIDATION, "ScheduleExpression is supported only on the default event bus.")
            from rulebus.events.schedule import Schedule

            Schedule(schedule_expression)  # raises AWS's "Parameter ScheduleExpression is not valid."
        if pattern_text is None and schedule_expression is None:
            raise _error(VALIDATION, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        self.check_exists()
        existing = self._store.buses.get_rule(self.name, name)
        if existing is None:
            limit = self._rules_per_bus
            if limit is not None and len(self._store.buses.rules(self.name)[1]) >= limit:
                raise _error(LIMIT_EXCEEDED, "The requested resource exceeds the maximum number allowed.")
        record = RuleRecord(
            bus=self.name,
            name=name,
            event_pattern=pattern_text,
            schedule_expression=schedule_expression,
            state=state,
            description=description,
            creation_time=self._clock(),
        )
        try:
            self._store.buses.put_rule(record)
        except NotFound as error:
            raise self._gone(error) from None
        self._on_rules_changed(self.name)
        return self.rule_arn(name)

    def _rule_record(self, name: str) -> RuleRecord:
        record = self._store.buses.get_rule(self.name, name)
        if record is None:
            raise self._missing_rule(name)
        return record

    def describe_rule(self, name: str) -> dict[str, Any]:
        """DescribeRule: Name, Arn, EventPattern, ScheduleExpression, State, Description,
        EventBusName, CreatedBy (the fields that are set)."""
        check_name(name, "name", 64)
        return self._describe(self._rule_record(name))

    def _describe(self, record: RuleRecord) -> dict[str, Any]:
        described: dict[str, Any] = {"Name": record.name, "Arn": self.rule_arn(record.name)}
        if record.event_pattern is not None:
            described["EventPattern"] = record.event_pattern
        if record.schedule_expression is not None:
            described["ScheduleExpression"] = record.schedule_expression
        described["State"] = record.state
        if record.description is not None:
            described["Description"] = record.description
        described["EventBusName"] = self.name
        described["CreatedBy"] = self._account
        return described

    def list_rules(self, name_prefix: str | None = None) -> list[dict[str, Any]]:
        """ListRules: the bus's rules (those whose name starts with ``name_prefix``), by name."""
        validation.text(name_prefix, "namePrefix", validation.EVENTS, required=False)
        _, records, _ = self._store.buses.rules(self.name)
        chosen = [r for r in records if name_prefix is None or r.name.startswith(name_prefix)]
        return [self._describe(record) for record in sorted(chosen, key=lambda r: r.name)]

    def _set_state(self, name: str, state: str) -> None:
        check_name(name, "name", 64)
        record = self._rule_record(name)
        if record.state != state:
            try:
                self._store.buses.put_rule(RuleRecord(**{**record.__dict__, "state": state}))
            except NotFound as error:
                raise self._gone(error) from None
            self._on_rules_changed(self.name)

    def enable_rule(self, name: str) -> None:
        """EnableRule: the rule matches events (and fires on its schedule) again."""
        self._set_state(name, "ENABLED")

    def disable_rule(self, name: str) -> None:
        """DisableRule: the rule stays, with its targets, but matches nothing."""
        self._set_state(name, "DISABLED")

    def delete_rule(self, name: str) -> None:
        """DeleteRule: refused while the rule has targets; deleting a missing rule is no error."""
        check_name(name, "name", 64)
        if self._store.buses.delete_rule(self.name, name) is DeleteRuleResult.HAS_TARGETS:
            raise _error(VALIDATION, "Rule can't be deleted since it has targets.")
        self._on_rules_changed(self.name)

    # ------------------------------------------------------------------ targets

    def put_targets(self, rule: str, targets: Sequence[Target]) -> dict[str, Any]:
        """PutTargets: add or replace (by Id) up to 5 targets per rule. A target's ``Arn`` is an
        SQS queue, SNS topic, event bus or Kinesis stream ARN (``KinesisParameters.PartitionKeyPath``
        picks the partition key; the event id without it), the object itself, an
        ``http(s)://`` URL (POSTed the event, as an API destination would be) or a Python callable
        (called with the JSON the target receives, parsed). Returns ``{"FailedEntryCount",
        "FailedEntries"}``; invalid targets raise ValidationException and change nothing."""
        check_name(rule, "rule", 64)
        validation.entries(targets, "targets", validation.EVENTS, _TARGET_MEMBERS)
        record = self._rule_record(rule)
        if not targets:
            raise _constraint("[]", "targets", "Member must have length greater than or equal to 1")
        if len(targets) > MAX_PUT_TARGETS_ENTRIES:
            raise _constraint("[...]", "targets", "Member must have length less than or equal to 100")
        prepared = [self._prepare_target(target, index) for index, target in enumerate(targets, start=1)]
        ids = [target["Id"] for target, _ in prepared]
        _, _, stored = self._store.buses.rules(self.name)
        existing = {t.target_id for t in stored if t.rule == record.name}
        if len(existing | set(ids)) > MAX_TARGETS_PER_RULE:
            raise _error(LIMIT_EXCEEDED, "The requested resource exceeds the maximum number allowed.")
        try:
            refused = self._store.buses.put_targets(
                self.name,
                record.name,
                [
                    TargetRecord(self.name, record.name, target["Id"], _compact(target))
                    for target, _ in prepared
                ],
                MAX_TARGETS_PER_RULE,
            )
        except NotFound as error:
            raise self._gone(error) from None
        if refused:  # another broker added targets in between
            raise _error(LIMIT_EXCEEDED, "The requested resource exceeds the maximum number allowed.")
        for target, call in prepared:
            key = (record.name, target["Id"])
            if call is not None:
                self._local[key] = call
            else:
                self._local.pop(key, None)
        self._on_rules_changed(self.name)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def _prepare_target(
        self, target: Target, index: int
    ) -> tuple[dict[str, Any], Callable[[Any], Any] | None]:
        """The target as it is stored (its Arn a string) and, for a callable, the callable."""
        where = f"targets.{index}.member"
        target_id = target.get("Id")
        if target_id is None:
            raise _constraint("null", f"{where}.id", "Member must not be null")
        check_name(target_id, f"{where}.id", 64)
        arn, call = self._target_arn(target.get("Arn"), where)
        stored = {**dict(target), "Arn": arn}
        TargetInput.from_target(stored, index)  # validates Input, InputPath, InputTransformer
        _retry_policy(stored.get("RetryPolicy"), index)
        kind = _target_kind(arn)
        dead_letter = stored.get("DeadLetterConfig")
        if dead_letter is not None:
            dlq = dead_letter.get("Arn") if isinstance(dead_letter, Mapping) else None
            if isinstance(dlq, Queue):
                dlq = dlq.arn
                stored["DeadLetterConfig"] = {**dead_letter, "Arn": dlq}
            if not isinstance(dlq, str) or sqs_queue_name(dlq) is None or dlq.endswith(".fifo"):
                # Our wording: the DLQ must be a standard SQS queue (EventBridge User Guide,
                # 'Using dead-letter queues to process undelivered events in EventBridge').
                raise _error(
                    VALIDATION,
                    f"Parameter DeadLetterConfig.Arn is not valid for target {target_id}: "
                    "it must be the ARN of a standard SQS queue.",
                )
        if kind == "kinesis":
            path = (stored.get("KinesisParameters") or {}).get("PartitionKeyPath")
            if path is not None and (not isinstance(path, str) or compile_path(path) is None):
                # Our wording, in the style of EventBridge's text for a bad InputPath.
                raise _error(VALIDATION, f"PartitionKeyPath for target {target_id} is invalid.")
        if kind == "sqs" and arn.endswith(".fifo"):
            group = (stored.get("SqsParameters") or {}).get("MessageGroupId")
            if not isinstance(group, str) or not group:
                raise _error(
                    VALIDATION, f"Parameter(s) SqsParameters must be specified for target: {target_id}."
                )
        return stored, call

    def _target_arn(self, value: Any, where: str) -> tuple[str, Callable[[Any], Any] | None]:
        if isinstance(value, (Queue, Topic, EventBus, Stream)):
            return value.arn, None
        if isinstance(value, str):
            if _target_kind(value) == "unknown":
                raise _constraint(value, f"{where}.arn", "Member must be the ARN of a supported target")
            return value, None
        if callable(value):
            name = getattr(value, "__qualname__", type(value).__qualname__)
            return f"python:{name}:{id(value):x}", value
        if value is None:
            raise _constraint("null", f"{where}.arn", "Member must not be null")
        raise validation.EVENTS.wrong_type(
            f"{where}.arn", value, "an ARN, a Queue, Topic, EventBus or Stream, or a callable"
        )

    def remove_targets(self, rule: str, ids: Sequence[str]) -> dict[str, Any]:
        """RemoveTargets: the rule's targets with these Ids go; unknown Ids are no error."""
        check_name(rule, "rule", 64)
        validation.string_list(ids, "ids", validation.EVENTS)
        record = self._rule_record(rule)
        for target_id in ids:
            check_name(target_id, "ids", 64)
        self._store.buses.remove_targets(self.name, record.name, list(ids))
        for target_id in ids:
            self._local.pop((record.name, target_id), None)
        self._on_rules_changed(self.name)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, rule: str) -> list[dict[str, Any]]:
        """ListTargetsByRule: the rule's targets as they were put (their Arn as a string)."""
        check_name(rule, "rule", 64)
        record = self._rule_record(rule)
        _, _, targets = self._store.buses.rules(self.name)
        return [json.loads(t.target) for t in targets if t.rule == record.name]

    # ------------------------------------------------------------------ events

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """PutEvents: 1-10 entries ``{"Source", "DetailType", "Detail", "Resources"?, "Time"?,
        "EventBusName"?, "TraceHeader"?}``. Returns ``{"FailedEntryCount", "Entries"}`` with one
        result per entry, in order: ``{"EventId"}`` or ``{"ErrorCode", "ErrorMessage"}``. Each
        accepted event is archived and routed before this returns (HTTP targets after)."""
        common = _common_entries(entries, self.name, self._max_events_size)
        if common is not None:
            return self._put_common(common)
        _check_entries(entries)
        if not entries:
            raise _constraint("[]", "entries", "Member must have length greater than or equal to 1")
        if len(entries) > MAX_PUT_EVENTS_ENTRIES:
            shown = ", ".join("PutEventsRequestEntry(...)" for _ in entries)
            raise _constraint(f"[{shown}]", "entries", "Member must have length less than or equal to 10")
        for index, entry in enumerate(entries, start=1):
            detail_type = entry.get("DetailType")
            if isinstance(detail_type, str) and len(detail_type) > MAX_DETAIL_TYPE_LENGTH:
                raise _constraint(
                    detail_type,
                    f"entries.{index}.member.detailType",
                    "Member must have length less than or equal to 128",
                )
        if _over_size(entries, self._max_events_size):
            raise _error(VALIDATION, "Total size of the entries in the request is over the limit.")
        now = self._clock()
        now_text = _event_time_now(now)
        results: list[dict[str, Any]] = []
        checked: list[bool] = []
        fields: list[tuple[int, EventBus, tuple[str, str, str, str, list[str], str]]] = []
        for entry in entries:
            try:
                bus = self._entry_bus(entry.get("EventBusName"), checked)
                fields.append((len(results), bus, _entry_fields(entry, now, now_text)))
                results.append({})
            except _EntryError as error:
                results.append({"ErrorCode": error.code, "ErrorMessage": error.message})
        accepted = self._route(fields, results)
        # Deliveries to queues are gathered and sent per queue in batches once every event is
        # routed (see _flush_queue_deliveries): one store call per 10 messages instead of one each.
        # Each bus's gathering is per thread (threads may share a bus) and saved and restored
        # around this call (a callable target may put events on the same bus from inside it).
        saved: list[tuple[EventBus, Any, Any]] = []
        for bus in {id(bus): bus for bus, _, _, _ in accepted}.values():
            saved.append((bus, bus._batch.pending, bus._batch.archive_records))
            bus._batch.pending = []
            bus._batch.archive_records = self._archives.records(bus)
        try:
            for bus, event, text, matched in accepted:
                bus._ingest(event, now, synced=True, text=text, matched=matched)
        finally:
            for bus, pending, records in saved:
                gathered = bus._batch.pending or []
                bus._batch.pending, bus._batch.archive_records = pending, records
                bus._flush_queue_deliveries(gathered)
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def _put_common(self, common: list[tuple[str, str, str]]) -> dict[str, Any]:
        """put_events for entries of the usual shape (see ``_common_entries``), all for this bus:
        what the general path does for them, step for step (the clock read, the bus's existence
        checked, ids minted, the view synced, one engine call, the same per-entry results, then
        each event ingested in order and the queue deliveries flushed), without its per-entry
        checks, which such entries pass, and without a call per event."""
        now = self._clock()
        now_text = _event_time_now(now)
        self.check_exists()
        fields: list[tuple[str, str, str, str, list[str], str]] = [
            (new_message_id(), detail_type, source, now_text, [], detail)
            for detail_type, source, detail in common
        ]
        self._sync()
        try:
            routed = self._rules.route_events(fields, self._account, self._region)
        except UnicodeError:  # a lone surrogate somewhere (see _route)
            routed = [_route_one(self, entry, self._account, self._region) for entry in fields]
        results: list[dict[str, Any]] = []
        accepted: list[tuple[_LazyEvent, list[str]]] = []
        failed = 0
        for entry, result in zip(fields, routed):
            if result is None:
                failed += 1
                results.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
            elif entry[2].startswith("aws."):
                failed += 1
                results.append(
                    {
                        "ErrorCode": "NotAuthorizedForSourceException",
                        "ErrorMessage": "Not authorized for the source.",
                    }
                )
            else:
                results.append({"EventId": entry[0]})
                accepted.append((_LazyEvent(result[0], entry[0], now_text), result[1]))
        if accepted:
            batch = self._batch
            saved = batch.pending, batch.archive_records  # restored after: see put_events
            pending: list[tuple[Any, ...]] = []
            batch.pending = pending
            records = batch.archive_records = self._archives.records(self)
            try:
                self._ingest_routed(accepted, now, pending, records)
            finally:
                gathered = batch.pending or []
                batch.pending, batch.archive_records = saved
                self._flush_queue_deliveries(gathered)
        return {"FailedEntryCount": failed, "Entries": results}

    def _ingest_routed(
        self,
        accepted: list[tuple[_LazyEvent, list[str]]],
        ingestion: float,
        pending: list[tuple[Any, ...]],
        records: list[Any],
    ) -> None:
        """``_ingest(event, ingestion, synced=True, text=..., matched=...)`` for each accepted
        event in turn, inside put_events (``pending`` and ``records`` are this call's gathering;
        a nested put_events restores them before it returns, so they hold for every event)."""
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
            raise _error(NOT_FOUND, f"Event bus {bus_name} does not exist.")
        return bus

    def _route(
        self,
        fields: list[tuple[int, EventBus, tuple[str, str, str, str, list[str], str]]],
        results: list[dict[str, Any]],
    ) -> list[tuple[EventBus, _LazyEvent, str, list[str]]]:
        """Write and match the events of the valid entries: one engine call per bus (see
        ``RuleSet.route_events``), with each bus's view brought up to date first. Fills in
        ``results`` (an entry whose detail is malformed, or whose source claims AWS, fails) and
        returns the accepted events in entry order, with the rules each matched."""
        routed: dict[int, tuple[str, list[str]] | None] = {}
        for bus in {id(bus): bus for _, bus, _ in fields}.values():
            bus._sync()
            mine = [(index, entry) for index, entry_bus, entry in fields if entry_bus is bus]
            try:
                out = bus._rules.route_events([entry for _, entry in mine], self._account, self._region)
            except UnicodeError:  # a lone surrogate somewhere: text no JSON document can carry
                out = [_route_one(bus, entry, self._account, self._region) for _, entry in mine]
            routed.update((index, result) for (index, _), result in zip(mine, out))
        accepted = []
        for index, bus, (event_id, _, source, time, _, _) in fields:
            result = routed[index]
            if result is None:
                results[index] = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
            elif source.startswith("aws."):
                # Custom events cannot claim an AWS source (EventBridge User Guide, 'Amazon EventBridge
                # events'); AWS's per-entry code.
                results[index] = {
                    "ErrorCode": "NotAuthorizedForSourceException",
                    "ErrorMessage": "Not authorized for the source.",
                }
            else:
                text, matched = result
                results[index] = {"EventId": event_id}
                accepted.append((bus, _LazyEvent(text, event_id, time), text, matched))
        return accepted

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
        return self._ingest(event, self._clock(), replay=replay, only_rules=only_rules)

    def _ingest(
        self,
        event: Mapping[str, Any],
        ingestion: float,
        replay: str | None = None,
        only_rules: Iterable[str] | None = None,
        synced: bool = False,
        text: str | None = None,
        matched: list[str] | None = None,
    ) -> list[str]:
        """An event that reached the bus: archived (unless replayed), matched against the enabled
        rules (all, or ``only_rules`` for a replay) and delivered to their targets. Returns the
        names of the rules it matched. ``synced``: the caller brought the view up to date;
        ``matched``: the caller matched the event already (put_events, see ``_route``)."""
        if text is None:
            text = event.text if isinstance(event, _LazyEvent) else _compact(event)
        records = self._batch.archive_records
        if replay is None and (records is None or records):
            self._archives.archive(self, event, text, ingestion, records)
        if not synced:
            self._sync()
        if matched is None:
            matched = self._rules.matches(text)
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
            for target in rule.targets:
                if pending is not None and target.batchable:
                    metrics["Invocations"] += 1  # the common case, without the general path's calls
                    pending.append((rule, target, event, text, ingestion, text))
                else:
                    self._invoke(rule, target, event, text, ingestion)

    # ------------------------------------------------------------------ delivery

    def _invoke(
        self, rule: _Rule, target: _Target, event: Mapping[str, Any], text: str, ingestion: float
    ) -> None:
        if target.kind == "python" and target.call is None:
            return  # a callable of another process (or broker): it delivers there
        attempt = partial(self._attempt, rule, target, event, text, ingestion, 0)
        if target.kind == "http":
            self._lanes.submit(f"{rule.record.name}/{target.target_id}", attempt)
        else:
            attempt()

    def _attempt(
        self,
        rule: _Rule,
        target: _Target,
        event: Mapping[str, Any],
        text: str,
        ingestion: float,
        retries: int,
    ) -> None:
        """One invocation; on failure a retry is scheduled, or the event is dead-lettered."""
        self.metrics["Invocations"] += 1
        if retries:
            self.metrics["RetryInvocationAttempts"] += 1
        try:
            payload = (
                text
                if target.input.kind == "event"
                else target.input.render(_plain(event), rule.arn, rule.record.name, ingestion)
            )
            pending = self._batch.pending
            if target.kind == "sqs" and pending is not None and retries == 0:
                pending.append((rule, target, event, text, ingestion, payload))
                return
            self._send(target, payload, event)
        except InputTransformationError as error:
            failure = _Failure("INVALID_JSON", str(error), retryable=False)
        except _Failure as error:
            failure = error
        else:
            return
        self._failed(rule, target, event, text, ingestion, retries, failure)

    def _failed(
        self,
        rule: _Rule,
        target: _Target,
        event: Mapping[str, Any],
        text: str,
        ingestion: float,
        retries: int,
        failure: _Failure,
    ) -> None:
        """A failed invocation: retried later if it may pass, else (or once the retry policy is
        spent) dead-lettered."""
        self.metrics["FailedInvocations"] += 1
        now = self._clock()
        exhausted = None
        if failure.retryable:
            if retries >= target.maximum_retry_attempts:
                exhausted = "MaximumRetryAttempts"
            elif now - ingestion >= target.maximum_event_age:
                exhausted = "MaximumEventAgeInSeconds"
            else:
                retry = partial(self._attempt, rule, target, event, text, ingestion, retries + 1)
                self._retries.schedule(now + _backoff(retries + 1), retry)
                return
        self._dead_letter(rule, target, text, failure, retries, exhausted)

    def _flush_queue_deliveries(self, pending: list[tuple[Any, ...]]) -> None:
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
        plain = False
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
                        plain = (
                            payload.isascii()
                            and "\t" not in payload
                            and "\r" not in payload
                            and "\x7f" not in payload
                        )
                    taken = plain and 0 < len(payload) <= limit
                else:  # a payload the target's input made
                    taken = is_plain_body(payload, limit)
                if taken:
                    bodies.append((queue, payload))
                    continue
            others.append(index)
            if target.queue_name is not None:
                blocked.add(target.queue_name)
        queues: dict[str, tuple[Queue, Any] | _Failure] = {}
        prepared = self._prepare_long_way([(i, pending[i]) for i in others], now, queues)
        if bodies:
            refused = self._store.queues.put_plain_many(bodies, self._account, now)
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
        queues: dict[str, tuple[Queue, Any] | _Failure],
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
                    queue = self._queue_target(target)
                    found = queues[target.arn] = (queue, queue.queue_attributes())
                except (_Failure, AwsError) as error:
                    failure = (
                        error if isinstance(error, _Failure) else _Failure("NO_RESOURCE", str(error), False)
                    )
                    found = queues[target.arn] = failure
            if isinstance(found, _Failure):
                self._failed(rule, target, event, text, ingestion, 0, found)
                continue
            queue, attributes = found
            try:
                message = queue.prepare_message(
                    payload, message_group_id=target.message_group_id, attributes=attributes, now=now
                )
            except AwsError as error:
                failure = _Failure("INVALID_PARAMETER", f"{error.code}: {error.message}", retryable=False)
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
        except (NotFound, StoreRowCorruptError):
            # A queue went away in between (or its row is damaged): one by one, so the others
            # still get theirs.
            for _, _, _, (rule, target, event, text, ingestion, payload) in prepared:
                try:
                    self._send(target, payload, event)
                except _Failure as failure:
                    self._failed(rule, target, event, text, ingestion, 0, failure)

    def _queue_target(self, target: _Target) -> Queue:
        region, account, name = _arn_parts(target)
        queue = self._targets.find_queue(name) if (region, account) == (self._region, self._account) else None
        if queue is None:
            raise _Failure("NO_RESOURCE", f"Queue {name} does not exist.", retryable=False)
        return queue

    def _send(self, target: _Target, payload: str, event: Mapping[str, Any]) -> None:
        if target.kind == "python":
            assert target.call is not None
            try:
                target.call(json.loads(payload))
            except Exception as error:
                raise _Failure(
                    "ERROR_FROM_TARGET", f"{type(error).__name__}: {error}", retryable=True
                ) from None
            return
        if target.kind == "http":
            status = http_post(target.arn, payload, {"Content-Type": "application/json; charset=utf-8"})
            if delivered(status):
                return
            if status == 0:
                raise _Failure("CONNECTION_FAILURE", f"no answer from {target.arn}", retryable=True)
            raise _Failure("ERROR_FROM_TARGET", f"{target.arn} answered {status}", not client_error(status))
        region, account, name = _arn_parts(target)
        if (region, account) != (self._region, self._account):
            raise _Failure("NO_RESOURCE", f"{target.arn} does not exist.", retryable=False)
        try:
            if target.kind == "sqs":
                self._queue_target(target).send(payload, message_group_id=target.message_group_id)
            elif target.kind == "sns":
                topic = self._targets.find_topic(name)
                if topic is None:
                    raise _Failure("NO_RESOURCE", f"Topic {name} does not exist.", retryable=False)
                topic.publish(payload, message_group_id=target.message_group_id)
            elif target.kind == "kinesis":
                stream = self._targets.find_stream(name)
                if stream is None:
                    raise _Failure("NO_RESOURCE", f"Stream {name} does not exist.", retryable=False)
                stream.put_record(payload, _partition_key(target, event))
            else:  # another bus: the event itself goes on, as EventBridge forwards it
                bus = self._targets.find_event_bus(name)
                if bus is None:
                    raise _Failure("NO_RESOURCE", f"Event bus {name} does not exist.", retryable=False)
                bus.ingest(event)
        except AwsError as error:
            raise _Failure("INVALID_PARAMETER", f"{error.code}: {error.message}", retryable=False) from None

    def _dead_letter(
        self, rule: _Rule, target: _Target, text: str, failure: _Failure, retries: int, exhausted: str | None
    ) -> None:
        """The event to the target's DLQ with EventBridge's attributes (EventBridge User Guide,
        'Using dead-letter queues to process undelivered events in EventBridge'), or dropped."""
        if target.dead_letter_arn is None:
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
        except AwsError:
            self.metrics["InvocationsFailedToBeSentToDLQ"] += 1
        else:
            self.metrics["InvocationsSentToDLQ"] += 1

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
        text = _compact(event)
        self.metrics["TriggeredRules"] += 1
        for target in rule.targets:
            self._invoke(rule, target, event, text, when)

    def run_retries(self) -> int:
        """Run every retry that is due by the broker's clock, now, in this thread (what the
        background timer does on its own); returns how many ran. Tests with a fake clock move it
        and call this instead of waiting."""
        return self._retries.run_due()

    def pending_retries(self) -> int:
        """Retries scheduled and not run yet."""
        return self._retries.pending()

    def wait_for_deliveries(self, timeout: float | None = None) -> bool:
        """Block until the HTTP deliveries handed over so far have been attempted (see
        ``Topic.wait_for_deliveries``); False if ``timeout`` ran out."""
        validation.finite_number(timeout, "timeout", validation.EVENTS, required=False)
        return self._lanes.wait(timeout)

    def close(self) -> None:
        """Stop the retry timer (pending retries are dropped)."""
        self._retries.close()

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


def _entry_fields(
    entry: Mapping[str, Any], now: float, now_text: str
) -> tuple[str, str, str, str, list[str], str]:
    """A PutEvents entry's members for the engine, ``(id, detail_type, source, time, resources,
    detail)``, or _EntryError with the per-entry texts of a missing member."""
    source, detail_type, detail = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
    if not (source and detail_type and detail):  # None or "": which one, in AWS's order
        for name, value in (("Source", source), ("DetailType", detail_type), ("Detail", detail)):
            if value is None or value == "":
                raise _EntryError(
                    "InvalidArgument",
                    f"Parameter {name} is not valid. Reason: {name} is a required argument.",
                )
    # Members' types were checked with the request (_check_entries).
    assert isinstance(source, str) and isinstance(detail_type, str) and isinstance(detail, str)
    resources = entry.get("Resources") or []
    time = now_text if entry.get("Time") is None else event_time(_entry_time(entry["Time"], now))
    # Event ids are made as message ids are: UUID-shaped, unique across processes.
    return new_message_id(), detail_type, source, time, list(resources), detail


def _route_one(
    bus: EventBus, entry: tuple[str, str, str, str, list[str], str], account: str, region: str
) -> tuple[str, list[str]] | None:
    """``route_events`` for one entry, for when the batch held a string the engine cannot take."""
    try:
        [result] = bus._rules.route_events([entry], account, region)
    except UnicodeError:
        return None
    return result


class _Batch(threading.local):
    """What one put_events call gathers, kept per thread: the queue deliveries it stores together
    at the end, and the bus's archives, looked up once (None: not inside put_events)."""

    pending: list[tuple[Any, ...]] | None = None
    archive_records: list[Any] | None = None


class _LazyEvent(Mapping[str, Any]):
    """An event PutEvents accepted, known by its text: most deliveries need the text alone, so
    its members are parsed only when a target asks (input shaping, partition keys)."""

    __slots__ = ("_data", "id", "text", "time")

    def __init__(self, text: str, event_id: str, time: str) -> None:
        self.text = text
        self.id = event_id
        self.time = time
        self._data: dict[str, Any] | None = None

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.text)
        return self._data

    def get(self, key: str, default: Any = None) -> Any:
        if key == "id":
            return self.id
        if key == "time":
            return self.time
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def _plain(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as a dict (what input shaping and JSON writers take)."""
    return event.data if isinstance(event, _LazyEvent) else dict(event)


def _text_of(event: Mapping[str, Any]) -> str:
    return event.text if isinstance(event, _LazyEvent) else _compact(event)


class _EntryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# A target kind of an AWS service and how its ARN names the resource: (service, resource type).
_SERVICE_TARGETS = {
    "sqs": ("sqs", ""),
    "sns": ("sns", ""),
    "events": ("events", "event-bus"),
    "kinesis": ("kinesis", "stream"),
}


def _target_kind(arn: str) -> str:
    if arn.startswith("python:"):
        return "python"
    parsed = Arn.parse(arn)
    if parsed is not None:
        for kind, (service, resource_type) in _SERVICE_TARGETS.items():
            if parsed.named(service, resource_type) is not None:
                return kind
    if arn.split(":", 1)[0].lower() in HTTP_PROTOCOLS and "//" in arn:
        return "http"
    return "unknown"


def _partition_key(target: _Target, event: Mapping[str, Any]) -> str:
    """KinesisParameters.PartitionKeyPath applied to the event; the event's id without one (or
    when the path finds nothing), as EventBridge does."""
    path = (target.target.get("KinesisParameters") or {}).get("PartitionKeyPath")
    steps = compile_path(path) if isinstance(path, str) else None
    if steps is None:
        return str(event["id"])
    value = select(event, steps)
    key = "" if is_missing(value) or value is None else string_text(value)
    return key or str(event["id"])


def _arn_parts(target: _Target) -> tuple[str, str, str]:
    """(region, account, resource name) of a service target's ARN."""
    arn = Arn.parse(target.arn)
    if arn is not None and target.kind in _SERVICE_TARGETS:
        name = arn.named(*_SERVICE_TARGETS[target.kind])
        if name is not None:
            return arn.region, arn.account, name
    raise _Failure("NO_RESOURCE", f"{target.arn} is not a target rulebus can reach.", retryable=False)
