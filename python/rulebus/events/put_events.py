"""PutEvents: the request, its entries and the events they become (EventBridge API Reference,
PutEvents; EventBridge User Guide, 'Amazon EventBridge events' for the envelope, and
'Calculating Amazon EventBridge PutEvents event entry size' for the size limit).

A request is checked whole first (the request model, 1-10 entries, DetailType's length, the
total size), and refused whole when it fails; then each entry becomes an event or fails alone,
with AWS's per-entry ErrorCode and ErrorMessage (a missing member, a malformed Detail, a source
claiming AWS). The usual request (entries of exactly Source, DetailType and Detail) passes every
request check by its shape: the engine reads it, mints its ids and routes it in one call
(``RuleSet.route_common``), which ``EventBus.put_events`` tries first; it declines any other.

An accepted event is known by the text the engine wrote around its detail (``LazyEvent``): most
deliveries need only that, so Python parses an event only when a target reshapes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from rulebus import _jsontext as jsontext
from rulebus import validation
from rulebus._errors import constraint_error as _constraint
from rulebus.events.errors import VALIDATION, error
from rulebus.stores.receipts import new_message_id

if TYPE_CHECKING:
    from rulebus.events.bus import EventBus

__all__ = [
    "DEFAULT_MAX_EVENTS_SIZE",
    "MAX_DETAIL_TYPE_LENGTH",
    "MAX_PUT_EVENTS_ENTRIES",
    "EntryError",
    "EntryFields",
    "Gathering",
    "LazyEvent",
    "PlainDeliveries",
    "Routed",
    "check_request",
    "compact",
    "entry_fields",
    "entry_size",
    "entry_time",
    "event_time",
    "event_time_now",
    "malformed_detail",
    "not_authorized_for_source",
    "parse_event_time",
    "plain",
    "route_entries",
]

#: AWS's limits; the engine's reader of the usual request (``RuleSet.route_common``) holds the
#: same two.
MAX_PUT_EVENTS_ENTRIES = 10
MAX_DETAIL_TYPE_LENGTH = 128
#: PutEvents' request size limit: 1 MB since 2026-01-29 (AWS Compute Blog, 'More room to build:
#: serverless services now support payloads up to 1 MB'; 2^20 here, unverified).
DEFAULT_MAX_EVENTS_SIZE = 1_048_576

#: An entry as the engine takes it: ``(id, detail_type, source, time, resources, detail)``.
EntryFields = tuple[str, str, str, str, list[str], str]

#: The queue deliveries of a usual request's events, planned by ``RuleSet.route_common`` when all
#: are plain (``BusDelivery.deliver_plain``): ``(queue, text)`` per delivery, the deliveries per
#: queue, how many events matched a rule, how many rules they triggered, the longest text.
PlainDeliveries = tuple[list[tuple[str, str]], dict[str, int], int, int, int]

#: A usual request as ``RuleSet.route_common`` routed it: how many entries failed; per entry
#: ``{"EventId": id}``, or None (a malformed detail) or False (a source claiming AWS);
#: ``(id, text, names of the rules it matched)`` per accepted event, in order; and their plain
#: deliveries, or None when one is not plain.
Routed = tuple[int, list[Any], list[tuple[str, str, list[str]]], PlainDeliveries | None]

compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


# --------------------------------------------------------------------------------------------
# Event time.


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


def entry_time(value: Any, now: float) -> float:
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
    raise error(VALIDATION, f"Parameter Time is not valid: {validation.shown(value)}")  # our wording


# The last event_time(now) put_events wrote, by whole second: a call's events share their time,
# and strftime costs more than the rest of an entry's checks. One tuple, replaced whole, so
# threads read a consistent pair.
_LAST_TIME: tuple[int, str] = (0, event_time(0))


def event_time_now(now: float) -> str:
    """``event_time(now)``, remembered for the second."""
    global _LAST_TIME
    second, text = _LAST_TIME
    if int(now) != second:
        text = event_time(now)
        _LAST_TIME = (int(now), text)
    return text


# --------------------------------------------------------------------------------------------
# The request.


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


# The members of PutEventsRequestEntry (botocore's EventBridge model).
_PUT_EVENTS_ENTRY = frozenset(
    ("Time", "Source", "Resources", "DetailType", "Detail", "EventBusName", "TraceHeader")
)
_TEXT_MEMBERS = (
    ("Source", "source"),
    ("DetailType", "detailType"),
    ("Detail", "detail"),
    ("TraceHeader", "traceHeader"),
)


def _check_entries(entries: Any) -> None:
    """PutEvents' request model, on the general path (``RuleSet.route_common`` vouches for the
    usual entries): a list of mappings of PutEventsRequestEntry's members, each of its type. Text
    with a lone surrogate is left to fail its entry alone, as a malformed one."""
    from rulebus.events.bus import EventBus  # an entry may name its bus by the object

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


def check_request(entries: Any, limit: int) -> None:
    """The request checks of the general path, which refuse the whole request: the request
    model, 1-10 entries, each DetailType within 128 characters, at most ``limit`` bytes in all."""
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
    if _over_size(entries, limit):
        raise error(VALIDATION, "Total size of the entries in the request is over the limit.")


# --------------------------------------------------------------------------------------------
# Entries and their results.


class EntryError(Exception):
    """An entry that fails alone: its result's ErrorCode and ErrorMessage."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def entry_fields(entry: Mapping[str, Any], now: float, now_text: str) -> EntryFields:
    """A PutEvents entry's members for the engine, ``(id, detail_type, source, time, resources,
    detail)``, or EntryError with the per-entry texts of a missing member."""
    source, detail_type, detail = entry.get("Source"), entry.get("DetailType"), entry.get("Detail")
    if not (source and detail_type and detail):  # None or "": which one, in AWS's order
        for name, value in (("Source", source), ("DetailType", detail_type), ("Detail", detail)):
            if value is None or value == "":
                raise EntryError(
                    "InvalidArgument",
                    f"Parameter {name} is not valid. Reason: {name} is a required argument.",
                )
    # Members' types were checked with the request (_check_entries).
    assert isinstance(source, str) and isinstance(detail_type, str) and isinstance(detail, str)
    resources = entry.get("Resources") or []
    time = now_text if entry.get("Time") is None else event_time(entry_time(entry["Time"], now))
    # Event ids are made as message ids are: UUID-shaped, unique across processes.
    return new_message_id(), detail_type, source, time, list(resources), detail


def malformed_detail() -> dict[str, Any]:
    """The result of an entry whose Detail is not a JSON object (or carries a lone surrogate)."""
    return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}


def not_authorized_for_source() -> dict[str, Any]:
    """The result of an entry whose source claims AWS: custom events cannot (EventBridge User
    Guide, 'Amazon EventBridge events'); AWS's per-entry code."""
    return {"ErrorCode": "NotAuthorizedForSourceException", "ErrorMessage": "Not authorized for the source."}


def route_entries(
    fields: list[tuple[int, EventBus, EntryFields]], results: list[dict[str, Any]]
) -> list[tuple[EventBus, LazyEvent, list[str]]]:
    """Write and match the events of the valid entries (each ``(index in results, its bus, its
    fields)``): one engine call per bus (``EventBus.route_events``). Fills in ``results`` (an
    entry whose detail is malformed, or whose source claims AWS, fails) and returns the
    accepted events in entry order, with the rules each matched."""
    routed: dict[int, tuple[str, list[str]] | None] = {}
    for bus in {id(bus): bus for _, bus, _ in fields}.values():
        mine = [(index, entry) for index, entry_bus, entry in fields if entry_bus is bus]
        out = bus.route_events([entry for _, entry in mine])
        routed.update((index, result) for (index, _), result in zip(mine, out))
    accepted = []
    for index, bus, (event_id, _, source, time, _, _) in fields:
        result = routed[index]
        if result is None:
            results[index] = malformed_detail()
        elif source.startswith("aws."):
            results[index] = not_authorized_for_source()
        else:
            text, matched = result
            results[index] = {"EventId": event_id}
            accepted.append((bus, LazyEvent(text, event_id, time), matched))
    return accepted


# --------------------------------------------------------------------------------------------
# Accepted events.


class LazyEvent(Mapping[str, Any]):
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
            self._data = jsontext.loads(self.text)
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


def plain(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as a dict (what input shaping and JSON writers take)."""
    return event.data if isinstance(event, LazyEvent) else dict(event)


#: What ``Gathering.open`` hands back for ``Gathering.close``: the enclosing call's gathering.
Saved = tuple[Any, Any]


class Gathering(threading.local):
    """What one put_events call gathers on a bus, kept per thread (threads may share a bus): the
    queue deliveries it stores together at the end, and the bus's archives, looked up once
    (None: not inside put_events). A callable target may put events on the same bus from inside
    the call: that call's gathering is its own, and the enclosing one comes back after it."""

    pending: list[tuple[Any, ...]] | None = None
    archive_records: list[Any] | None = None

    def open(self, archive_records: list[Any]) -> Saved:
        """Start a call's gathering; returns the enclosing one's, for ``close``."""
        saved = self.pending, self.archive_records
        self.pending = []
        self.archive_records = archive_records
        return saved

    def close(self, saved: Saved) -> list[tuple[Any, ...]]:
        """End a call's gathering (the enclosing one back); returns its queue deliveries."""
        gathered = self.pending or []
        self.pending, self.archive_records = saved
        return gathered
