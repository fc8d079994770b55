"""What the stores keep for EventBridge: buses, rules, targets, archives (with their events) and
replays.

Why a module of its own: ``rulebus.store`` holds the queue and topic state; the bus state is a
separate concern with its own tables, so it lives here as the ``BusStore`` interface plus one
mixin per store kind (``MemoryBusStore``, ``SQLiteBusStore``), which ``MemoryStore`` and
``SQLiteStore`` inherit. Bus code sees only ``BusStore``'s methods, never which store it runs on.

Records are frozen dataclasses; the stores never interpret patterns, targets or events: those are
JSON texts the bus layer wrote and validated.
"""

from __future__ import annotations

import bisect
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

__all__ = [
    "ArchiveRecord",
    "ArchivedEvent",
    "BusStore",
    "DeleteRuleResult",
    "EventBusRecord",
    "MemoryBusStore",
    "ReplayRecord",
    "RuleRecord",
    "TargetRecord",
]


@dataclass(frozen=True)
class EventBusRecord:
    """One event bus: its name, when it was created (epoch seconds) and its description."""

    name: str
    creation_time: float
    description: str | None = None


@dataclass(frozen=True)
class RuleRecord:
    """One rule of a bus. ``event_pattern`` is the pattern's JSON text as PutRule got it;
    ``state`` is ENABLED, DISABLED or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS;
    ``creation_time`` anchors rate schedules (a replaced rule keeps its first creation time)."""

    bus: str
    name: str
    event_pattern: str | None
    schedule_expression: str | None
    state: str
    description: str | None
    creation_time: float


@dataclass(frozen=True)
class TargetRecord:
    """One target of a rule: its Id and the whole target as AWS's JSON object (``Arn``, ``Input``,
    ``InputPath``, ``InputTransformer``, ``RetryPolicy``, ``DeadLetterConfig``,
    ``SqsParameters``...), as the bus layer validated and wrote it."""

    bus: str
    rule: str
    target_id: str
    target: str


class DeleteRuleResult(Enum):
    DELETED = "deleted"
    ABSENT = "absent"
    HAS_TARGETS = "has_targets"


@dataclass(frozen=True)
class ArchiveRecord:
    """One archive of a bus's events. ``retention_days`` 0 keeps events forever. ``state`` is
    ENABLED or DISABLED (the others are transitional on AWS and never stored here)."""

    name: str
    bus: str
    event_pattern: str | None
    retention_days: int
    description: str | None
    state: str
    creation_time: float


@dataclass(frozen=True)
class ArchivedEvent:
    """One archived event: ``seq`` orders events archived in the same second; ``event_time`` is
    the event's ``time`` field in epoch seconds (what replays select and sort by); ``event`` the
    event's JSON text as it reached the bus; ``size`` its UTF-8 length."""

    seq: int
    event_time: float
    archived_at: float
    event: str
    size: int


@dataclass(frozen=True)
class ReplayRecord:
    """One replay. ``state``: STARTING, RUNNING, CANCELLING, CANCELLED, COMPLETED or FAILED.
    ``filter_arns`` are the rule ARNs of Destination.FilterArns (empty: every rule of the bus).
    ``last_seq``/``last_event_time`` say how far it got (resumable, and shown as progress);
    ``replayed`` counts the events re-sent so far and ``total`` the events in the window."""

    name: str
    archive: str
    bus: str
    description: str | None
    event_start_time: float
    event_end_time: float
    filter_arns: tuple[str, ...]
    state: str
    state_reason: str | None
    replay_start_time: float
    replay_end_time: float | None = None
    event_last_replayed_time: float | None = None
    last_event_time: float | None = None
    last_seq: int | None = None
    replayed: int = 0
    total: int = 0


class BusStore(ABC):
    """The bus half of the ``Store`` interface. Every method is atomic; on SQLite, every broker on
    the file sees the changes."""

    # ------------------------------------------------------------------ buses

    @abstractmethod
    def create_event_bus(self, record: EventBusRecord) -> bool:
        """Insert the bus; False (and nothing changed) if a bus of that name exists."""

    @abstractmethod
    def get_event_bus(self, name: str) -> EventBusRecord | None:
        """The bus's record, or None."""

    @abstractmethod
    def delete_event_bus(self, name: str) -> None:
        """Remove the bus with its rules and targets (archives stay, as on AWS); absent: no error."""

    @abstractmethod
    def event_bus_names(self) -> list[str]:
        """Every bus's name, sorted."""

    # ------------------------------------------------------------------ rules and targets

    @abstractmethod
    def put_rule(self, record: RuleRecord) -> RuleRecord:
        """Insert the rule or replace the one of that name on that bus (keeping its targets and
        its first ``creation_time``); return the stored record. The bus must exist (the caller
        checked)."""

    @abstractmethod
    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        """The rule, or None."""

    @abstractmethod
    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        """Delete the rule unless it has targets (HAS_TARGETS, nothing changed)."""

    @abstractmethod
    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        """One consistent snapshot of the bus: its rules version (see :meth:`rules_version`), its
        rules in creation order, and their targets in the order they were first put."""

    @abstractmethod
    def rules_version(self, bus: str) -> int:
        """A number that changes whenever a rule or target of the bus changes (-1: no such bus),
        so a bus object can keep a compiled view and refresh it only when needed."""

    @abstractmethod
    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        """Add or replace (by Id) the rule's targets, in order, as long as the rule keeps at most
        ``limit`` targets; return the Ids refused for the limit (nothing stored for those)."""

    @abstractmethod
    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        """Remove the rule's targets with these Ids; unknown Ids are no error."""

    # ------------------------------------------------------------------ archives

    @abstractmethod
    def create_archive(self, record: ArchiveRecord) -> bool:
        """Insert the archive; False (nothing changed) if one of that name exists."""

    @abstractmethod
    def get_archive(self, name: str) -> ArchiveRecord | None:
        """The archive, or None."""

    @abstractmethod
    def update_archive(self, record: ArchiveRecord) -> bool:
        """Replace the archive's record (events untouched); False if it does not exist."""

    @abstractmethod
    def delete_archive(self, name: str) -> bool:
        """Remove the archive and its events; False if it did not exist."""

    @abstractmethod
    def archives(self) -> list[ArchiveRecord]:
        """Every archive, sorted by name."""

    @abstractmethod
    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        """Append ``(event_time, event_json)`` pairs to the archive, durably before returning."""

    @abstractmethod
    def archive_stats(self, archive: str) -> tuple[int, int]:
        """(EventCount, SizeBytes) of the archive's events."""

    @abstractmethod
    def archived_events(
        self,
        archive: str,
        start: float,
        end: float,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[ArchivedEvent]:
        """Up to ``limit`` events with ``start <= event_time < end``, in (event_time, seq) order,
        starting after the ``(event_time, seq)`` position ``after`` (a replay's resume point)."""

    @abstractmethod
    def trim_archive(self, archive: str, archived_before: float) -> int:
        """Drop the events archived before ``archived_before`` (retention); return how many."""

    # ------------------------------------------------------------------ replays

    @abstractmethod
    def create_replay(self, record: ReplayRecord) -> bool:
        """Insert the replay; False (nothing changed) if one of that name exists."""

    @abstractmethod
    def get_replay(self, name: str) -> ReplayRecord | None:
        """The replay, or None."""

    @abstractmethod
    def update_replay(self, record: ReplayRecord, expected_states: Sequence[str] = ()) -> bool:
        """Replace the replay's record, only if its stored state is one of ``expected_states``
        (any state when empty); False if it was not replaced. Cancelling and progress race
        between threads and processes: this is how they stay consistent."""

    @abstractmethod
    def replays(self) -> list[ReplayRecord]:
        """Every replay, most recently started first."""


# --------------------------------------------------------------------------------------------
# Memory.


@dataclass
class _MemoryArchive:
    record: ArchiveRecord
    # ``keys[i]`` is ``(events[i].event_time, events[i].seq)``: a parallel list, so bisect finds a
    # window or a resume point in O(log n) (``bisect``'s ``key=`` needs Python 3.10).
    keys: list[tuple[float, int]] = field(default_factory=list)
    events: list[ArchivedEvent] = field(default_factory=list)
    size: int = 0


class MemoryBusStore(BusStore):
    """The bus state in dictionaries, behind the host store's lock (``MemoryStore._lock``), so a
    bus operation is atomic with respect to every other store operation. The host's ``__init__``
    calls :meth:`_init_bus_state`."""

    _lock: threading.Lock  # created by MemoryStore.__init__

    def _init_bus_state(self) -> None:
        self._buses: dict[str, EventBusRecord] = {}
        # Per bus, in creation (first put) order: dicts keep insertion order, and a replaced
        # entry keeps its place.
        self._bus_rules: dict[str, dict[str, RuleRecord]] = {}
        self._bus_targets: dict[str, dict[tuple[str, str], TargetRecord]] = {}
        self._bus_versions: dict[str, int] = {}
        # One counter across buses, so a deleted and re-created bus never repeats a version.
        self._bus_version_counter = 0
        self._bus_archives: dict[str, _MemoryArchive] = {}
        self._bus_archive_seq = 0
        self._bus_replays: dict[str, ReplayRecord] = {}  # in creation order

    def _bus_bump_rules(self, bus: str) -> None:
        self._bus_version_counter += 1
        self._bus_versions[bus] = self._bus_version_counter

    # ------------------------------------------------------------------ buses

    def create_event_bus(self, record: EventBusRecord) -> bool:
        with self._lock:
            if record.name in self._buses:
                return False
            self._buses[record.name] = record
            self._bus_rules[record.name] = {}
            self._bus_targets[record.name] = {}
            self._bus_bump_rules(record.name)
            return True

    def get_event_bus(self, name: str) -> EventBusRecord | None:
        with self._lock:
            return self._buses.get(name)

    def delete_event_bus(self, name: str) -> None:
        with self._lock:
            for table in (self._buses, self._bus_rules, self._bus_targets, self._bus_versions):
                table.pop(name, None)

    def event_bus_names(self) -> list[str]:
        with self._lock:
            return sorted(self._buses)

    # ------------------------------------------------------------------ rules and targets

    def _bus_rules_of(self, bus: str) -> dict[str, RuleRecord]:
        rules = self._bus_rules.get(bus)
        if rules is None:
            raise KeyError(bus)
        return rules

    def put_rule(self, record: RuleRecord) -> RuleRecord:
        with self._lock:
            rules = self._bus_rules_of(record.bus)
            existing = rules.get(record.name)
            if existing is not None:
                record = replace(record, creation_time=existing.creation_time)
            rules[record.name] = record
            self._bus_bump_rules(record.bus)
            return record

    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        with self._lock:
            return self._bus_rules.get(bus, {}).get(name)

    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        with self._lock:
            rules = self._bus_rules.get(bus, {})
            if name not in rules:
                return DeleteRuleResult.ABSENT
            if any(rule == name for rule, _ in self._bus_targets[bus]):
                return DeleteRuleResult.HAS_TARGETS
            del rules[name]
            self._bus_bump_rules(bus)
            return DeleteRuleResult.DELETED

    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        with self._lock:
            if bus not in self._buses:
                return -1, [], []
            return (
                self._bus_versions[bus],
                list(self._bus_rules[bus].values()),
                list(self._bus_targets[bus].values()),
            )

    def rules_version(self, bus: str) -> int:
        with self._lock:
            return self._bus_versions.get(bus, -1)

    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        with self._lock:
            if rule not in self._bus_rules_of(bus):
                raise KeyError(rule)
            stored = self._bus_targets[bus]
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
                self._bus_bump_rules(bus)
            return refused

    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        with self._lock:
            stored = self._bus_targets.get(bus, {})
            removed = [stored.pop((rule, target_id), None) for target_id in target_ids]
            if any(target is not None for target in removed):
                self._bus_bump_rules(bus)

    # ------------------------------------------------------------------ archives

    def create_archive(self, record: ArchiveRecord) -> bool:
        with self._lock:
            if record.name in self._bus_archives:
                return False
            self._bus_archives[record.name] = _MemoryArchive(record)
            return True

    def get_archive(self, name: str) -> ArchiveRecord | None:
        with self._lock:
            archive = self._bus_archives.get(name)
            return archive.record if archive is not None else None

    def update_archive(self, record: ArchiveRecord) -> bool:
        with self._lock:
            archive = self._bus_archives.get(record.name)
            if archive is None:
                return False
            archive.record = record
            return True

    def delete_archive(self, name: str) -> bool:
        with self._lock:
            return self._bus_archives.pop(name, None) is not None

    def archives(self) -> list[ArchiveRecord]:
        with self._lock:
            return [self._bus_archives[name].record for name in sorted(self._bus_archives)]

    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        with self._lock:
            state = self._bus_archives.get(archive)
            if state is None:
                return  # deleted meanwhile: nothing to keep the events in
            for event_time, text in events:
                self._bus_archive_seq += 1
                event = ArchivedEvent(self._bus_archive_seq, event_time, archived_at, text, _utf8_size(text))
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
            state = self._bus_archives.get(archive)
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
            state = self._bus_archives.get(archive)
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
            state = self._bus_archives.get(archive)
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
            if record.name in self._bus_replays:
                return False
            self._bus_replays[record.name] = record
            return True

    def get_replay(self, name: str) -> ReplayRecord | None:
        with self._lock:
            return self._bus_replays.get(name)

    def update_replay(self, record: ReplayRecord, expected_states: Sequence[str] = ()) -> bool:
        with self._lock:
            stored = self._bus_replays.get(record.name)
            if stored is None or (expected_states and stored.state not in expected_states):
                return False
            self._bus_replays[record.name] = record
            return True

    def replays(self) -> list[ReplayRecord]:
        with self._lock:
            # Newest first; among equal start times the later created first (the sort is stable).
            newest = list(reversed(self._bus_replays.values()))
            return sorted(newest, key=lambda replay: replay.replay_start_time, reverse=True)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))
