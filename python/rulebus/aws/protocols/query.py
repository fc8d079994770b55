"""The query protocol: form-encoded requests, XML responses (SNS, STS, and SQS's older clients).

A request is ``Action=<Operation>&Version=<apiVersion>&...`` in a form body (or a GET query
string). Its members follow the input shape's query serialisation: a structure's members are
``Parent.Member`` (under the member's ``locationName`` when it has one); a list is
``Name.member.N`` (``member`` or the list member's ``locationName``) or, flattened,
``Name.N`` where ``Name`` is the list member's ``locationName`` if it has one; a map is
``Name.entry.N.key`` / ``.value`` (the key and value ``locationName`` s replace ``key`` and
``value``), or, flattened, ``Name.N.key``; an empty list is the bare ``Name=``.

A response is ``<OperationResponse xmlns=...><OperationResult>`` (the output's ``resultWrapper``)
holding the output shape as XML by the same naming rules, then
``<ResponseMetadata><RequestId>``; an error is ``<ErrorResponse><Error><Type>Sender</Type>
<Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>``.
All text is escaped; characters XML 1.0 cannot carry at all become U+FFFD.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from rulebus._core import QueryReader
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
from rulebus.aws.protocols.errors import bad_member_type, missing_parameter

__all__ = ["QueryProtocol", "form_tree", "member_key"]

Path = tuple[Any, ...]
CONTENT_TYPE = "text/xml"


class _Node:
    """The form's keys as a tree: ``A.member.1.B=v`` is A -> member -> 1 -> B holding v."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, _Node] = {}

    def numbered(self) -> list[_Node]:
        """The children named 1, 2, ... in numeric order (AWS numbers from 1)."""
        indexed = [(int(key), node) for key, node in self.children.items() if key.isascii() and key.isdigit()]
        indexed.sort(key=lambda pair: pair[0])
        return [node for index, node in indexed if index > 0]


def form_tree(pairs: Iterable[tuple[str, str]]) -> _Node:
    """The tree of a form's ``(key, value)`` pairs (the last of repeated keys wins)."""
    root = _Node()
    for key, value in pairs:
        node = root
        for part in key.split("."):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            node = child
        node.value = value
    return root


def _list_element_name(shape: ListShape) -> str | None:
    name = shape.member.serialization.get("name")
    return None if name is None else str(name)


def member_key(shape: Shape, name: str) -> str:
    """The key a member travels under inside its structure (botocore's naming rules)."""
    if isinstance(shape, ListShape) and shape.serialization.get("flattened"):
        element = _list_element_name(shape)
        if element is not None:
            return element
    return str(shape.serialization.get("name", name))


# A structure's members as the request reader walks them, worked out once per shape: (name, the
# key it travels under, its shape, whether it is a string), and the required members' (name, key).
_Plan = tuple[tuple[tuple[str, str, Shape, bool], ...], tuple[tuple[str, str], ...]]
# Keyed by the shape object: botocore keeps one per member of an operation model, and the models
# are loaded once per service (a bounded set, whatever the requests).
_plans: dict[StructureShape, _Plan] = {}


def _plan(shape: StructureShape) -> _Plan:
    plan = _plans.get(shape)
    if plan is None:
        members = shape.members
        plan = _plans[shape] = (
            tuple(
                (name, member_key(member, name), member, member.type_name == "string")
                for name, member in members.items()
            ),
            tuple((name, member_key(members[name], name)) for name in shape.required_members),
        )
    return plan


# The native reader of each operation met so far (None: it takes no input), keyed by the
# operation model (one per operation of a service model, loaded once: a bounded set).
_readers: dict[OperationModel, QueryReader | None] = {}


def _reader(operation: OperationModel) -> QueryReader | None:
    try:
        return _readers[operation]
    except KeyError:
        shape = operation.input_shape
        reader = _readers[operation] = None if shape is None else QueryReader(native_plan(shape))
        return reader


def native_plan(shape: Shape, depth: int = 0) -> tuple[Any, ...]:
    """How ``rulebus._core.QueryReader`` reads ``shape``, by the same naming rules as
    :meth:`QueryProtocol._value`: ``("structure", ((name, key, plan), ...), (required key,
    ...))``, ``("list", holder or None when flattened, member plan)``, ``("map", under "entry"
    or flattened, key name, value name, key plan, value plan)``, or a scalar's ``("string",)``,
    ``("integer",)``, ``("boolean",)``; ``("other",)`` for what only this module reads (floats,
    timestamps, blobs; shapes nested deeper than any model's)."""
    kind = shape.type_name
    if depth > 16:
        return ("other",)
    if isinstance(shape, StructureShape):
        members, required = _plan(shape)
        return (
            "structure",
            tuple((name, key, native_plan(member, depth + 1)) for name, key, member, _ in members),
            tuple(key for _, key in required),
        )
    if isinstance(shape, ListShape):
        holder = None if shape.serialization.get("flattened") else (_list_element_name(shape) or "member")
        return ("list", holder, native_plan(shape.member, depth + 1))
    if isinstance(shape, MapShape):
        return (
            "map",
            not shape.serialization.get("flattened"),
            str(shape.key.serialization.get("name", "key")),
            str(shape.value.serialization.get("name", "value")),
            native_plan(shape.key, depth + 1),
            native_plan(shape.value, depth + 1),
        )
    if kind in ("integer", "long"):
        return ("integer",)
    if kind in ("string", "boolean"):
        return (kind,)
    return ("other",)


class QueryProtocol:
    """The query codec of one service."""

    name = "query"

    def __init__(self, service: str) -> None:
        self.service = service

    # -- requests ---------------------------------------------------------------------------

    def parse_pairs(self, operation: OperationModel, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """The request's params by the input shape, from the form's ``(name, value)`` pairs:
        read natively (``rulebus._core.QueryReader``) when the reader there takes them, else by
        :meth:`parse`, which reads the rest and says what is wrong in AWS's words."""
        reader = _reader(operation)
        if reader is not None:
            params = reader.read(pairs)
            if params is not None:
                return params
        return self.parse(operation, form_tree(pairs))

    def parse(self, operation: OperationModel, form: _Node) -> dict[str, Any]:
        """The request's params by the input shape, from the form's tree."""
        shape = operation.input_shape
        if shape is None:
            return {}
        return self._structure(shape, form, ())

    def _structure(self, shape: StructureShape, node: _Node, path: Path) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        members, required = _plan(shape)
        children = node.children
        for name, key, member, string in members:
            child = children.get(key)
            if child is not None:
                # A string member is its text, as _scalar takes it (most members of most
                # requests); the rest by their shapes.
                if string:
                    parsed[name] = child.value if child.value is not None else ""
                else:
                    parsed[name] = self._value(member, child, (*path, name))
        for name, key in required:
            if name not in parsed:
                raise missing_parameter(self.service, (*path, key))
        return parsed

    def _value(self, shape: Shape, node: _Node, path: Path) -> Any:
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self._structure(shape, node, path)
        if kind == "list":
            assert isinstance(shape, ListShape)
            if not shape.serialization.get("flattened"):
                holder = node.children.get(_list_element_name(shape) or "member")
                if holder is None:
                    return []  # "Name=" (or nothing below it): the empty list
                node = holder
            items = node.numbered()
            return [self._value(shape.member, item, (*path, index)) for index, item in enumerate(items, 1)]
        if kind == "map":
            assert isinstance(shape, MapShape)
            if not shape.serialization.get("flattened"):
                holder = node.children.get("entry")
                if holder is None:
                    return {}
                node = holder
            key_name = str(shape.key.serialization.get("name", "key"))
            value_name = str(shape.value.serialization.get("name", "value"))
            parsed: dict[str, Any] = {}
            for index, entry in enumerate(node.numbered(), 1):
                key_node = entry.children.get(key_name)
                value_node = entry.children.get(value_name)
                if key_node is None:
                    raise missing_parameter(self.service, (*path, index, key_name))
                if value_node is None:
                    raise missing_parameter(self.service, (*path, index, value_name))
                key = self._value(shape.key, key_node, (*path, index, key_name))
                parsed[key] = self._value(shape.value, value_node, (*path, index, value_name))
            return parsed
        return self._scalar(shape, node.value if node.value is not None else "", path)

    def _scalar(self, shape: Shape, text: str, path: Path) -> Any:
        kind = shape.type_name
        try:
            if kind in ("integer", "long"):
                if not _INTEGER.match(text):
                    raise ValueError(text)
                return int(text)
            if kind == "boolean":
                lowered = text.strip().lower()
                if lowered in ("true", "false"):
                    return lowered == "true"
                raise ValueError(text)
            if kind in ("float", "double"):
                return float(text)
            if kind == "timestamp":
                return timestamp_from_wire(text)
            if kind == "blob":
                return blob_from_base64(text)
        except ValueError:
            raise bad_member_type(self.service, "query", path, text, _EXPECTED[kind]) from None
        return text

    # -- responses --------------------------------------------------------------------------

    def write(self, operation: OperationModel, output: Mapping[str, Any], request_id: str) -> Reply:
        """``<OperationResponse>`` with the output shape inside its result wrapper."""
        layout = _layouts.get(operation)
        if layout is None:
            layout = _layouts[operation] = _Layout.of(operation)
        parts = [layout.head]
        if layout.shape is not None:
            _write_members(parts, layout.shape, output)
        parts.append(layout.middle)
        parts.append(_escape(request_id))
        parts.append(layout.tail)
        return Reply(200, _headers(request_id), "".join(parts).encode("utf-8"))

    def write_error(self, service: ServiceModel | None, error: AwsError, request_id: str) -> Reply:
        """``<ErrorResponse>``, with the legacy query code (for SQS, ``AWS.SimpleQueueService.*``)."""
        namespace = "" if service is None else str(service.metadata.get("xmlNamespace", ""))
        opening = f'<ErrorResponse xmlns="{_escape(namespace)}">' if namespace else "<ErrorResponse>"
        fault = "Sender" if error.sender_fault else "Receiver"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n{opening}<Error><Type>{fault}</Type>'
            f"<Code>{_escape(error.query_code)}</Code><Message>{_escape(error.message)}</Message>"
            f"<Detail/></Error><RequestId>{_escape(request_id)}</RequestId></ErrorResponse>"
        )
        return Reply(error.status, _headers(request_id), body.encode("utf-8"))


class _Layout(NamedTuple):
    """An operation's response around its members and its request id, written once."""

    head: str  # the declaration, <OperationResponse xmlns=...>, the result wrapper's opening
    shape: StructureShape | None
    middle: str  # the wrapper's closing, up to the request id
    tail: str

    @classmethod
    def of(cls, operation: OperationModel) -> _Layout:
        namespace = _escape(str(operation.metadata.get("xmlNamespace", "")))
        name = operation.name
        head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{name}Response xmlns="{namespace}">'
        middle = "<ResponseMetadata><RequestId>"
        shape = operation.output_shape
        if shape is not None:
            assert isinstance(shape, StructureShape)
            wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
            head += f"<{wrapper}>"
            middle = f"</{wrapper}>{middle}"
        return cls(head, shape, middle, f"</RequestId></ResponseMetadata></{name}Response>")


# Keyed by the operation model (hashed by identity): one per operation of the loaded models.
_layouts: dict[OperationModel, _Layout] = {}

_INTEGER = re.compile(r"\A[+-]?[0-9]+\Z")
_EXPECTED = {
    "integer": "an integer",
    "long": "an integer",
    "boolean": "a boolean",
    "float": "a number",
    "double": "a number",
    "timestamp": "a timestamp",
    "blob": "base64-encoded binary data",
}


def _headers(request_id: str) -> dict[str, str]:
    return {"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": request_id}


# Characters XML 1.0 cannot carry, even as references (C0 controls but tab, CR and LF; lone
# surrogates; U+FFFE and U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#xD;"}
_TO_ESCAPE = re.compile("[&<>\"'\r]")
# Text that _escape leaves as it is: printable ASCII but for the characters it escapes.
_PLAIN_XML = re.compile("[ !#-%(-;=?-~]*")


def _escape(text: str) -> str:
    """Text as XML character data that a parser gives back unchanged (a CR is written as a
    reference since parsers turn a literal CR LF into LF)."""
    if _PLAIN_XML.fullmatch(text):  # most text (ids, ARNs, digests): one look, then as it is
        return text
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("\ufffd", text)
    return _TO_ESCAPE.sub(lambda match: _ESCAPES[match.group()], text)


def _write_members(parts: list[str], shape: StructureShape, value: Mapping[str, Any]) -> None:
    for name, item in value.items():
        if item is None:
            continue
        member = output_member(shape, name)
        _write_value(parts, member, member_key(member, name), item)


def _write_value(parts: list[str], shape: Shape, tag: str, value: Any) -> None:
    kind = shape.type_name
    if kind == "list":
        assert isinstance(shape, ListShape)
        element = _list_element_name(shape) or "member"
        if shape.serialization.get("flattened"):
            for item in value:  # the elements stand in the parent, each named after the member
                _write_value(parts, shape.member, tag, item)
            return
        parts.append(f"<{tag}>")
        for item in value:
            _write_value(parts, shape.member, element, item)
        parts.append(f"</{tag}>")
        return
    if kind == "map":
        assert isinstance(shape, MapShape)
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        flattened = bool(shape.serialization.get("flattened"))
        if not flattened:
            parts.append(f"<{tag}>")
        for key, item in value.items():
            parts.append(f"<{tag}>" if flattened else "<entry>")
            _write_value(parts, shape.key, key_name, key)
            _write_value(parts, shape.value, value_name, item)
            parts.append(f"</{tag}>" if flattened else "</entry>")
        if not flattened:
            parts.append(f"</{tag}>")
        return
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        parts.append(f"<{tag}>")
        _write_members(parts, shape, value)
        parts.append(f"</{tag}>")
        return
    parts.append(f"<{tag}>{_escape(_scalar_text(shape, value))}</{tag}>")


def _scalar_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(timestamp_to_wire(shape, value, "iso8601"))
    if kind == "blob":
        return blob_to_base64(value)
    if kind in ("float", "double"):
        special = special_float(value)
        return special if special is not None else repr(value) if isinstance(value, float) else str(value)
    return str(value)
