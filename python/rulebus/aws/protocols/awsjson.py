"""AWS JSON 1.0 and 1.1: the protocol of SQS (1.0), EventBridge and Kinesis (1.1).

A request is ``POST /`` with ``X-Amz-Target: <targetPrefix>.<Operation>`` and a JSON object by
the operation's input shape; the response a JSON object by the output shape; an error
``{"__type": ..., "message": ...}``. Members travel under their ``locationName`` when the model
gives one; timestamps as epoch seconds (ISO 8601 text is read too), blobs as base64. SQS, a
former query service (``awsQueryCompatible``), adds the ``x-amzn-query-error: <legacy
code>;Sender|Receiver`` header to its errors: botocore takes the legacy code from it and picks the
modeled exception (``QueueDoesNotExist``) by the ``__type``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from rulebus import _jsontext as jsontext
from rulebus._core import JsonReader, JsonWriter
from rulebus._errors import AwsError
from rulebus.aws.protocols.base import (
    Reply,
    blob_from_base64,
    blob_to_base64,
    output_member,
    special_float,
    timestamp_from_wire,
    timestamp_to_wire,
)
from rulebus.aws.protocols.errors import bad_member_type, missing_parameter, serialization_error

__all__ = ["JsonProtocol", "Path", "native_plan", "read_timestamp"]

Path = tuple[Any, ...]

# How Coral names a JSON value that is not what a member's type needs.
_EXPECTED = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "float": "a Float",
    "double": "a Double",
    "timestamp": "a Timestamp",
    "blob": "a Blob",
}
_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# Nineteen digits in a row: a number orjson might read otherwise than the standard library (it
# reads an integer past 64 bits as a float). A body without one is read by orjson, in a third of
# the time; what orjson refuses (NaN, a lone surrogate, 1e400, deep nesting, bad UTF-8) is read
# by the standard library, so every body reads as json.loads reads it. Found by mapping every
# digit to 0 and looking for nineteen zeros: a tenth of what a regular expression costs.
_DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE_VALUE" if value else "FALSE_VALUE"
    if isinstance(value, str):
        return "STRING_VALUE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, (bytes, bytearray)):
        return "VALUE_EMBEDDED_OBJECT"
    return "START_OBJECT"


class JsonProtocol:
    """The codec of one JSON service (``version`` "1.0" or "1.1")."""

    name = "json"
    #: Whether bodies are read natively first (``rulebus._core.JsonReader``): CBOR's are not.
    native = True

    def __init__(self, service: str, version: str) -> None:
        self.service = service
        self.content_type = f"application/x-amz-json-{version}"
        #: Whether a body can carry blobs as bytes (CBOR's byte strings), not only as base64 text.
        self.binary = False
        self._query_compatible = service == "sqs"
        # SQS's JSON errors name their shape as Coral does; the others give the bare code.
        self._type_prefix = "com.amazonaws.sqs#" if service == "sqs" else ""

    # -- requests ---------------------------------------------------------------------------

    def parse(self, operation: OperationModel, body: bytes) -> dict[str, Any]:
        """The request's params by the input shape; AwsError for a body the model refuses.
        Read natively (``rulebus._core.JsonReader``) when the reader there takes the body; else
        here, which reads the rest and says what is wrong in AWS's words."""
        if self.native and type(body) is bytes:  # (the native reader takes bytes alone)
            reader = _reader(operation)
            if reader is not None:
                params: dict[str, Any] | None = reader.read(body)
                if params is not None:
                    return params
        return self.parse_in_python(operation, body)

    def parse_in_python(self, operation: OperationModel, body: bytes) -> dict[str, Any]:
        """:meth:`parse` without the native reader: the reader of every body, and of AWS's
        errors for those the model refuses."""
        document = self.decode(body)
        shape = operation.input_shape
        if shape is None:
            return {}
        if not isinstance(document, dict):
            raise serialization_error(f"{_json_kind(document)} can not be converted to a Structure")
        return self._structure(shape, document, ())

    def decode(self, body: bytes) -> object:
        """The body's document (an empty body is an empty object)."""
        if not body.strip():
            return {}
        if _LONG_NUMBER not in body.translate(_DIGITS_AS_ZEROS):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass  # the standard reader below decides what the body is, and says so
        try:
            # Decoded here, not by json.loads, which would guess UTF-16 or UTF-32 from a BOM.
            return jsontext.loads(body.decode("utf-8"))
        except UnicodeDecodeError as error:
            raise serialization_error(f"The request body is not UTF-8: {error.reason}") from None
        except ValueError as error:
            raise serialization_error(f"The request body is not valid JSON: {error}") from None

    def encode(self, document: object) -> bytes:
        try:
            # UTF-8, compact: what AWS sends. orjson writes a receive's ten messages in a
            # twentieth of the standard library's time.
            return orjson.dumps(document)
        except TypeError:  # (orjson.JSONEncodeError is one)
            # What orjson refuses: text with a lone surrogate, an integer past 64 bits. The
            # standard library writes them, with ASCII escapes that keep any text valid JSON.
            return json.dumps(document, separators=(",", ":")).encode("ascii")

    def _value(self, shape: Shape, value: object, path: Path) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            if shape.is_document_type:
                return value
            if not isinstance(value, dict):
                raise self._wrong(path, value, "a Structure")
            return self._structure(shape, value, path)
        if kind == "list":
            assert isinstance(shape, ListShape)
            if not isinstance(value, list):
                raise self._wrong(path, value, "a List")
            member = shape.member
            if member.type_name == "string" and all(type(item) is str for item in value):
                return value  # a list of strings (resources, attribute names) as it came
            if isinstance(member, StructureShape) and not member.is_document_type:
                # A batch's entries: each read as a structure without going through _value.
                structure = self._structure
                return [
                    None
                    if item is None
                    else structure(member, item, (*path, index))
                    if type(item) is dict
                    else self._value(member, item, (*path, index))
                    for index, item in enumerate(value, 1)
                ]
            return [
                None if item is None else self._value(member, item, (*path, index))
                for index, item in enumerate(value, 1)
            ]
        if kind == "map":
            assert isinstance(shape, MapShape)
            if not isinstance(value, dict):
                raise self._wrong(path, value, "a Map")
            return {
                self._value(shape.key, key, path): self._value(shape.value, item, (*path, key))
                for key, item in value.items()
                if item is not None
            }
        return self._scalar(kind, value, path)

    def _structure(self, shape: StructureShape, value: dict[str, Any], path: Path) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        plan = _plan(shape)
        by_wire = plan.by_wire
        # The document's members, in its order (as AWS's readers go through a body; a member the
        # shape lacks is passed over): fewer than the shape's, most often.
        for wire, item in value.items():
            planned = by_wire.get(wire)
            if planned is None or item is None:
                continue
            name = planned.name
            # A string member holding a string is taken as it is (most members, most requests).
            parsed[name] = (
                item
                if planned.string and type(item) is str
                else self._value(planned.shape, item, (*path, name))
            )
        for name in plan.required:
            if name not in parsed:
                raise missing_parameter(self.service, (*path, name))
        return parsed

    def _scalar(self, kind: str, value: object, path: Path) -> Any:
        if kind == "string":
            if isinstance(value, str):
                return value
        elif kind in ("integer", "long"):
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif kind == "boolean":
            if isinstance(value, bool):
                return value
        elif kind in ("float", "double"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str) and value in _FLOAT_WORDS:
                return _FLOAT_WORDS[value]
        elif kind == "timestamp":
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                return self._read_timestamp(value)
        elif kind == "blob":
            if isinstance(value, str):
                return _read_base64(value, path)
            if isinstance(value, bytes) and self.binary:
                return value
        else:
            return value
        raise self._wrong(path, value, _EXPECTED[kind])

    def _read_timestamp(self, value: float | str) -> Any:
        """A timestamp member (CBOR reads its tag-1 numbers its own way)."""
        return read_timestamp(value)

    def _wrong(self, path: Path, value: object, expected: str) -> AwsError:
        return bad_member_type(self.service, "json", path, _json_kind(value), expected)

    # -- responses --------------------------------------------------------------------------

    def write(self, operation: OperationModel, output: Mapping[str, Any], request_id: str) -> Reply:
        """The response to a call that succeeded: the output shape's members as JSON. Written
        natively (``rulebus._core.JsonWriter``) when the writer there takes the output; else
        here, which writes the rest (and refuses an output the shape does not take)."""
        if self.native:
            writer = _writer(operation)
            if writer is not None:
                body = writer.write(output)
                if body is not None:
                    return Reply(200, self._headers(request_id), body)
        return self.write_in_python(operation, output, request_id)

    def write_in_python(self, operation: OperationModel, output: Mapping[str, Any], request_id: str) -> Reply:
        """:meth:`write` without the native writer."""
        shape = operation.output_shape
        document = {} if shape is None else self._out_structure(shape, output)
        return Reply(200, self._headers(request_id), self.encode(document))

    def write_document(self, shape: StructureShape, value: Mapping[str, Any]) -> dict[str, Any]:
        """A structure's members as the protocol's document (an event of an event stream)."""
        return self._out_structure(shape, value)

    def write_error(self, service: ServiceModel | None, error: AwsError, request_id: str) -> Reply:
        """An error as the service writes it (``service`` is unused: JSON errors need no model)."""
        headers = self._headers(request_id)
        if self._query_compatible:
            fault = "Sender" if error.sender_fault else "Receiver"
            headers["x-amzn-query-error"] = f"{error.query_code};{fault}"
        body = {"__type": self._type_prefix + error.code, "message": error.message}
        return Reply(error.status, headers, self.encode(body))

    def _headers(self, request_id: str) -> dict[str, str]:
        return {"Content-Type": self.content_type, "x-amzn-RequestId": request_id}

    # -- the output's values as the document carries them (CBOR overrides blobs and timestamps)

    def _out_blob(self, value: Any) -> Any:
        return blob_to_base64(value)

    def _out_timestamp(self, shape: Shape, value: Any) -> Any:
        return timestamp_to_wire(shape, value, "unixtimestamp")

    def _out_value(self, shape: Shape, value: Any) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return value if shape.is_document_type else self._out_structure(shape, value)
        if kind == "list":
            assert isinstance(shape, ListShape)
            member = shape.member
            if isinstance(member, StructureShape) and not member.is_document_type:
                structure = self._out_structure
                names = _plan(member).plain_names
                if names is None:
                    return [structure(member, item) for item in value]
                # A batch's results (ids, digests, codes): an entry whose members are all set
                # and all the shape's is written as it is (see _out_structure's first case).
                return [
                    item if item.keys() <= names and None not in item.values() else structure(member, item)
                    for item in value
                ]
            return [self._out_value(member, item) for item in value]
        if kind == "map":
            assert isinstance(shape, MapShape)
            return {
                key: self._out_value(shape.value, item) for key, item in value.items() if item is not None
            }
        if kind == "timestamp":
            return self._out_timestamp(shape, value)
        if kind == "blob":
            return self._out_blob(value)
        if kind in ("float", "double"):
            special = special_float(value)
            return value if special is None else special
        return value

    def _out_structure(self, shape: StructureShape, value: Mapping[str, Any]) -> dict[str, Any]:
        plan = _plan(shape)
        if plan.plain_names is not None and value.keys() <= plan.plain_names:
            # Every member written as it is, under its own name (a batch's result entries, a
            # message's digests and ids): only the absent ones to leave out.
            return {name: item for name, item in value.items() if item is not None}
        written: dict[str, Any] = {}
        by_name = plan.by_name
        for name, item in value.items():
            if item is None:
                continue
            planned = by_name.get(name)
            if planned is None:
                output_member(shape, name)  # raises: the shape has no such member
                continue
            # A string, integer or boolean member is written as it is (see _out_value).
            written[planned.wire] = item if planned.plain else self._out_value(planned.shape, item)
        return written


class _Member(NamedTuple):
    name: str
    wire: str  # the name the member travels under (its locationName, else its name)
    shape: Shape
    # True for the members whose values are written as they are (string, integer, long, boolean).
    plain: bool
    string: bool


class _Plan(NamedTuple):
    """A structure's members as the codec walks them, worked out once per shape."""

    by_name: dict[str, _Member]
    by_wire: dict[str, _Member]
    #: The member names, when every member is written as it is under its own name; else None.
    plain_names: frozenset[str] | None
    required: tuple[str, ...]


_PLAIN = frozenset({"string", "integer", "long", "boolean"})
# Keyed by the shape object (hashed by identity): botocore keeps one per member of an operation
# model, and the models are loaded once per service (a bounded set, whatever the requests).
_plans: dict[StructureShape, _Plan] = {}


def _plan(shape: StructureShape) -> _Plan:
    plan = _plans.get(shape)
    if plan is None:
        members = tuple(
            _Member(
                name,
                member.serialization.get("name", name),
                member,
                member.type_name in _PLAIN,
                member.type_name == "string",
            )
            for name, member in shape.members.items()
        )
        plain = all(m.plain and m.wire == m.name for m in members)
        plan = _Plan(
            {m.name: m for m in members},
            {m.wire: m for m in members},
            frozenset(m.name for m in members) if plain else None,
            tuple(shape.required_members),
        )
        _plans[shape] = plan
    return plan


# Operations' native readers and writers, made on first use (None: no input, or no output).
_readers: dict[OperationModel, JsonReader | None] = {}
_writers: dict[OperationModel, JsonWriter | None] = {}


def _reader(operation: OperationModel) -> JsonReader | None:
    try:
        return _readers[operation]
    except KeyError:
        shape = operation.input_shape
        reader = _readers[operation] = None if shape is None else JsonReader(native_plan(shape))
        return reader


def _writer(operation: OperationModel) -> JsonWriter | None:
    try:
        return _writers[operation]
    except KeyError:
        shape = operation.output_shape
        writer = _writers[operation] = None if shape is None else JsonWriter(native_plan(shape, output=True))
        return writer


def native_plan(shape: Shape, depth: int = 0, output: bool = False) -> tuple[Any, ...]:
    """How ``rulebus._core.JsonReader`` reads ``shape`` and ``JsonWriter`` writes it, by the
    same rules as :meth:`JsonProtocol._value` and :meth:`JsonProtocol._out_value`:
    ``("structure", ((name, wire name, plan), ...), (required name, ...))`` (its members as
    the reader finds them by their wire names, or with ``output`` as the writer finds them by
    their names), ``("list", member plan)``, ``("map", key plan, value plan)``, or a scalar's
    ``("string",)``, ``("integer",)``, ``("boolean",)``; ``("other",)`` for what only this
    module reads and writes (floats, timestamps, blobs, documents; shapes nested deeper than
    any model's)."""
    kind = shape.type_name
    if depth > 16:
        return ("other",)
    if isinstance(shape, StructureShape):
        if shape.is_document_type:
            return ("other",)
        plan = _plan(shape)
        members = plan.by_name if output else plan.by_wire
        return (
            "structure",
            tuple((m.name, m.wire, native_plan(m.shape, depth + 1, output)) for m in members.values()),
            plan.required,
        )
    if isinstance(shape, ListShape):
        return ("list", native_plan(shape.member, depth + 1, output))
    if isinstance(shape, MapShape):
        return ("map", native_plan(shape.key, depth + 1, output), native_plan(shape.value, depth + 1, output))
    if kind in ("integer", "long"):
        return ("integer",)
    if kind in ("string", "boolean"):
        return (kind,)
    return ("other",)


def read_timestamp(value: float | str) -> Any:
    """A timestamp member: epoch seconds or ISO 8601 text, else SerializationException."""
    try:
        return timestamp_from_wire(value)
    except ValueError:
        raise serialization_error(f"Unable to parse timestamp {value!r}") from None


def _read_base64(value: str, path: Path) -> bytes:
    try:
        return blob_from_base64(value)
    except ValueError:
        raise serialization_error(f"Unable to decode the base64 value of '{_dotted(path)}'") from None


def _dotted(path: Path) -> str:
    return ".".join(str(step) for step in path)
