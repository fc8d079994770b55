"""The memory store's event buses, rules, targets, archives and replays."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from rulebus.stores.base import BusStore, NotFound
from rulebus.stores.memory.changes import Changes
from rulebus.stores.records import (
    ArchivedEvent,
    ArchiveRecord,
    DeleteRuleResult,
    EventBusRecord,
    ReplayRecord,
    RuleRecord,
    TargetRecord,
)
from rulebus.stores.semantics import utf8_size

__all__ = ["MemoryBusStore"]


@dataclass
class _MemoryArchive:
    record: ArchiveRecord
    # ``keys[i]`` is ``(events[i].event_time, events[i].seq)``: a parallel list, so bisect finds a
    # window or a resume point in O(log n) (``bisect``'s ``key=`` needs Python 3.10).
    keys: list[tuple[float, int]] = field(default_factory=list)
    events: list[ArchivedEvent] = field(default_factory=list)
    size: int = 0


class MemoryBusStore(BusStore):
    """Buses, rules, targets, archives and replays in dictionaries, every step under the store's
    one lock."""

    def __init__(self, changes: Changes) -> None:
        self._lock = changes.lock
        self._buses: dict[str, EventBusRecord] = {}
        # Per bus, in creation (first put) order: dicts keep insertion order, and a replaced
        # entry keeps its place.
        self._rules: dict[str, dict[str, RuleRecord]] = {}
        self._targets: dict[str, dict[tuple[str, str], TargetRecord]] = {}
        self._versions: dict[str, int] = {}
        # One counter across buses, so a deleted and re-created bus never repeats a version.
        self._version_counter = 0
        self._archives: dict[str, _MemoryArchive] = {}
        self._archive_seq = 0
        self._replays: dict[str, ReplayRecord] = {}  # in creation order
        self._schedule_fires: dict[tuple[str, str], float] = {}  # the latest fire claimed

    def _bump_rules(self, bus: str) -> None:
        self._version_counter += 1
        self._versions[bus] = self._version_counter

    # ------------------------------------------------------------------ buses

    def create_event_bus(self, record: EventBusRecord) -> bool:
        with self._lock:
            if record.name in self._buses:
                return False
            self._buses[record.name] = record
            self._rules[record.name] = {}
            self._targets[record.name] = {}
            self._bump_rules(record.name)
            return True

    def get_event_bus(self, name: str) -> EventBusRecord | None:
        with self._lock:
            return self._buses.get(name)

    def delete_event_bus(self, name: str) -> None:
        with self._lock:
            for table in (self._buses, self._rules, self._targets, self._versions):
                table.pop(name, None)

    def event_bus_names(self) -> list[str]:
        with self._lock:
            return sorted(self._buses)

    # ------------------------------------------------------------------ rules and targets

    def _rules_of(self, bus: str) -> dict[str, RuleRecord]:
        rules = self._rules.get(bus)
        if rules is None:
            raise NotFound("bus", bus)
        return rules

    def put_rule(self, record: RuleRecord) -> RuleRecord:
        with self._lock:
            rules = self._rules_of(record.bus)
            existing = rules.get(record.name)
            if existing is not None:
                record = replace(record, creation_time=existing.creation_time)
            rules[record.name] = record
            self._bump_rules(record.bus)
            return record

    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        with self._lock:
            return self._rules.get(bus, {}).get(name)

    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        with self._lock:
            rules = self._rules.get(bus, {})
            if name not in rules:
                return DeleteRuleResult.ABSENT
            if any(rule == name for rule, _ in self._targets[bus]):
                return DeleteRuleResult.HAS_TARGETS
            del rules[name]
            self._bump_rules(bus)
            return DeleteRuleResult.DELETED

    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        with self._lock:
            if bus not in self._buses:
                return -1, [], []
            return (
                self._versions[bus],
                list(self._rules[bus].values()),
                list(self._targets[bus].values()),
            )

    def rules_version(self, bus: str) -> int:
        with self._lock:
            return self._versions.get(bus, -1)

    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        with self._lock:
            if rule not in self._rules_of(bus):
                raise NotFound("rule", rule)
            stored = self._targets[bus]
            count = sum(1 for name, _ in stored if name == rule)
            refused: list[str] = []
            for target in targets:
                key = (rule, target.target_id)
                if key not in stored:
                    if count >= limit:
                        refused.append(target.target_id)
                        continue
                    count += 1
                stored[key] = replace(target, bus=bus, rule=rule)
            if len(refused) < len(targets):
                self._bump_rules(bus)
            return refused

    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        with self._lock:
            stored = self._targets.get(bus, {})
            removed = [stored.pop((rule, target_id), None) for target_id in target_ids]
            if any(target is not None for target in removed):
                self._bump_rules(bus)

    # ------------------------------------------------------------------ archives

    def create_archive(self, record: ArchiveRecord) -> bool:
        with self._lock:
            if record.name in self._archives:
                return False
            self._archives[record.name] = _MemoryArchive(record)
            return True

    def get_archive(self, name: str) -> ArchiveRecord | None:
        with self._lock:
            archive = self._archives.get(name)
            return archive.record if archive is not None else None

    def update_archive(self, record: ArchiveRecord) -> bool:
        with self._lock:
            archive = self._archives.get(record.name)
            if archive is None:
                return False
            archive.record = record
            return True

    def delete_archive(self, name: str) -> bool:
        with self._lock:
            return self._archives.pop(name, None) is not None

    def archives(self) -> list[ArchiveRecord]:
        with self._lock:
            return [self._archives[name].record for name in sorted(self._archives)]

    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        with self._lock:
            state = self._archives.get(archive)
            if state is None:
                return  # deleted meanwhile: nothing to keep the events in
            for event_time, text in events:
                self._archive_seq += 1
                event = ArchivedEvent(self._archive_seq, event_time, archived_at, text, utf8_size(text))
                key = (event_time, event.seq)
                # Events mostly arrive in time order: appending is the common, O(1) case.
                if not state.keys or state.keys[-1] <= key:
                    state.keys.append(key)
                    state.events.append(event)
                else:
                    index = bisect.bisect_right(state.keys, key)
                    state.keys.insert(index, key)
                    state.events.insert(index, event)
                state.size += event.size

    def archive_stats(self, archive: str) -> tuple[int, int]:
        with self._lock:
            state = self._archives.get(archive)
            return (len(state.events), state.size) if state is not None else (0, 0)

    def archived_events(
        self,
        archive: str,
        start: float,
        end: float,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[ArchivedEvent]:
        with self._lock:
            state = self._archives.get(archive)
            if state is None or limit <= 0:
                return []
            # ``(t,)`` sorts before every ``(t, seq)``: the first key with event_time >= t.
            low = bisect.bisect_left(state.keys, (start,))
            if after is not None:
                low = max(low, bisect.bisect_right(state.keys, after))
            high = min(bisect.bisect_left(state.keys, (end,)), low + limit)
            return state.events[low:high]

    def trim_archive(self, archive: str, archived_before: float) -> int:
        with self._lock:
            state = self._archives.get(archive)
            if state is None:
                return 0
            kept = [event for event in state.events if event.archived_at >= archived_before]
            dropped = len(state.events) - len(kept)
            if dropped:
                state.events = kept
                state.keys = [(event.event_time, event.seq) for event in kept]
                state.size = sum(event.size for event in kept)
            return dropped

    # ------------------------------------------------------------------ replays

    def create_replay(self, record: ReplayRecord) -> bool:
        with self._lock:
            if record.name in self._replays:
                return False
            self._replays[record.name] = record
            return True

    def get_replay(self, name: str) -> ReplayRecord | None:
        with self._lock:
            return self._replays.get(name)

    def update_replay(self, record: ReplayRecord, expected_states: Sequence[str] = ()) -> bool:
        with self._lock:
            stored = self._replays.get(record.name)
            if stored is None or (expected_states and stored.state not in expected_states):
                return False
            self._replays[record.name] = record
            return True

    def replays(self) -> list[ReplayRecord]:
        with self._lock:
            # Newest first; among equal start times the later created first (the sort is stable).
            newest = list(reversed(self._replays.values()))
            return sorted(newest, key=lambda replay: replay.replay_start_time, reverse=True)

    def claim_schedule_fire(self, bus: str, rule: str, fire_time: float) -> bool:
        with self._lock:
            # Fires are claimed in time order, so remembering the latest is enough.
            if self._schedule_fires.get((bus, rule), float("-inf")) >= fire_time:
                return False
            self._schedule_fires[(bus, rule)] = fire_time
            return True
