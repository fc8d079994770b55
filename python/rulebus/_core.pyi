"""Type stubs of the native module (rust/python)."""

from collections.abc import Iterable, Mapping
from typing import Any, Literal, final

from typing_extensions import TypeAlias, TypeGuard

from rulebus.stores.records import QueueRecord

__all__ = [
    "DeliveryCounter",
    "FanOut",
    "FilterPolicy",
    "JsonReader",
    "JsonWriter",
    "MemoryQueue",
    "Pattern",
    "QueryReader",
    "RuleSet",
    "StoredMessage",
    "Tokens",
    "decode_form",
    "is_plain_body",
    "put_notifications",
    "put_plain_many",
    "sns_attributes_tail",
    "sns_confirmation_text",
    "sns_json_string",
    "sns_notification_head",
    "test_event_pattern",
]

_JsonInput: TypeAlias = str | bytes | bytearray | memoryview | Mapping[str, Any]

@final
class Pattern:
    """An EventBridge event pattern, validated and compiled once, matched many times."""

    def __new__(cls, pattern: _JsonInput) -> Pattern: ...
    @property
    def text(self) -> str:
        """The pattern's JSON text as given (or as serialised from a mapping)."""
    def matches(self, event: _JsonInput) -> bool:
        """Whether the event matches, with EventBridge's semantics (array-consistent)."""
    def explain(self, event: _JsonInput) -> list[dict[str, Any]]:
        """Why the event does not match: one dict per failing condition, with keys "branch"
        (the ``$or`` branch), "path", "operator", "expected" (the pattern's values), "actual"
        (the event's values there, empty when absent) and "message"; empty when it matches."""

@final
class FilterPolicy:
    """An SNS subscription filter policy for one scope."""

    def __new__(
        cls,
        policy: _JsonInput,
        scope: Literal["MessageAttributes", "MessageBody"] = "MessageAttributes",
    ) -> FilterPolicy: ...
    @property
    def text(self) -> str: ...
    @property
    def scope(self) -> str: ...
    def matches(
        self,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        body: _JsonInput | None = None,
    ) -> bool:
        """Whether SNS would deliver the message: ``attributes`` for MessageAttributes scope
        (notification form ``{"Type", "Value"}`` or boto3's ``{"DataType", "StringValue"}``),
        ``body`` for MessageBody scope."""
    def explain(
        self,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        body: _JsonInput | None = None,
    ) -> list[dict[str, Any]]:
        """Why SNS would not deliver the message (the arguments as for :meth:`matches`): one
        dict per failing condition, as :meth:`Pattern.explain` gives them; empty when it
        would."""

_Message: TypeAlias = _JsonInput | tuple[_JsonInput | None, Mapping[str, Mapping[str, Any]] | None]

@final
class RuleSet:
    """Many named rules of one dialect ("eventbridge" patterns or "sns" filter policies),
    compiled together and matched at once."""

    def __new__(cls, dialect: Literal["eventbridge", "sns"] = "eventbridge") -> RuleSet: ...
    @property
    def dialect(self) -> str: ...
    def add(
        self,
        name: str,
        pattern: _JsonInput,
        scope: Literal["MessageAttributes", "MessageBody"] | None = None,
    ) -> None:
        """Adds a rule or replaces the rule of that name; a bad pattern raises and changes
        nothing. ``scope`` is the filter policy scope of the sns dialect."""
    def remove(self, name: str) -> None:
        """Removes the rule of that name (``NotFound``, a ``KeyError``, if there is none)."""
    def __len__(self) -> int: ...
    def __contains__(self, key: str, /) -> bool: ...
    def names(self) -> list[str]:
        """The rules' names, in the order they were first added."""
    def matches(
        self,
        event: _JsonInput | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[str]:
        """The names of the rules that match: an event (eventbridge) or a message body and
        attributes (sns)."""
    def explain(self, name: str, event: _JsonInput) -> list[dict[str, Any]]:
        """Why the event does not match the named rule (see ``Pattern.explain``)."""
    def stats(self) -> dict[str, int]:
        """Size of the compiled rules: "rules", "states" and "bytes" (approximate)."""
    def route_events(
        self,
        entries: list[tuple[str, str, str, str, list[str], str]],
        account: str,
        region: str,
    ) -> list[tuple[str, list[str]] | None]:
        """PutEvents' routing in one call: per entry ``(id, detail_type, source, time,
        resources, detail)``, the event's text and the rules it matches, or None for a
        malformed detail (EventBridge rule sets)."""
    def route_common(
        self,
        entries: object,
        bus: str,
        limit: int,
        account: str,
        region: str,
        time: str,
        tokens: Tokens,
        queues: dict[str, tuple[str, ...] | None],
    ) -> (
        tuple[
            int,
            list[dict[str, str] | bool | None],
            list[tuple[str, str, list[str]]],
            tuple[list[tuple[str, str]], dict[str, int], int, int, int] | None,
        ]
        | None
    ):
        """PutEvents' usual request in one call (1-10 dicts of just Source, DetailType and
        Detail, perhaps EventBusName ``bus``; their bytes, four times over, within ``limit``):
        ids minted, events written and matched. None for any other request. Else ``(failed,
        results, accepted, plain)``: per entry ``{"EventId": id}``, or None (malformed detail)
        or False (a source starting with "aws."); ``(id, text, rule names)`` per accepted one;
        and, when every matched event's text is printable ASCII and each rule it matched maps to
        queues in ``queues`` (a name it lacks is skipped), ``(bodies, deliveries per queue,
        events matched, rules triggered, longest text)``, else None (EventBridge rule sets)."""
    def matches_many(self, events: Iterable[_Message]) -> list[list[str]]:
        """``matches`` for each event, the GIL released for the batch (sns: bodies or
        ``(body, attributes)`` pairs, read one at a time with the GIL held; the first that
        ``matches`` would refuse raises the error it raises, and no later item is read).

        The lists hold only strings and are left out of Python's cycle collector, so that a
        batch of thousands does not set off collections across the whole program; a list
        later made part of a reference cycle is then freed only when the cycle is broken."""

def test_event_pattern(pattern: _JsonInput, event: _JsonInput) -> bool:
    """AWS TestEventPattern: validates the pattern and the event envelope, then matches."""

# The memory store's queues (rulebus.stores.memory.queues uses them; not a public API).

@final
class StoredMessage:
    """One message and its delivery state, immutable. ``md5_of_body`` is computed on first read
    when None is given."""

    def __new__(
        cls,
        message_id: str,
        body: str,
        md5_of_body: str | None,
        message_attributes: dict[str, dict[str, Any]],
        md5_of_message_attributes: str | None,
        sender_id: str,
        sent_timestamp: float,
        visible_at: float,
        receive_count: int = 0,
        first_receive_timestamp: float | None = None,
        last_receive_timestamp: float | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
        sequence_number: str | None = None,
        dead_letter_source_arn: str | None = None,
        aws_trace_header: str | None = None,
    ) -> StoredMessage: ...
    @property
    def message_id(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def md5_of_body(self) -> str: ...
    @property
    def message_attributes(self) -> dict[str, dict[str, Any]]: ...
    @property
    def md5_of_message_attributes(self) -> str | None: ...
    @property
    def sender_id(self) -> str: ...
    @property
    def sent_timestamp(self) -> float: ...
    @property
    def visible_at(self) -> float: ...
    @property
    def receive_count(self) -> int: ...
    @property
    def first_receive_timestamp(self) -> float | None: ...
    @property
    def last_receive_timestamp(self) -> float | None: ...
    @property
    def message_group_id(self) -> str | None: ...
    @property
    def message_deduplication_id(self) -> str | None: ...
    @property
    def sequence_number(self) -> str | None: ...
    @property
    def dead_letter_source_arn(self) -> str | None: ...
    @property
    def aws_trace_header(self) -> str | None: ...
    def replace(self, **changes: Any) -> StoredMessage:
        """This message with some fields changed."""
    def received(self, now: float, visibility_timeout: float) -> StoredMessage:
        """This message as a receive at ``now`` leaves it."""

@final
class MemoryQueue:
    """One queue of the memory store: its record, its messages in send order and by visibility."""

    def __new__(cls, record: QueueRecord) -> MemoryQueue: ...
    record: QueueRecord
    @property
    def deduplication(self) -> dict[tuple[str, str], tuple[float, str, str | None]]: ...
    @property
    def attempts(self) -> dict[str, tuple[float, list[tuple[str, str, float, int]]]]: ...
    @property
    def in_flight_count(self) -> int: ...
    def add(self, message: StoredMessage, now: float) -> None: ...
    def put_plain_batch(
        self, bodies: list[object], sender_id: str, now: float, tokens: Tokens
    ) -> list[tuple[str, str]] | None:
        """Each body stored as a new plain message, when this is a standard queue and every
        body is plain for it: each message's (id, MD5 of its body); else None, nothing stored."""
    def update(self, message: StoredMessage, now: float) -> None: ...
    def remove(self, message_id: str) -> bool: ...
    def clear(self) -> None: ...
    def promote(self, now: float) -> None: ...
    def take(self, now: float) -> StoredMessage | None: ...
    def receive(self, max_messages: int, now: float, visibility_timeout: float) -> list[StoredMessage]: ...
    def drop_expired(self, now: float) -> int: ...
    def counts(self, now: float) -> tuple[int, int, int]: ...
    def get(self, message_id: str, default: StoredMessage | None = None) -> StoredMessage | None: ...
    def values(self) -> list[StoredMessage]: ...
    def peek(self, limit: int, cutoff: float) -> list[StoredMessage]:
        """The first ``limit`` messages in send order sent after ``cutoff``."""
    def __getitem__(self, key: str, /) -> StoredMessage: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __len__(self) -> int: ...

@final
class Tokens:
    """Unique UUID-shaped tokens: a random prefix and a counter."""

    def __new__(cls, prefix: str) -> Tokens: ...
    def reseed(self, prefix: str) -> None: ...
    def next(self) -> str: ...
    def receipt_handle(self, queue: str, message_id: str) -> str:
        """URL-safe base64 of ``"rb1\\n<queue>\\n<message id>\\n<a new token>"``."""

def put_plain_many(
    queues: Mapping[str, MemoryQueue],
    deliveries: Iterable[tuple[str, str]],
    sender_id: str,
    now: float,
    tokens: Tokens,
) -> list[int]:
    """Store plain deliveries in memory queues; the indices of those not taken."""

@final
class DeliveryCounter:
    """A subscription's count of delivered notifications; the native fan-out adds to it."""

    def __new__(cls, value: int = 0) -> DeliveryCounter: ...
    @property
    def value(self) -> int: ...
    @value.setter
    def value(self, value: int) -> None: ...
    def add(self, count: int) -> None: ...

@final
class FanOut:
    """A publish's usual fan-out: ``(queue name, JSON UnsubscribeURL, DeliveryCounter)`` per route."""

    def __new__(cls, routes: list[tuple[str, str, DeliveryCounter]]) -> FanOut: ...
    @property
    def routes(self) -> list[tuple[str, str, DeliveryCounter]]: ...
    def __len__(self) -> int: ...

def is_plain_body(body: object, limit: int) -> TypeGuard[str]:
    """Whether ``body`` passes every check of SendMessage on a standard queue with no attributes:
    exactly a ``str``, printable ASCII (perhaps on lines), not empty, within ``limit`` bytes."""

def put_notifications(
    queues: Mapping[str, MemoryQueue],
    topic: tuple[str, str, str],
    publishes: list[tuple[FanOut, str, str | None, str, str]],
    sender_id: str,
    now: float,
    timestamp: str,
    tokens: Tokens,
) -> tuple[int, list[int]]:
    """Store standard publishes to their fan-outs; (publishes stored, refused routes of the last)."""

def sns_notification_head(
    message_id: str,
    topic_arn: str,
    subject: str | None,
    message: str,
    timestamp: str,
    signature_version: str,
    signing_cert_url: str,
    sequence_number: str | None = None,
) -> str:
    """An SNS notification envelope's text up to ``"UnsubscribeURL" : `` (signature included);
    with ``sequence_number``, a FIFO topic's (SequenceNumber, no signature members)."""

def sns_attributes_tail(attributes: Iterable[tuple[str, str, str | bytes]]) -> str:
    """The envelope's text after the UnsubscribeURL: the MessageAttributes member of ``(name,
    DataType, value)`` triples (``bytes`` written in base64), and the closing brace."""

def sns_json_string(text: str) -> str:
    """``text`` as a JSON string, escaped as the envelope's writer escapes its strings."""

def sns_confirmation_text(
    message_id: str,
    token: str,
    topic_arn: str,
    message: str,
    subscribe_url: str,
    timestamp: str,
    signature_version: str,
    signing_cert_url: str,
) -> str:
    """An SNS SubscriptionConfirmation's whole text, its placeholder signature included."""

@final
class QueryReader:
    """An operation's input shape, read from query-protocol forms (see
    ``rulebus.aws.protocols.query.native_plan`` for the plan it is made from)."""

    def __new__(cls, plan: tuple[Any, ...]) -> QueryReader: ...
    def read(self, pairs: list[tuple[str, str]]) -> dict[str, Any] | None:
        """The params of the form's pairs, or None when the Python reader must read them."""

@final
class JsonReader:
    """An operation's input shape, read from AWS JSON request bodies (see
    ``rulebus.aws.protocols.awsjson.native_plan`` for the plan it is made from)."""

    def __new__(cls, plan: tuple[Any, ...]) -> JsonReader: ...
    def read(self, body: bytes) -> dict[str, Any] | None:
        """The params of the body, or None when the Python reader must read it."""

@final
class JsonWriter:
    """An operation's output shape, written as AWS JSON response bodies (see
    ``rulebus.aws.protocols.awsjson.native_plan`` for the plan it is made from)."""

    def __new__(cls, plan: tuple[Any, ...]) -> JsonWriter: ...
    def write(self, output: Mapping[str, Any]) -> bytes | None:
        """The response body, or None when the Python writer must write it."""

def decode_form(raw: bytes, max_fields: int) -> list[tuple[str, str]] | None:
    """A form's ``(name, value)`` pairs (``+`` a space, ``%XX`` its byte), or None for a form
    that is not ASCII, has ``max_fields`` ``&`` s or more, or escapes bytes that are not UTF-8."""
