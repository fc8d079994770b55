"""EventBridge archives and replays (EventBridge User Guide, 'Archiving and replaying events').

An archive keeps the events that reach its bus and match its pattern (all of them without one),
except replayed events, which are never archived again. Events are archived as they arrive
(AWS batches them minutes later; an emulator gains nothing by waiting), durably on the SQLite
store, and retention drops those older than ``RetentionDays`` (0 keeps them forever).

A replay re-sends an archive's events whose ``time`` falls in ``[EventStartTime, EventEndTime)``
to the archive's bus, oldest first, each with ``"replay-name"`` after ``region``, to every rule of
the bus or only to the rules named. It runs on its own thread, reading the archive in pages and
writing its progress to the store every 100 events: ``describe_replay`` shows it from any broker
on the store. ``cancel_replay`` (STARTING or RUNNING only) stops it before its next event when
called through the broker running it, and within 100 events when called through another. States go STARTING,
RUNNING, then COMPLETED, or CANCELLING then CANCELLED, or FAILED with a StateReason.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._core import Pattern
from rulebus._errors import InvalidPatternError
from rulebus._errors import constraint_error as _constraint
from rulebus.arn import archive_name as archive_arn_name
from rulebus.events.errors import ALREADY_EXISTS, INVALID_PATTERN, LIMIT_EXCEEDED, NOT_FOUND, VALIDATION
from rulebus.events.errors import error as _error
from rulebus.events.names import check_name
from rulebus.events.put_events import parse_event_time
from rulebus.stores.records import ArchiveRecord, ReplayRecord

if TYPE_CHECKING:
    from rulebus.context import Context
    from rulebus.events.bus import EventBus

__all__ = ["Archives"]

ILLEGAL_STATUS = "IllegalStatusException"

ACTIVE_REPLAY_STATES = ("STARTING", "RUNNING")
MAX_CONCURRENT_REPLAYS = 10
REPLAY_PAGE = 1000
#: A running replay writes its progress to the store (where other brokers see it and their
#: cancels reach it) every this many events.
PROGRESS_EVERY = 100
#: Retention is enforced when archiving at most this often (seconds of the broker's clock).
RETENTION_SWEEP_SECONDS = 60.0


def _seconds(value: Any, name: str) -> float:
    """A time given as a datetime (naive means UTC) or epoch seconds."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"{name} must be a datetime or epoch seconds, not {type(value).__name__}")


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _pattern_text(event_pattern: Any) -> str | None:
    if event_pattern is None:
        return None
    if isinstance(event_pattern, str):
        text = event_pattern
    else:
        text = validation.json_text(event_pattern, "eventPattern", validation.EVENTS)
    try:
        Pattern(validation.engine_text(text))
    except InvalidPatternError as error:
        raise _error(INVALID_PATTERN, str(error)) from None
    return text


def _with_replay_name(event: dict[str, Any], replay: str) -> dict[str, Any]:
    """The event as a replay delivers it: ``replay-name`` right after ``region`` (as recorded on AWS;
    docs/semantics.md, 'Archives and replays')."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key != "replay-name":
            out[key] = value
        if key == "region":
            out["replay-name"] = replay
    return out


class Archives:
    """The broker's archives and replays: what ``EventBus``'s archive and replay methods call."""

    def __init__(self, context: Context) -> None:
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self._patterns: dict[str, Pattern] = {}
        self._swept: dict[str, float] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._cancelled: dict[str, threading.Event] = {}  # replays cancelled through this broker

    def _arn(self, name: str) -> str:
        return f"arn:aws:events:{self._region}:{self._account}:archive/{name}"

    def _replay_arn(self, name: str) -> str:
        return f"arn:aws:events:{self._region}:{self._account}:replay/{name}"

    def _record(self, name: str) -> ArchiveRecord:
        record = self._store.buses.get_archive(name)
        if record is None:
            raise _error(NOT_FOUND, f"Archive {name} does not exist.")
        return record

    # ------------------------------------------------------------------ archives

    def create(
        self,
        bus: EventBus,
        name: str,
        event_pattern: Any = None,
        retention_days: int = 0,
        description: str | None = None,
    ) -> dict[str, Any]:
        check_name(name, "archiveName", 48)  # the charset of rule names, shorter
        _check_retention(retention_days)
        pattern = _pattern_text(event_pattern)
        bus.check_exists()
        record = ArchiveRecord(
            name=name,
            bus=bus.name,
            event_pattern=pattern,
            retention_days=retention_days,
            description=description,
            state="ENABLED",
            creation_time=self._clock(),
        )
        if not self._store.buses.create_archive(record):
            raise _error(ALREADY_EXISTS, f"Archive {name} already exists.")
        return {
            "ArchiveArn": self._arn(name),
            "State": "ENABLED",
            "CreationTime": _datetime(record.creation_time),
        }

    def describe(self, name: str) -> dict[str, Any]:
        record = self._record(name)
        self._sweep(record, force=True)
        count, size = self._store.buses.archive_stats(name)
        described: dict[str, Any] = {
            "ArchiveArn": self._arn(name),
            "ArchiveName": name,
            "EventSourceArn": self._bus_arn(record.bus),
        }
        if record.description is not None:
            described["Description"] = record.description
        if record.event_pattern is not None:
            described["EventPattern"] = record.event_pattern
        described.update(
            State=record.state,
            RetentionDays=record.retention_days,
            SizeBytes=size,
            EventCount=count,
            CreationTime=_datetime(record.creation_time),
        )
        return described

    def _bus_arn(self, bus: str) -> str:
        return f"arn:aws:events:{self._region}:{self._account}:event-bus/{bus}"

    def update(
        self,
        name: str,
        event_pattern: Any = None,
        retention_days: int | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        record = self._record(name)
        if event_pattern is None and retention_days is None and description is None:
            raise _error(
                VALIDATION, "At least one of EventPattern, RetentionDays or Description must be provided."
            )
        changes: dict[str, Any] = {}
        if event_pattern is not None:
            changes["event_pattern"] = _pattern_text(event_pattern)
        if retention_days is not None:
            _check_retention(retention_days)
            changes["retention_days"] = retention_days
        if description is not None:
            changes["description"] = description
        updated = replace(record, **changes)
        self._store.buses.update_archive(updated)
        return {
            "ArchiveArn": self._arn(name),
            "State": updated.state,
            "CreationTime": _datetime(record.creation_time),
        }

    def delete(self, name: str) -> None:
        if not self._store.buses.delete_archive(name):
            raise _error(NOT_FOUND, f"Archive {name} does not exist.")

    def list_archives(
        self, bus: EventBus, name_prefix: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        listed = []
        for record in self._store.buses.archives():
            if record.bus != bus.name or (name_prefix and not record.name.startswith(name_prefix)):
                continue
            if state is not None and record.state != state:
                continue
            count, size = self._store.buses.archive_stats(record.name)
            listed.append(
                {
                    "ArchiveName": record.name,
                    "EventSourceArn": self._bus_arn(record.bus),
                    "State": record.state,
                    "RetentionDays": record.retention_days,
                    "SizeBytes": size,
                    "EventCount": count,
                    "CreationTime": _datetime(record.creation_time),
                }
            )
        return listed

    def records(self, bus: EventBus) -> list[ArchiveRecord]:
        """The bus's enabled archives (what ``archive`` looks at), to look up once per batch."""
        return [r for r in self._store.buses.archives() if r.bus == bus.name and r.state == "ENABLED"]

    def archive(
        self,
        bus: EventBus,
        event: Mapping[str, Any],
        text: str,
        ingestion: float,
        records: list[ArchiveRecord] | None = None,
    ) -> None:
        """Keep an event that reached ``bus`` in each of the bus's enabled archives it matches
        (``records``: those archives, if the caller looked them up already)."""
        for record in self.records(bus) if records is None else records:
            if record.event_pattern is not None and not self._pattern(record.event_pattern).matches(text):
                continue
            when = parse_event_time(event.get("time"))
            self._store.buses.add_archived_events(
                record.name, [(ingestion if when is None else when, text)], ingestion
            )
            self._sweep(record)

    def _pattern(self, text: str) -> Pattern:
        compiled = self._patterns.get(text)
        if compiled is None:
            compiled = self._patterns[text] = Pattern(text)
        return compiled

    def _sweep(self, record: ArchiveRecord, force: bool = False) -> None:
        """Retention: drop events archived more than RetentionDays ago (checked once a minute)."""
        if record.retention_days == 0:
            return
        now = self._clock()
        if not force and now - self._swept.get(record.name, float("-inf")) < RETENTION_SWEEP_SECONDS:
            return
        self._swept[record.name] = now
        self._store.buses.trim_archive(record.name, now - record.retention_days * 86_400)

    # ------------------------------------------------------------------ replays

    def start_replay(
        self,
        bus: EventBus,
        name: str,
        archive: str,
        start_time: Any,
        end_time: Any,
        rules: Iterable[str] | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        check_name(name, "replayName", 64)
        archive_name = archive_arn_name(archive) or archive
        record = self._store.buses.get_archive(archive_name)
        if record is None:
            raise _error(
                VALIDATION,
                f"Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist.",
            )
        if record.bus != bus.name:
            raise _error(
                VALIDATION,
                "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
            )
        start, end = _seconds(start_time, "start_time"), _seconds(end_time, "end_time")
        if start >= end:
            raise _error(
                VALIDATION,
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
            )
        filter_arns = tuple(self._rule_arns(bus, rules))
        active = [r for r in self._store.buses.replays() if r.state in ACTIVE_REPLAY_STATES]
        if len(active) >= MAX_CONCURRENT_REPLAYS:
            # AWS's code; the text is ours (AWS documents none).
            raise _error(LIMIT_EXCEEDED, f"At most {MAX_CONCURRENT_REPLAYS} replays can run at a time.")
        now = self._clock()
        self._sweep(record, force=True)
        replay = ReplayRecord(
            name=name,
            archive=archive_name,
            bus=bus.name,
            description=description,
            event_start_time=start,
            event_end_time=end,
            filter_arns=filter_arns,
            state="STARTING",
            state_reason=None,
            replay_start_time=now,
        )
        if not self._store.buses.create_replay(replay):
            raise _error(ALREADY_EXISTS, f"Replay {name} already exists.")
        thread = threading.Thread(
            target=self._run, args=(bus, name), name=f"rulebus-replay:{name}", daemon=True
        )
        self._threads[name] = thread
        thread.start()
        return {
            "ReplayArn": self._replay_arn(name),
            "State": "STARTING",
            "ReplayStartTime": _datetime(now),
        }

    def _rule_arns(self, bus: EventBus, rules: Iterable[str] | None) -> Iterable[str]:
        """Destination.FilterArns from rule names or ARNs; each must be a rule of the bus."""
        for rule in rules or ():
            name = rule.rsplit("/", 1)[-1] if rule.startswith("arn:") else rule
            if self._store.buses.get_rule(bus.name, name) is None:
                # Our wording, in the style of the other Destination texts.
                raise _error(
                    VALIDATION,
                    f"Parameter Destination.FilterArns is not valid. Reason: Rule {name} does not exist.",
                )
            yield bus.rule_arn(name)

    def _run(self, bus: EventBus, name: str) -> None:
        try:
            self._replay(bus, name)
        except Exception as error:  # a replay that breaks says why, it never takes the process down
            record = self._store.buses.get_replay(name)
            if record is not None:
                failed = replace(record, state="FAILED", state_reason=f"{type(error).__name__}: {error}")
                self._store.buses.update_replay(failed, ACTIVE_REPLAY_STATES)

    def _replay(self, bus: EventBus, name: str) -> None:
        store = self._store
        record = store.buses.get_replay(name)
        assert record is not None
        total = _window_count(store, record)
        record = replace(record, state="RUNNING", total=total)
        if not store.buses.update_replay(record, ("STARTING",)):
            self._finish_cancel(name)
            return
        rules = [arn.rsplit("/", 1)[-1] for arn in record.filter_arns] or None
        cancelled = self._cancelled.setdefault(name, threading.Event())
        after: tuple[float, int] | None = None
        while True:
            page = store.buses.archived_events(
                record.archive, record.event_start_time, record.event_end_time, after
            )
            if not page:
                break
            for archived in page:
                # A cancel from this process is seen before the next event; one from another
                # process when the progress is next written (every PROGRESS_EVERY events).
                if cancelled.is_set():
                    self._finish_cancel(name, record)
                    return
                event = _with_replay_name(json.loads(archived.event), name)
                bus.ingest(event, replay=name, only_rules=rules)
                record = replace(
                    record,
                    replayed=record.replayed + 1,
                    event_last_replayed_time=archived.event_time,
                    last_event_time=archived.event_time,
                    last_seq=archived.seq,
                )
                if record.replayed % PROGRESS_EVERY == 0 and not store.buses.update_replay(
                    record, ("RUNNING",)
                ):
                    self._finish_cancel(name, record)  # cancelled by another broker
                    return
            after = (page[-1].event_time, page[-1].seq)
        done = replace(record, state="COMPLETED", replay_end_time=self._clock())
        if not store.buses.update_replay(done, ("RUNNING",)):
            self._finish_cancel(name)

    def _finish_cancel(self, name: str, progress: ReplayRecord | None = None) -> None:
        """CANCELLING becomes CANCELLED, keeping the progress of the event delivered last."""
        record = self._store.buses.get_replay(name)
        if record is not None and record.state == "CANCELLING":
            if progress is not None:
                record = replace(
                    record,
                    replayed=progress.replayed,
                    event_last_replayed_time=progress.event_last_replayed_time,
                    last_event_time=progress.last_event_time,
                    last_seq=progress.last_seq,
                )
            ended = replace(record, state="CANCELLED", replay_end_time=self._clock())
            self._store.buses.update_replay(ended, ("CANCELLING",))

    def cancel_replay(self, name: str) -> dict[str, Any]:
        record = self._store.buses.get_replay(name)
        if record is None:
            raise _error(NOT_FOUND, f"Replay {name} does not exist.")
        cancelling = replace(record, state="CANCELLING")
        if not self._store.buses.update_replay(cancelling, ACTIVE_REPLAY_STATES):
            current = self._store.buses.get_replay(name)
            state = current.state if current is not None else record.state
            # AWS's code; our wording (AWS documents no text for this).
            raise _error(
                ILLEGAL_STATUS, f"Replay {name} is not in a valid state for this operation ({state})."
            )
        self._cancelled.setdefault(name, threading.Event()).set()  # after the store says CANCELLING
        return {"ReplayArn": self._replay_arn(name), "State": "CANCELLING"}

    def describe_replay(self, name: str) -> dict[str, Any]:
        record = self._store.buses.get_replay(name)
        if record is None:
            raise _error(NOT_FOUND, f"Replay {name} does not exist.")
        described: dict[str, Any] = {"ReplayName": name, "ReplayArn": self._replay_arn(name)}
        if record.description is not None:
            described["Description"] = record.description
        described["State"] = record.state
        if record.state_reason is not None:
            described["StateReason"] = record.state_reason
        described["EventSourceArn"] = self._arn(record.archive)
        destination: dict[str, Any] = {"Arn": self._bus_arn(record.bus)}
        if record.filter_arns:
            destination["FilterArns"] = list(record.filter_arns)
        described["Destination"] = destination
        described["EventStartTime"] = _datetime(record.event_start_time)
        described["EventEndTime"] = _datetime(record.event_end_time)
        if record.event_last_replayed_time is not None:
            described["EventLastReplayedTime"] = _datetime(record.event_last_replayed_time)
        described["ReplayStartTime"] = _datetime(record.replay_start_time)
        if record.replay_end_time is not None:
            described["ReplayEndTime"] = _datetime(record.replay_end_time)
        # rulebus's own progress fields (AWS shows only EventLastReplayedTime).
        described["ReplayedEventCount"] = record.replayed
        described["TotalEventCount"] = record.total
        return described

    def list_replays(
        self, bus: EventBus, name_prefix: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        listed = []
        for record in self._store.buses.replays():
            if record.bus != bus.name or (name_prefix and not record.name.startswith(name_prefix)):
                continue
            if state is not None and record.state != state:
                continue
            entry = self.describe_replay(record.name)
            listed.append({key: entry[key] for key in _LIST_REPLAY_KEYS if key in entry})
        return listed

    def wait_for_replay(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until this process's replay thread for ``name`` ends; the replay as described."""
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)
        return self.describe_replay(name)


_LIST_REPLAY_KEYS = (
    "ReplayName",
    "EventSourceArn",
    "State",
    "StateReason",
    "EventStartTime",
    "EventEndTime",
    "EventLastReplayedTime",
    "ReplayStartTime",
    "ReplayEndTime",
)


def _check_retention(days: Any) -> None:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"retention_days must be int, not {type(days).__name__}")
    if days < 0:
        raise _constraint(days, "retentionDays", "Member must have value greater than or equal to 0")


def _window_count(store: Any, record: ReplayRecord) -> int:
    """How many archived events fall in the replay's window (paged, so a million is fine)."""
    count = 0
    after: tuple[float, int] | None = None
    while True:
        page: Sequence[Any] = store.buses.archived_events(
            record.archive, record.event_start_time, record.event_end_time, after, 10_000
        )
        if not page:
            return count
        count += len(page)
        after = (page[-1].event_time, page[-1].seq)
