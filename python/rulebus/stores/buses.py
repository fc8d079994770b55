"""What the stores keep for EventBridge: buses, rules, targets, archives (with their events) and
replays.

Why a module of its own: ``rulebus.stores.queues`` holds the queue state and each other service keeps
its own (``topic_store``, ``stream_store``, ``idempotency_store``, this one): the bus state has
its own tables, so it lives here as the ``BusStore`` interface plus one mixin per store kind
(``MemoryBusStore``, ``SQLiteBusStore``), which ``MemoryStore`` and ``SQLiteStore`` inherit.
Bus code sees only ``BusStore``'s methods, never which store it runs on.

Records are frozen dataclasses; the stores never interpret patterns, targets or events: those are
JSON texts the bus layer wrote and validated.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field, fields, replace
from enum import Enum
from typing import Any

from rulebus.stores.sqlite_host import SQLiteHost

__all__ = [
    "ArchiveRecord",
    "ArchivedEvent",
    "BusStore",
    "DeleteRuleResult",
    "EventBusRecord",
    "MemoryBusStore",
    "ReplayRecord",
    "RuleRecord",
    "SQLiteBusStore",
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
        checked); if it was deleted meanwhile, nothing is stored and KeyError is raised."""

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
        ``limit`` targets; return the Ids refused for the limit (nothing stored for those). The
        rule must exist; if it was deleted meanwhile, nothing is stored and KeyError is raised
        (stray targets would otherwise attach to a later rule of that name)."""

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
        """Append ``(event_time, event_json)`` pairs to the archive, durably before returning. An
        archive that does not exist (deleted meanwhile) keeps nothing, and this is no error."""

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

    # ------------------------------------------------------------------ schedules

    @abstractmethod
    def claim_schedule_fire(self, bus: str, rule: str, fire_time: float) -> bool:
        """True for the first caller to claim this fire of a scheduled rule, False for every
        other (another thread or process on the store already fired it): each scheduled fire
        happens once however many brokers run schedulers."""


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
        self._bus_schedule_fires: dict[tuple[str, str], float] = {}  # the latest fire claimed

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

    def claim_schedule_fire(self, bus: str, rule: str, fire_time: float) -> bool:
        with self._lock:
            # Fires are claimed in time order, so remembering the latest is enough.
            if self._bus_schedule_fires.get((bus, rule), float("-inf")) >= fire_time:
                return False
            self._bus_schedule_fires[(bus, rule)] = fire_time
            return True


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


# --------------------------------------------------------------------------------------------
# SQLite.

#: The bus tables, created by ``SQLiteStore.__init__`` through :meth:`SQLiteBusStore._init_bus_schema`.
_BUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_buses (
    name TEXT PRIMARY KEY,
    creation_time REAL NOT NULL,
    description TEXT
);
-- One row per bus name, kept when the bus is deleted, so a re-created bus never repeats a version.
CREATE TABLE IF NOT EXISTS bus_rules_versions (
    bus TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    event_pattern TEXT,
    schedule_expression TEXT,
    state TEXT NOT NULL,
    description TEXT,
    creation_time REAL NOT NULL,
    UNIQUE (bus, name)
);
CREATE TABLE IF NOT EXISTS targets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target TEXT NOT NULL,
    UNIQUE (bus, rule, target_id)
);
-- event_count and size_bytes are kept up to date, so DescribeArchive never scans the events.
CREATE TABLE IF NOT EXISTS archives (
    name TEXT PRIMARY KEY,
    bus TEXT NOT NULL,
    event_pattern TEXT,
    retention_days INTEGER NOT NULL,
    description TEXT,
    state TEXT NOT NULL,
    creation_time REAL NOT NULL,
    event_count INTEGER NOT NULL DEFAULT 0,
    size_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS archived_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    archive TEXT NOT NULL,
    event_time REAL NOT NULL,
    archived_at REAL NOT NULL,
    event TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replays (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    archive TEXT NOT NULL,
    bus TEXT NOT NULL,
    description TEXT,
    event_start_time REAL NOT NULL,
    event_end_time REAL NOT NULL,
    filter_arns TEXT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    replay_start_time REAL NOT NULL,
    replay_end_time REAL,
    event_last_replayed_time REAL,
    last_event_time REAL,
    last_seq INTEGER,
    replayed INTEGER NOT NULL,
    total INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_fires (
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    fire_time REAL NOT NULL,
    PRIMARY KEY (bus, rule)
);
CREATE INDEX IF NOT EXISTS rules_by_bus ON rules (bus, seq);
CREATE INDEX IF NOT EXISTS targets_by_bus ON targets (bus, seq);
CREATE INDEX IF NOT EXISTS archived_events_by_time ON archived_events (archive, event_time, seq);
CREATE INDEX IF NOT EXISTS archived_events_by_age ON archived_events (archive, archived_at);
"""

# Columns in the records' field order, so a row and a record convert positionally.
_RULE_COLUMNS = ", ".join(f.name for f in fields(RuleRecord))
_ARCHIVE_COLUMNS = ", ".join(f.name for f in fields(ArchiveRecord))
_REPLAY_COLUMNS = ", ".join(f.name for f in fields(ReplayRecord))
_FILTER_ARNS = [f.name for f in fields(ReplayRecord)].index("filter_arns")


def _replay_row(record: ReplayRecord) -> tuple[object, ...]:
    row: list[object] = list(astuple(record))
    row[_FILTER_ARNS] = json.dumps(list(record.filter_arns))
    return tuple(row)


def _replay_from_row(row: Sequence[Any]) -> ReplayRecord:
    values = list(row)
    values[_FILTER_ARNS] = tuple(json.loads(values[_FILTER_ARNS]))
    return ReplayRecord(*values)


class SQLiteBusStore(SQLiteHost, BusStore):
    """The bus state in the host store's SQLite file (``SQLiteStore``): every write is one
    ``BEGIN IMMEDIATE`` transaction of the host's, so threads and processes on the file see one
    consistent state. The host's ``__init__`` calls :meth:`_init_bus_schema`."""

    def _init_bus_schema(self, connection: sqlite3.Connection) -> None:
        connection.executescript(_BUS_SCHEMA)  # idempotent

    @staticmethod
    def _bus_version(connection: sqlite3.Connection, bus: str) -> int:
        row = connection.execute(
            "SELECT v.version FROM event_buses b JOIN bus_rules_versions v ON v.bus = b.name "
            "WHERE b.name = ?",
            (bus,),
        ).fetchone()
        return int(row[0]) if row is not None else -1

    @staticmethod
    def _bus_bump_rules(connection: sqlite3.Connection, bus: str) -> None:
        connection.execute(
            "INSERT INTO bus_rules_versions (bus, version) VALUES (?, 1) "
            "ON CONFLICT (bus) DO UPDATE SET version = version + 1",
            (bus,),
        )

    def _bus_insert_new(self, table: str, columns: str, row: Sequence[object]) -> bool:
        """Insert the row unless its key exists; whether it was inserted."""
        with self._transaction() as connection:
            placeholders = ", ".join("?" * len(row))
            cursor = connection.execute(
                f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({placeholders})", row
            )
            return bool(cursor.rowcount)

    def _bus_select_named(self, table: str, columns: str, name: str) -> Sequence[Any] | None:
        return self._connection().execute(f"SELECT {columns} FROM {table} WHERE name = ?", (name,)).fetchone()

    # ------------------------------------------------------------------ buses

    def create_event_bus(self, record: EventBusRecord) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO event_buses (name, creation_time, description) VALUES (?, ?, ?)",
                (record.name, record.creation_time, record.description),
            )
            if not cursor.rowcount:
                return False
            self._bus_bump_rules(connection, record.name)
            return True

    def get_event_bus(self, name: str) -> EventBusRecord | None:
        row = self._bus_select_named("event_buses", "name, creation_time, description", name)
        return EventBusRecord(*row) if row is not None else None

    def delete_event_bus(self, name: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM targets WHERE bus = ?", (name,))
            connection.execute("DELETE FROM rules WHERE bus = ?", (name,))
            if connection.execute("DELETE FROM event_buses WHERE name = ?", (name,)).rowcount:
                self._bus_bump_rules(connection, name)

    def event_bus_names(self) -> list[str]:
        rows = self._connection().execute("SELECT name FROM event_buses ORDER BY name").fetchall()
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ rules and targets

    @staticmethod
    def _load_rule(connection: sqlite3.Connection, bus: str, name: str) -> RuleRecord | None:
        row = connection.execute(
            f"SELECT {_RULE_COLUMNS} FROM rules WHERE bus = ? AND name = ?", (bus, name)
        ).fetchone()
        return RuleRecord(*row) if row is not None else None

    def put_rule(self, record: RuleRecord) -> RuleRecord:
        with self._transaction() as connection:
            if self._bus_version(connection, record.bus) == -1:
                raise KeyError(record.bus)
            # The upsert keeps the row (so its seq: creation order) and its first creation_time.
            connection.execute(
                f"INSERT INTO rules ({_RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (bus, name) DO UPDATE SET event_pattern = excluded.event_pattern, "
                "schedule_expression = excluded.schedule_expression, state = excluded.state, "
                "description = excluded.description",
                astuple(record),
            )
            self._bus_bump_rules(connection, record.bus)
            stored = self._load_rule(connection, record.bus, record.name)
            assert stored is not None  # just written, in this transaction
            return stored

    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        return self._load_rule(self._connection(), bus, name)

    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        with self._transaction() as connection:
            if self._load_rule(connection, bus, name) is None:
                return DeleteRuleResult.ABSENT
            if connection.execute(
                "SELECT 1 FROM targets WHERE bus = ? AND rule = ? LIMIT 1", (bus, name)
            ).fetchone():
                return DeleteRuleResult.HAS_TARGETS
            connection.execute("DELETE FROM rules WHERE bus = ? AND name = ?", (bus, name))
            self._bus_bump_rules(connection, bus)
            return DeleteRuleResult.DELETED

    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        with self._transaction("BEGIN") as connection:  # one snapshot: version, rules, targets agree
            version = self._bus_version(connection, bus)
            if version == -1:
                return -1, [], []
            rules = connection.execute(
                f"SELECT {_RULE_COLUMNS} FROM rules WHERE bus = ? ORDER BY seq", (bus,)
            ).fetchall()
            targets = connection.execute(
                "SELECT bus, rule, target_id, target FROM targets WHERE bus = ? ORDER BY seq", (bus,)
            ).fetchall()
            return version, [RuleRecord(*row) for row in rules], [TargetRecord(*row) for row in targets]

    def rules_version(self, bus: str) -> int:
        return self._bus_version(self._connection(), bus)

    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        with self._transaction() as connection:
            if self._load_rule(connection, bus, rule) is None:
                raise KeyError(rule)
            stored = {
                row[0]
                for row in connection.execute(
                    "SELECT target_id FROM targets WHERE bus = ? AND rule = ?", (bus, rule)
                )
            }
            refused: list[str] = []
            for target in targets:
                if target.target_id not in stored:
                    if len(stored) >= limit:
                        refused.append(target.target_id)
                        continue
                    stored.add(target.target_id)
                # The upsert keeps a replaced target's seq: its place in the order.
                connection.execute(
                    "INSERT INTO targets (bus, rule, target_id, target) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (bus, rule, target_id) DO UPDATE SET target = excluded.target",
                    (bus, rule, target.target_id, target.target),
                )
            if len(refused) < len(targets):
                self._bus_bump_rules(connection, bus)
            return refused

    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        with self._transaction() as connection:
            removed = sum(
                connection.execute(
                    "DELETE FROM targets WHERE bus = ? AND rule = ? AND target_id = ?", (bus, rule, target_id)
                ).rowcount
                for target_id in target_ids
            )
            if removed:
                self._bus_bump_rules(connection, bus)

    # ------------------------------------------------------------------ archives

    def create_archive(self, record: ArchiveRecord) -> bool:
        return self._bus_insert_new("archives", _ARCHIVE_COLUMNS, astuple(record))

    def get_archive(self, name: str) -> ArchiveRecord | None:
        row = self._bus_select_named("archives", _ARCHIVE_COLUMNS, name)
        return ArchiveRecord(*row) if row is not None else None

    def update_archive(self, record: ArchiveRecord) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE archives SET bus = ?, event_pattern = ?, retention_days = ?, description = ?, "
                "state = ?, creation_time = ? WHERE name = ?",
                (*astuple(record)[1:], record.name),
            )
            return bool(cursor.rowcount)

    def delete_archive(self, name: str) -> bool:
        with self._transaction() as connection:
            connection.execute("DELETE FROM archived_events WHERE archive = ?", (name,))
            return bool(connection.execute("DELETE FROM archives WHERE name = ?", (name,)).rowcount)

    def archives(self) -> list[ArchiveRecord]:
        rows = self._connection().execute(f"SELECT {_ARCHIVE_COLUMNS} FROM archives ORDER BY name").fetchall()
        return [ArchiveRecord(*row) for row in rows]

    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        rows = [(archive, event_time, archived_at, text, _utf8_size(text)) for event_time, text in events]
        with self._transaction() as connection:
            if connection.execute("SELECT 1 FROM archives WHERE name = ?", (archive,)).fetchone() is None:
                return  # deleted meanwhile: nothing to keep the events in
            connection.executemany(
                "INSERT INTO archived_events (archive, event_time, archived_at, event, size) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            connection.execute(
                "UPDATE archives SET event_count = event_count + ?, size_bytes = size_bytes + ? "
                "WHERE name = ?",
                (len(rows), sum(row[4] for row in rows), archive),
            )

    def archive_stats(self, archive: str) -> tuple[int, int]:
        row = (
            self._connection()
            .execute("SELECT event_count, size_bytes FROM archives WHERE name = ?", (archive,))
            .fetchone()
        )
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    def archived_events(
        self,
        archive: str,
        start: float,
        end: float,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[ArchivedEvent]:
        if limit <= 0:
            return []  # SQLite reads a negative LIMIT as no limit
        # One lower bound only: given both ``event_time >= start`` and the row-value resume point,
        # SQLite seeks the (archive, event_time, seq) index on the first and scans every earlier
        # page again, which makes reading an archive page by page quadratic.
        if after is not None and after >= (start,):
            lower, parameters = "(event_time, seq) > (?, ?)", [after[0], after[1]]
        else:
            lower, parameters = "event_time >= ?", [start]
        rows = (
            self._connection()
            .execute(
                "SELECT seq, event_time, archived_at, event, size FROM archived_events "
                f"WHERE archive = ? AND {lower} AND event_time < ? ORDER BY event_time, seq LIMIT ?",
                (archive, *parameters, end, limit),
            )
            .fetchall()
        )
        return [ArchivedEvent(*row) for row in rows]

    def trim_archive(self, archive: str, archived_before: float) -> int:
        with self._transaction() as connection:
            count, size = connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM archived_events "
                "WHERE archive = ? AND archived_at < ?",
                (archive, archived_before),
            ).fetchone()
            if count:
                connection.execute(
                    "DELETE FROM archived_events WHERE archive = ? AND archived_at < ?",
                    (archive, archived_before),
                )
                connection.execute(
                    "UPDATE archives SET event_count = event_count - ?, size_bytes = size_bytes - ? "
                    "WHERE name = ?",
                    (count, size, archive),
                )
            return int(count)

    # ------------------------------------------------------------------ replays

    def create_replay(self, record: ReplayRecord) -> bool:
        return self._bus_insert_new("replays", _REPLAY_COLUMNS, _replay_row(record))

    def get_replay(self, name: str) -> ReplayRecord | None:
        row = self._bus_select_named("replays", _REPLAY_COLUMNS, name)
        return _replay_from_row(row) if row is not None else None

    def update_replay(self, record: ReplayRecord, expected_states: Sequence[str] = ()) -> bool:
        assignments = ", ".join(f"{column} = ?" for column in _REPLAY_COLUMNS.split(", ")[1:])
        sql = f"UPDATE replays SET {assignments} WHERE name = ?"
        parameters: list[object] = [*_replay_row(record)[1:], record.name]
        if expected_states:
            # One statement: the state check and the write cannot interleave with another writer.
            sql += f" AND state IN ({', '.join('?' * len(expected_states))})"
            parameters.extend(expected_states)
        with self._transaction() as connection:
            return bool(connection.execute(sql, parameters).rowcount)

    def replays(self) -> list[ReplayRecord]:
        rows = (
            self._connection()
            .execute(f"SELECT {_REPLAY_COLUMNS} FROM replays ORDER BY replay_start_time DESC, seq DESC")
            .fetchall()
        )
        return [_replay_from_row(row) for row in rows]

    def claim_schedule_fire(self, bus: str, rule: str, fire_time: float) -> bool:
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT fire_time FROM schedule_fires WHERE bus = ? AND rule = ?", (bus, rule)
            ).fetchone()
            if row is not None and row[0] >= fire_time:
                return False
            connection.execute(
                "INSERT OR REPLACE INTO schedule_fires (bus, rule, fire_time) VALUES (?, ?, ?)",
                (bus, rule, fire_time),
            )
            return True
