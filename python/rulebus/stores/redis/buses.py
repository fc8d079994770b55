"""The Redis store's event buses, rules, targets, archives, replays and schedule claims: each
step a Lua script on the keys of one bus (``lua/buses.lua``), one archive (``lua/archives.lua``)
or the replays (``lua/replays.lua``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

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
from rulebus.stores.redis.connection import Connection, ScriptError
from rulebus.stores.redis.records import from_json, to_json
from rulebus.stores.semantics import utf8_size

__all__ = ["RedisBusStore"]

_VERSION_BITS = 32  # as the topics' versions: see rulebus.stores.redis.topics


def _present(db: Connection, names: list[str], meta: Any) -> list[str]:
    flags = db.pipelined([("HGET", meta(name), "exists") for name in names])
    return [name for name, flag in zip(names, flags) if flag == "1"]


class RedisBusStore(BusStore):
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._buses = connection.key("{rb}:buses")
        self._creations = connection.key("{rb}:bus-creations")
        self._archives = connection.key("{rb}:archives")
        self._replays = [connection.key("{rp}:replays"), connection.key("{rp}:order")]

    def _bus(self, name: str) -> str:
        return self._db.key(f"{{b:{name}}}:meta")

    def _archive(self, name: str) -> str:
        return self._db.key(f"{{a:{name}}}:meta")

    def _step(self, bus: str, *args: Any) -> Any:
        try:
            return self._db.run("buses", [self._bus(bus)], list(args))
        except ScriptError as error:
            if error.code == "RULEBUS_NOT_FOUND":
                raise NotFound(error.detail or "bus", args[1] if error.detail == "rule" else bus) from None
            raise

    # ------------------------------------------------------------------ buses

    def create_event_bus(self, record: EventBusRecord) -> bool:
        self._db.call("SADD", self._buses, record.name)
        first = int(self._db.call("INCR", self._creations)) << _VERSION_BITS
        return bool(self._step(record.name, "create", to_json(record), str(first)))

    def get_event_bus(self, name: str) -> EventBusRecord | None:
        exists, text = self._db.call("HMGET", self._bus(name), "exists", "record")
        return from_json(EventBusRecord, text) if exists == "1" else None

    def delete_event_bus(self, name: str) -> None:
        self._step(name, "delete")
        self._db.call("SREM", self._buses, name)

    def event_bus_names(self) -> list[str]:
        return _present(self._db, sorted(self._db.call("SMEMBERS", self._buses)), self._bus)

    # ------------------------------------------------------------------ rules and targets

    def put_rule(self, record: RuleRecord) -> RuleRecord:
        created = self._step(record.bus, "put_rule", record.name, to_json(record), repr(record.creation_time))
        return replace(record, creation_time=float(created))

    def get_rule(self, bus: str, name: str) -> RuleRecord | None:
        base = self._bus(bus)[: -len("meta")]
        text, created = self._db.pipelined([("HGET", base + "rules", name), ("HGET", base + "created", name)])
        if text is None or created is None:
            return None
        return replace(from_json(RuleRecord, text), creation_time=float(created))

    def delete_rule(self, bus: str, name: str) -> DeleteRuleResult:
        return DeleteRuleResult(self._step(bus, "delete_rule", name))

    def rules(self, bus: str) -> tuple[int, list[RuleRecord], list[TargetRecord]]:
        answer = self._step(bus, "rules")
        version = int(answer[0])
        if version < 0:
            return -1, [], []
        count = int(answer[1])
        rules = [
            replace(from_json(RuleRecord, answer[2 + 2 * i]), creation_time=float(answer[3 + 2 * i]))
            for i in range(count)
        ]
        targets = [from_json(TargetRecord, text) for text in answer[2 + 2 * count :]]
        return version, rules, targets

    def rules_version(self, bus: str) -> int:
        exists, version = self._db.call("HMGET", self._bus(bus), "exists", "version")
        return int(version) if exists == "1" else -1

    def put_targets(self, bus: str, rule: str, targets: Sequence[TargetRecord], limit: int) -> list[str]:
        args: list[str] = ["put_targets", rule, str(limit)]
        for target in targets:
            args += [target.target_id, to_json(replace(target, bus=bus, rule=rule))]
        return list(self._step(bus, *args))

    def remove_targets(self, bus: str, rule: str, target_ids: Sequence[str]) -> None:
        if target_ids:
            self._step(bus, "remove_targets", rule, *target_ids)

    # ------------------------------------------------------------------ archives

    def _archive_step(self, name: str, *args: Any) -> Any:
        return self._db.run("archives", [self._archive(name)], list(args))

    def create_archive(self, record: ArchiveRecord) -> bool:
        self._db.call("SADD", self._archives, record.name)
        return bool(self._archive_step(record.name, "create", to_json(record)))

    def get_archive(self, name: str) -> ArchiveRecord | None:
        exists, text = self._db.call("HMGET", self._archive(name), "exists", "record")
        return from_json(ArchiveRecord, text) if exists == "1" else None

    def update_archive(self, record: ArchiveRecord) -> bool:
        return bool(self._archive_step(record.name, "update", to_json(record)))

    def delete_archive(self, name: str) -> bool:
        deleted = bool(self._archive_step(name, "delete"))
        self._db.call("SREM", self._archives, name)
        return deleted

    def archives(self) -> list[ArchiveRecord]:
        names = _present(self._db, sorted(self._db.call("SMEMBERS", self._archives)), self._archive)
        found = [self.get_archive(name) for name in names]
        return [record for record in found if record is not None]

    def add_archived_events(
        self, archive: str, events: Sequence[tuple[float, str]], archived_at: float
    ) -> None:
        args: list[str] = ["add", repr(float(archived_at))]
        for event_time, text in events:
            args += [
                repr(float(event_time)),
                json.dumps([event_time, archived_at, text]),
                str(utf8_size(text)),
            ]
        self._archive_step(archive, *args)

    def archive_stats(self, archive: str) -> tuple[int, int]:
        exists, count, size = self._db.call("HMGET", self._archive(archive), "exists", "count", "size")
        return (int(count), int(size)) if exists == "1" else (0, 0)

    def archived_events(
        self,
        archive: str,
        start: float,
        end: float,
        after: tuple[float, int] | None = None,
        limit: int = 1000,
    ) -> list[ArchivedEvent]:
        if limit <= 0:
            return []
        after_time, after_seq = ("", "0") if after is None else (repr(float(after[0])), str(after[1]))
        answer = self._archive_step(
            archive, "events", repr(float(start)), repr(float(end)), after_time, after_seq, str(limit)
        )
        events: list[ArchivedEvent] = []
        for i in range(0, len(answer), 3):
            event_time, archived_at, text = json.loads(answer[i + 2])
            events.append(
                ArchivedEvent(int(answer[i]), float(event_time), float(archived_at), text, utf8_size(text))
            )
        return events

    def trim_archive(self, archive: str, archived_before: float) -> int:
        return int(self._archive_step(archive, "trim", repr(float(archived_before))))

    # ------------------------------------------------------------------ replays

    def create_replay(self, record: ReplayRecord) -> bool:
        return bool(self._db.run("replays", self._replays, ["create", record.name, to_json(record)]))

    def get_replay(self, name: str) -> ReplayRecord | None:
        text = self._db.call("HGET", self._replays[0], name)
        return from_json(ReplayRecord, text) if text is not None else None

    def update_replay(self, record: ReplayRecord, expected_states: Sequence[str] = ()) -> bool:
        args = ["update", record.name, to_json(record), *expected_states]
        return bool(self._db.run("replays", self._replays, args))

    def replays(self) -> list[ReplayRecord]:
        names = self._db.call("ZRANGE", self._replays[1], 0, -1)
        texts = self._db.call("HMGET", self._replays[0], *names) if names else []
        created = [from_json(ReplayRecord, text) for text in texts if text is not None]
        # Newest first; among equal start times the later created first (the sort is stable).
        return sorted(reversed(created), key=lambda replay: replay.replay_start_time, reverse=True)

    # ------------------------------------------------------------------ schedules

    def claim_schedule_fire(self, bus: str, rule: str, fire_time: float) -> bool:
        return bool(self._db.run("buses", [self._bus(bus)], ["fire", rule, repr(float(fire_time))]))
