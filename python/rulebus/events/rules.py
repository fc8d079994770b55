"""A bus's rules and their targets: PutRule, DescribeRule, ListRules, EnableRule, DisableRule,
DeleteRule, PutTargets, RemoveTargets and ListTargetsByRule (EventBridge API Reference; EventBridge
User Guide, 'Rules in Amazon EventBridge').

A rule has an event pattern (compiled by the engine and refused with AWS's
InvalidEventPatternException text) or a schedule (``rate(...)`` or ``cron(...)``, default bus
only), a state, and up to 5 targets (``rulebus.events.targets``). Rules and targets live in the
broker's store, so that every broker on an SQLite file routes by the same ones; only Python
callables stay in the process (and the ``Rules`` object) that put them. ``Rules.compile`` makes
the bus's view of them, which ``EventBus`` matches events with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from rulebus import validation
from rulebus._core import Pattern
from rulebus._errors import InvalidPatternError
from rulebus._errors import constraint_error as _constraint
from rulebus.events.errors import (
    INVALID_PATTERN,
    VALIDATION,
    error,
    gone,
    limit_exceeded,
    missing_bus,
    missing_rule,
)
from rulebus.events.names import DEFAULT_BUS, check_name, rule_arn
from rulebus.events.put_events import compact
from rulebus.events.targets import TARGET_MEMBERS, CompiledTarget, Target, compile_target, prepare_target
from rulebus.metrics import EVENTS_COUNTERS
from rulebus.stores.base import NotFound
from rulebus.stores.records import DeleteRuleResult, RuleRecord, TargetRecord

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = [
    "DEFAULT_RULES_PER_BUS",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_PATTERN_LENGTH",
    "MAX_PUT_TARGETS_ENTRIES",
    "MAX_SCHEDULE_LENGTH",
    "MAX_TARGETS_PER_RULE",
    "RULE_STATES",
    "Rule",
    "Rules",
]

#: Rules per bus: AWS's default quota (adjustable there, and here with Broker(rules_per_bus=...)).
DEFAULT_RULES_PER_BUS = 300
MAX_TARGETS_PER_RULE = 5
MAX_PUT_TARGETS_ENTRIES = 100
MAX_DESCRIPTION_LENGTH = 512
MAX_PATTERN_LENGTH = 4096
MAX_SCHEDULE_LENGTH = 256
RULE_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")


@dataclass
class Rule:
    """A rule as the bus routes with it: its record, its ARN and its compiled targets."""

    record: RuleRecord
    arn: str
    targets: list[CompiledTarget] = field(default_factory=list)
    #: The queue of each target, in order, when every target takes the whole event into a
    #: standard-queue delivery ``put_plain_many`` may store (``BusDelivery.deliver_plain``);
    #: None when one does not, or until ``Rules.compile`` has seen all the targets.
    plain_queues: tuple[str, ...] | None = None
    #: This rule's metrics in this process, by CloudWatch's names (the same dict across the
    #: compiled views of one bus: ``Rules.metrics``).
    metrics: dict[str, int] = field(default_factory=dict)

    def seal(self) -> None:
        """Work out ``plain_queues`` once the rule has all its targets."""
        queues = []
        for target in self.targets:
            if not target.batchable or target.plain_queue is None:
                self.plain_queues = None
                return
            queues.append(target.plain_queue)
        self.plain_queues = tuple(queues)


def _pattern_text(event_pattern: str | Mapping[str, Any] | None) -> str | None:
    """PutRule's EventPattern as stored: JSON text within 4096 characters the engine compiles."""
    if event_pattern is None:
        return None
    pattern_text = (
        event_pattern
        if isinstance(event_pattern, str)
        else validation.json_text(event_pattern, "eventPattern", validation.EVENTS)
    )
    if len(pattern_text) > MAX_PATTERN_LENGTH:
        raise _constraint(pattern_text, "eventPattern", "Member must have length less than or equal to 4096")
    try:
        Pattern(validation.engine_text(pattern_text))
    except InvalidPatternError as refused:
        raise error(INVALID_PATTERN, str(refused)) from None
    return pattern_text


def _check_schedule(schedule_expression: str, bus: str) -> None:
    """PutRule's ScheduleExpression: within 256 characters, on the default bus, a valid schedule."""
    if len(schedule_expression) > MAX_SCHEDULE_LENGTH:
        raise _constraint(
            schedule_expression,
            "scheduleExpression",
            "Member must have length less than or equal to 256",
        )
    if bus != DEFAULT_BUS:
        raise error(VALIDATION, "ScheduleExpression is supported only on the default event bus.")
    from rulebus.events.schedule import Schedule

    Schedule(schedule_expression)  # raises AWS's "Parameter ScheduleExpression is not valid."


class Rules:
    """The rules and targets of the bus ``bus``, as the store keeps them, and the Python
    callables this process put as targets."""

    def __init__(self, context: Context, bus: str) -> None:
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self._on_rules_changed = context.rules_changed
        self._rules_per_bus = context.rules_per_bus
        self.bus = bus
        self._local: dict[tuple[str, str], Callable[[Any], Any]] = {}  # python targets
        #: Each rule's metrics counted by this process (CloudWatch's AWS/Events metrics with the
        #: RuleName dimension), by rule name: kept across recompiles, every metric from 0.
        self.metrics: dict[str, dict[str, int]] = {}

    def rule_metrics(self, rule: str) -> dict[str, int]:
        """The metrics of the rule ``rule`` (made the first time they are asked for)."""
        counts = self.metrics.get(rule)
        if counts is None:
            counts = self.metrics.setdefault(rule, dict.fromkeys(EVENTS_COUNTERS, 0))
        return counts

    def arn(self, rule: str) -> str:
        return rule_arn(self.bus, rule, self._region, self._account)

    def compile(self, rules: Sequence[RuleRecord], targets: Sequence[TargetRecord]) -> dict[str, Rule]:
        """The rules with their targets as the bus routes with them, by name (a target of no
        rule in ``rules`` is left out)."""
        view = {
            record.name: Rule(record, self.arn(record.name), metrics=self.rule_metrics(record.name))
            for record in rules
        }
        for record in targets:
            rule = view.get(record.rule)
            if rule is not None:
                call = self._local.get((record.rule, record.target_id))
                rule.targets.append(compile_target(record, call, self._region, self._account))
        for rule in view.values():
            rule.seal()
        return view

    def _record(self, name: str) -> RuleRecord:
        record = self._store.buses.get_rule(self.bus, name)
        if record is None:
            raise missing_rule(name, self.bus)
        return record

    # ------------------------------------------------------------------ rules

    def put_rule(
        self,
        name: str,
        event_pattern: str | Mapping[str, Any] | None,
        schedule_expression: str | None,
        state: str,
        description: str | None,
    ) -> str:
        """PutRule (see ``EventBus.put_rule``); returns the rule's ARN."""
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
        pattern_text = _pattern_text(event_pattern)
        if schedule_expression is not None:
            _check_schedule(schedule_expression, self.bus)
        if pattern_text is None and schedule_expression is None:
            raise error(VALIDATION, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if self._store.buses.get_event_bus(self.bus) is None:
            raise missing_bus(self.bus)
        existing = self._store.buses.get_rule(self.bus, name)
        if existing is None:
            limit = self._rules_per_bus
            if limit is not None and len(self._store.buses.rules(self.bus)[1]) >= limit:
                raise limit_exceeded()
        record = RuleRecord(
            bus=self.bus,
            name=name,
            event_pattern=pattern_text,
            schedule_expression=schedule_expression,
            state=state,
            description=description,
            creation_time=self._clock(),
        )
        try:
            self._store.buses.put_rule(record)
        except NotFound as found:
            raise gone(found, self.bus) from None
        self._on_rules_changed(self.bus)
        return self.arn(name)

    def describe_rule(self, name: str) -> dict[str, Any]:
        """DescribeRule (see ``EventBus.describe_rule``)."""
        check_name(name, "name", 64)
        return self._describe(self._record(name))

    def _describe(self, record: RuleRecord) -> dict[str, Any]:
        described: dict[str, Any] = {"Name": record.name, "Arn": self.arn(record.name)}
        if record.event_pattern is not None:
            described["EventPattern"] = record.event_pattern
        if record.schedule_expression is not None:
            described["ScheduleExpression"] = record.schedule_expression
        described["State"] = record.state
        if record.description is not None:
            described["Description"] = record.description
        described["EventBusName"] = self.bus
        described["CreatedBy"] = self._account
        return described

    def list_rules(self, name_prefix: str | None) -> list[dict[str, Any]]:
        """ListRules (see ``EventBus.list_rules``)."""
        validation.text(name_prefix, "namePrefix", validation.EVENTS, required=False)
        _, records, _ = self._store.buses.rules(self.bus)
        chosen = [r for r in records if name_prefix is None or r.name.startswith(name_prefix)]
        return [self._describe(record) for record in sorted(chosen, key=lambda r: r.name)]

    def set_state(self, name: str, state: str) -> None:
        """EnableRule (``"ENABLED"``) and DisableRule (``"DISABLED"``)."""
        check_name(name, "name", 64)
        record = self._record(name)
        if record.state != state:
            try:
                self._store.buses.put_rule(RuleRecord(**{**record.__dict__, "state": state}))
            except NotFound as found:
                raise gone(found, self.bus) from None
            self._on_rules_changed(self.bus)

    def delete_rule(self, name: str) -> None:
        """DeleteRule (see ``EventBus.delete_rule``)."""
        check_name(name, "name", 64)
        if self._store.buses.delete_rule(self.bus, name) is DeleteRuleResult.HAS_TARGETS:
            raise error(VALIDATION, "Rule can't be deleted since it has targets.")
        self._store.tags.delete_tags(self.arn(name))
        self._on_rules_changed(self.bus)

    # ------------------------------------------------------------------ targets

    def put_targets(self, rule: str, targets: Sequence[Target]) -> dict[str, Any]:
        """PutTargets (see ``EventBus.put_targets``): every target checked before any is stored."""
        check_name(rule, "rule", 64)
        validation.entries(targets, "targets", validation.EVENTS, TARGET_MEMBERS)
        record = self._record(rule)
        if not targets:
            raise _constraint("[]", "targets", "Member must have length greater than or equal to 1")
        if len(targets) > MAX_PUT_TARGETS_ENTRIES:
            raise _constraint("[...]", "targets", "Member must have length less than or equal to 100")
        prepared = [prepare_target(target, index) for index, target in enumerate(targets, start=1)]
        ids = [target["Id"] for target, _ in prepared]
        _, _, stored = self._store.buses.rules(self.bus)
        existing = {t.target_id for t in stored if t.rule == record.name}
        if len(existing | set(ids)) > MAX_TARGETS_PER_RULE:
            raise limit_exceeded()
        try:
            refused = self._store.buses.put_targets(
                self.bus,
                record.name,
                [
                    TargetRecord(self.bus, record.name, target["Id"], compact(target))
                    for target, _ in prepared
                ],
                MAX_TARGETS_PER_RULE,
            )
        except NotFound as found:
            raise gone(found, self.bus) from None
        if refused:  # another broker added targets in between
            raise limit_exceeded()
        for target, call in prepared:
            key = (record.name, target["Id"])
            if call is not None:
                self._local[key] = call
            else:
                self._local.pop(key, None)
        self._on_rules_changed(self.bus)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def remove_targets(self, rule: str, ids: Sequence[str]) -> dict[str, Any]:
        """RemoveTargets (see ``EventBus.remove_targets``)."""
        check_name(rule, "rule", 64)
        validation.string_list(ids, "ids", validation.EVENTS)
        record = self._record(rule)
        for target_id in ids:
            check_name(target_id, "ids", 64)
        self._store.buses.remove_targets(self.bus, record.name, list(ids))
        for target_id in ids:
            self._local.pop((record.name, target_id), None)
        self._on_rules_changed(self.bus)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, rule: str) -> list[dict[str, Any]]:
        """ListTargetsByRule (see ``EventBus.list_targets_by_rule``)."""
        check_name(rule, "rule", 64)
        record = self._record(rule)
        _, _, targets = self._store.buses.rules(self.bus)
        return [json.loads(t.target) for t in targets if t.rule == record.name]
