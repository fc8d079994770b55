"""The SQLite store's event buses: rows of ``event_buses``, ``bus_rules_versions``, ``rules``,
``targets``, ``archives``, ``archived_events``, ``replays`` and ``schedule_fires``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import astuple, fields
from typing import Any, TypeVar

from rulebus.stores.base import BusStore, NotFound
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
from rulebus.stores.sqlite.connection import Connections
from rulebus.stores.sqlite.corrupt import (
    DECODE_ERRORS,
    damaged,
    decode_members,
    integer,
    json_object,
    logger,
    number,
    optional_json_object,
    optional_text,
    set_aside_row,
    text,
)

__all__ = ["SQLiteBusStore"]

_R = TypeVar("_R")
_ARCHIVE_REMEDY = "delete the archive (EventBus.delete_archive, which deletes its events too)"
_REPLAY_REMEDY = "delete its row from the 'replays' table (a replay's row is its history only)"


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
    arns = json.loads(text(values[_FILTER_ARNS], "filter_arns"))
    if not isinstance(arns, list):
        raise TypeError(f"filter_arns is JSON {type(arns).__name__}, not a list")
    values[_FILTER_ARNS] = tuple(text(arn, "filter_arns") for arn in arns)
    for column in ("name", "archive", "bus", "state"):
        text(values[_REPLAY_INDEX[column]], column)
    for column in ("event_start_time", "event_end_time", "replay_start_time"):
        number(values[_REPLAY_INDEX[column]], column)
    for column in ("replayed", "total"):
        integer(values[_REPLAY_INDEX[column]], column)
    return ReplayRecord(*values)


_REPLAY_INDEX = {f.name: index for index, f in enumerate(fields(ReplayRecord))}


# Decoding each table's rows: DECODE_ERRORS when a row cannot be decoded.


def _bus_from_row(row: Sequence[Any]) -> EventBusRecord:
    return EventBusRecord(
        text(row[0], "name"), number(row[1], "creation_time"), optional_text(row[2], "description")
    )


def _rule_from_row(row: Sequence[Any]) -> RuleRecord:
    bus, name, event_pattern, schedule_expression, state, description, creation_time = row
    return RuleRecord(
        text(bus, "bus"),
        text(name, "name"),
        optional_json_object(event_pattern, "event_pattern"),
        optional_text(schedule_expression, "schedule_expression"),
        text(state, "state"),
        optional_text(description, "description"),
        number(creation_time, "creation_time"),
    )


def _target_from_row(row: Sequence[Any]) -> TargetRecord:
    bus, rule, target_id, target = row
    text(json_object(target, "target").get("Arn"), "target's Arn")
    return TargetRecord(text(bus, "bus"), text(rule, "rule"), text(target_id, "target_id"), target)


def _archive_from_row(row: Sequence[Any]) -> ArchiveRecord:
    name, bus, event_pattern, retention_days, description, state, creation_time, *counts = row
    for value, column in zip(counts, ("event_count", "size_bytes")):
        integer(value, column)
    return ArchiveRecord(
        text(name, "name"),
        text(bus, "bus"),
        optional_json_object(event_pattern, "event_pattern"),
        integer(retention_days, "retention_days"),
        optional_text(description, "description"),
        text(state, "state"),
        number(creation_time, "creation_time"),
    )


def _decodes(decode: Callable[[Sequence[Any]], object], row: Sequence[Any]) -> bool:
    try:
        decode(row)
    except DECODE_ERRORS:
        return False
    return True


class SQLiteBusStore(BusStore):
    """Buses, rules, targets, archives and replays in the store's SQLite file: every write is one
    ``BEGIN IMMEDIATE`` transaction, so threads and processes on the file see one consistent
    state."""

    def __init__(self, connections: Connections) -> None:
        self._connection = connections.connection
        self._transaction = connections.transaction
        self._path = connections.path

    def _resource(
        self, decode: Callable[[Sequence[Any]], _R], row: Sequence[Any], table: str, kind: str, remedy: str
    ) -> _R:
        """The record of a resource's row, or StoreRowCorruptError naming it."""
        try:
            return decode(row)
        except DECODE_ERRORS as error:
            raise damaged(self._path, table, f"{kind} {row[0]!r}", error, remedy) from error

    def _listed(
        self, decode: Callable[[Sequence[Any]], _R], rows: Sequence[Sequence[Any]], table: str
    ) -> list[_R]:
        """A listing's records: a row that cannot be decoded is left out (with a warning), so the
        listing, and everything that reads it, works; the resource itself raises when used."""
        records: list[_R] = []
        for row in rows:
            try:
                records.append(decode(row))
            except DECODE_ERRORS as error:
                logger.warning("%s row %r cannot be decoded (%s): left out", table, row[0], error)
        return records

    @staticmethod
    def _version(connection: sqlite3.Connection, bus: str) -> int:
        row = connection.execute(
            "SELECT v.version FROM event_buses b JOIN bus_rules_versions v ON v.bus = b.name "
            "WHERE b.name = ?",
            (bus,),
        ).fetchone()
        return int(row[0]) if row is not None else -1

    @staticmethod
    def _bump_rules(connection: sqlite3.Connection, bus: str) -> None:
        connection.execute(
            "INSERT INTO bus_rules_versions (bus, version) VALUES (?, 1) "
            "ON CONFLICT (bus) DO UPDATE SET version = version + 1",
            (bus,),
        )

    def _insert_new(self, table: str, columns: str, row: Sequence[object]) -> bool:
        """Insert the row unless its key exists; whether it was inserted."""
        with self._transaction() as connection:
            placeholders = ", ".join("?" * len(row))
            cursor = connection.execute(
                f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({placeholders})", row
            )
            return bool(cursor.rowcount)

    def _select_named(self, table: str, columns: str, name: str) -> Sequence[Any] | None:
        row: Sequence[Any] | None = (
            self._connection().execute(f"SELECT {columns} FROM {table} WHERE name = ?", (name,)).fetchone()
        )
        return row

    # ------------------------------------------------------------------ buses

    def create_event_bus(self, record: EventBusRecord) -> bool:
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO event_buses (name, creation_time, description) VALUES (?, ?, ?)",
                (record.name, record.creation_time, record.description),
            )
            if not cursor.rowcount:
                return False
            self._bump_rules(connection, record.name)
            return True

    def get_event_bus(self, name: str) -> EventBusRecord | None:
        row = self._select_named("event_buses", "name, creation_time, description", name)
        if row is None:
            return None
        remedy = "delete the bus (Broker.delete_event_bus, which deletes its rules too) and create it again"
        return self._resource(_bus_from_row, row, "event_buses", "event bus", remedy)

    def delete_event_bus(self, name: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM targets WHERE bus = ?", (name,))
            connection.execute("DELETE FROM rules WHERE bus = ?", (name,))
            if connection.execute("DELETE FROM event_buses WHERE name = ?", (name,)).rowcount:
                self._bump_rules(connection, name)

    def event_bus_names(self) -> list[str]:
        rows = self._connection().execute("SELECT name FROM event_buses ORDER BY name").fetchall()
        return [row[0] for row in rows]

    # ------------------------------------------------------------------ rules and targets

    def _load_rule(
        self, connection: sqlite3.Connection, bus: str, name: str, writing: bool = True
    ) -> RuleRecord | None:
        """The rule, or None. A row that cannot be decoded is set aside (inside the caller's
        write transaction) and the bus's rules version moved; outside one (``writing`` False)
        the read is made again in a write transaction of its own."""
        row = connection.execute(
            f"SELECT seq, {_RULE_COLUMNS} FROM rules WHERE bus = ? AND name = ?", (bus, name)
        ).fetchone()
        if row is None:
            return None
        try:
            return _rule_from_row(row[1:])
        except DECODE_ERRORS as error:
            if not writing:
                with self._transaction() as connection:
                    return self._load_rule(connection, bus, name)
            if set_aside_row(connection, "rules", "seq = ?", (row[0],), bus, name, error):
                self._bump_rules(connection, bus)
            return None

    def put_rule(self, record: RuleRecord) -> RuleRecord:
        with self._transaction() as connection:
            if self._version(connection, record.bus) == -1:
                raise NotFound("bus", record.bus)
            self._load_rule(connection, record.bus, record.name)  # a damaged one set aside first
            # The upsert keeps the row (so its seq: creation order) and its first creation_time.
            connection.execute(
                f"INSERT INTO rules ({_RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (bus, name) DO UPDATE SET event_pattern = excluded.event_pattern, "
                "schedule_expression = excluded.schedule_expression, state = excluded.state, "
                "description = excluded.description",
                astuple(record),
            )
            self._bump_rules(connection, record.bus)
            stored = self._load_rule(connection, record.bus, record.name)
            assert stored is not None  # just written, in this transaction
            return stored

    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        return self._load_rule(self._connection(), bus, name, writing=False)

    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        with self._transaction() as connection:
            if self._load_rule(connection, bus, name) is None:
                return DeleteRuleResult.ABSENT
            if connection.execute(
                "SELECT 1 FROM targets WHERE bus = ? AND rule = ? LIMIT 1", (bus, name)
            ).fetchone():
                return DeleteRuleResult.HAS_TARGETS
            connection.execute("DELETE FROM rules WHERE bus = ? AND name = ?", (bus, name))
            self._bump_rules(connection, bus)
            return DeleteRuleResult.DELETED

    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        while True:
            with self._transaction("BEGIN") as connection:  # one snapshot: version, rules, targets agree
                version = self._version(connection, bus)
                if version == -1:
                    return -1, [], []
                rule_rows = connection.execute(
                    f"SELECT seq, {_RULE_COLUMNS} FROM rules WHERE bus = ? ORDER BY seq", (bus,)
                ).fetchall()
                target_rows = connection.execute(
                    "SELECT seq, bus, rule, target_id, target FROM targets WHERE bus = ? ORDER BY seq", (bus,)
                ).fetchall()
            rules, bad_rules = decode_members(_rule_from_row, rule_rows)
            targets, bad_targets = decode_members(_target_from_row, target_rows)
            if not bad_rules and not bad_targets:
                return version, rules, targets
            # Set aside in a write transaction of its own (each row read again there: it may have
            # been rewritten or set aside meanwhile), the rules version moved, then read again.
            with self._transaction() as connection:
                moved = False
                for table, decode, bad in (
                    ("rules", _rule_from_row, bad_rules),
                    ("targets", _target_from_row, bad_targets),
                ):
                    for seq, error in bad:
                        columns = _RULE_COLUMNS if table == "rules" else "bus, rule, target_id, target"
                        row = connection.execute(
                            f"SELECT {columns} FROM {table} WHERE seq = ?", (seq,)
                        ).fetchone()
                        if row is None or _decodes(decode, row):
                            continue
                        key = f"{row[1]}" if table == "rules" else f"{row[1]}/{row[2]}"
                        moved |= set_aside_row(connection, table, "seq = ?", (seq,), bus, key, error)
                if moved:
                    self._bump_rules(connection, bus)

    def rules_version(self, bus: str) -> int:
        return self._version(self._connection(), bus)

    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        with self._transaction() as connection:
            if self._load_rule(connection, bus, rule) is None:
                raise NotFound("rule", rule)
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
                self._bump_rules(connection, bus)
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
                self._bump_rules(connection, bus)

    # ------------------------------------------------------------------ archives

    def create_archive(self, record: ArchiveRecord) -> bool:
        return self._insert_new("archives", _ARCHIVE_COLUMNS, astuple(record))

    def get_archive(self, name: str) -> ArchiveRecord | None:
        row = self._select_named("archives", f"{_ARCHIVE_COLUMNS}, event_count, size_bytes", name)
        if row is None:
            return None
        return self._resource(_archive_from_row, row, "archives", "archive", _ARCHIVE_REMEDY)

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
        rows = (
            self._connection()
            .execute(f"SELECT {_ARCHIVE_COLUMNS}, event_count, size_bytes FROM archives ORDER BY name")
            .fetchall()
        )
        return self._listed(_archive_from_row, rows, "archives")

    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        rows = [(archive, event_time, archived_at, text, utf8_size(text)) for event_time, text in events]
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
        return self._insert_new("replays", _REPLAY_COLUMNS, _replay_row(record))

    def get_replay(self, name: str) -> ReplayRecord | None:
        row = self._select_named("replays", _REPLAY_COLUMNS, name)
        if row is None:
            return None
        return self._resource(_replay_from_row, row, "replays", "replay", _REPLAY_REMEDY)

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
        return self._listed(_replay_from_row, rows, "replays")

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
