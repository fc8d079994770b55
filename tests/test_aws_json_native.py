"""AWS JSON's native reading and writing (``rulebus._core.JsonReader`` and ``JsonWriter``) held
to the Python reader and writer. Read: params equal in value and type to what
``JsonProtocol.parse_in_python`` reads, for every JSON operation rulebus serves, on bodies made
of the shape's members with values of every JSON type (right and wrong for the member), nulls,
names the shape lacks, names given twice, escapes and spacing of every kind. Written: the very
bytes ``JsonProtocol.write_in_python`` writes, for outputs of every output shape, now and then
with members unset, unknown or of another type. Where the native side declines (None), the
Python side decides, and it alone words AWS's errors."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from botocore.model import OperationModel
from helpers.json_plans import operations, python_only
from helpers.same import assert_same
from helpers.shapes import values
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus import AwsError
from rulebus._core import JsonReader, JsonWriter
from rulebus.aws.protocols import JsonProtocol, service_models
from rulebus.aws.protocols.awsjson import native_plan

JSON_SERVICES = {"sqs": "1.0", "events": "1.1", "kinesis": "1.1"}


OPERATIONS = operations(JSON_SERVICES, "json")

SCALARS = st.sampled_from(
    [
        "",
        "x",
        "a b",
        "é",
        "\u2603",
        "\U0001f600",
        'q"uo\\te',
        "line\nbreak",
        "\x00",
        0,
        -3,
        10,
        2**63 - 1,
        -(2**63),
        2**63,
        12345678901234567890,
        1.5,
        10.0,
        -0.0,
        1e30,
        True,
        False,
        None,
    ]
)


class Raw(str):
    """JSON text written into a body as it is (a member's value, or a name given twice)."""


def _value(plan: tuple[Any, ...], depth: int) -> st.SearchStrategy[Any]:
    """A value for a member read by ``plan``: mostly of its type, sometimes of another."""
    kind = plan[0]
    keys = st.sampled_from(["a", "b"])
    other = SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(keys, SCALARS, max_size=2)
    if depth > 4:
        return SCALARS
    if kind == "structure":
        return st.one_of(_members(plan, depth + 1).map(_object), other)
    if kind == "list":
        return st.one_of(st.lists(_value(plan[1], depth + 1) | st.none(), max_size=3), other)
    if kind == "map":
        entries = st.lists(
            st.tuples(st.sampled_from(["k", "K", "é", "k"]), _value(plan[2], depth + 1)), max_size=3
        )
        return st.one_of(entries.map(_object), other)
    typed = {
        "string": st.sampled_from(["", "x", "é", "\U0001f600", 'a"b', "12"]),
        "integer": st.sampled_from([0, 1, -7, 10, 2**62, 2**63, -(2**63) - 1]),
        "boolean": st.booleans(),
    }.get(kind, SCALARS)
    return st.one_of(typed, typed, other)


def _members(plan: tuple[Any, ...], depth: int) -> st.SearchStrategy[list[tuple[str, Any]]]:
    """A structure's members in any order: its required ones most often, some of the others,
    names it lacks, and now and then a name twice."""
    members = {wire: member for _, wire, member in plan[1]}
    names = [*sorted(members), "Unknown", "queueUrl"]

    @st.composite
    def draw(draw: st.DrawFn) -> list[tuple[str, Any]]:
        required = [wire for name, wire, _ in plan[1] if name in plan[2]]
        chosen = [] if draw(st.integers(0, 4)) == 0 else required
        chosen += draw(st.lists(st.sampled_from(names), max_size=6))
        pairs = [(name, draw(_value(members.get(name, ("other",)), depth))) for name in chosen]
        return draw(st.permutations(pairs))

    return draw()


def _object(pairs: list[tuple[str, Any]]) -> Raw:
    return Raw("{" + ", ".join(f"{json.dumps(name)}: {_text(value)}" for name, value in pairs) + "}")


def _text(value: Any) -> str:
    if isinstance(value, Raw):
        return value
    if isinstance(value, list):
        return "[" + ",".join(_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return _object(list(value.items()))
    return json.dumps(value)


def _respelled(text: str, data: st.DataObject) -> bytes:
    """The body as another client might write it: other spacing, non-ASCII text as UTF-8 or
    escaped."""
    if data.draw(st.booleans()):
        ascii_only = data.draw(st.booleans())
        indent = data.draw(st.sampled_from([None, 2]))
        text = json.dumps(json.loads(text), ensure_ascii=ascii_only, indent=indent)
    return text.encode("utf-8")


# A fifth of the usual cases per operation (RULEBUS_FUZZ_EXAMPLES raises them all).
PER_OPERATION = settings(max_examples=max(20, (settings.default.max_examples or 100) // 5))


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}.{o.name}" for s, o in OPERATIONS])
@PER_OPERATION
@given(data=st.data())
def test_the_native_reader_reads_as_the_python_reader(
    service: str, operation: OperationModel, data: st.DataObject
) -> None:
    assert operation.input_shape is not None
    plan = native_plan(operation.input_shape)
    text = _object(data.draw(_members(plan, 0)))
    try:
        body = _respelled(text, data)
    except ValueError:  # (a name twice, or 2**63 and kin: written as they are)
        body = text.encode("utf-8")
    native = JsonReader(plan).read(body)
    codec = JsonProtocol(service, JSON_SERVICES[service])
    try:
        want = codec.parse_in_python(operation, body)
    except AwsError:
        assert native is None  # the Python reader says what is wrong: never the native one
        return
    if native is not None:
        assert_same(native, want)
    elif not python_only(plan, want):
        # Declined, with nothing only Python reads: a name given twice, or a number other than
        # an integer within 64 bits, are the reasons left.
        assert _unusual(body), body
    assert_same(codec.parse(operation, body), want)


def _unusual(body: bytes) -> bool:
    """Whether the body names a member twice or holds a number other than a 64-bit integer."""
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        names = [name for name, _ in items]
        found = found or len(set(names)) < len(names)
        return dict(items)

    def integer(text: str) -> int:
        nonlocal found
        value = int(text)
        found = found or not -(2**63) <= value < 2**63
        return value

    def number(text: str) -> float:
        nonlocal found
        found = True
        return float(text)

    json.loads(body, object_pairs_hook=pairs, parse_int=integer, parse_float=number)
    return found


def test_an_sdk_send_message_batch_is_read_natively() -> None:
    operation = service_models("sqs").operation("json", "SendMessageBatch")
    assert operation is not None and operation.input_shape is not None
    attributes = {"n": {"DataType": "String", "StringValue": "v"}}
    request = {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/000000000000/q",
        "Entries": [
            {"Id": "0", "MessageBody": "hello", "DelaySeconds": 0},
            {"Id": "1", "MessageBody": "h\u00e9llo \U0001f600", "MessageAttributes": attributes},
        ],
    }
    for ascii_only in (True, False):
        body = json.dumps(request, ensure_ascii=ascii_only).encode()
        assert_same(JsonReader(native_plan(operation.input_shape)).read(body), request)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"QueueUrl": "q", "MaxNumberOfMessages": 1.0}',  # a float where an integer goes (Python reads 1)
        b'{"QueueUrl": "q", "MaxNumberOfMessages": true}',
        b'{"QueueUrl": "q", "MaxNumberOfMessages": 99999999999999999999}',
        b'{"QueueUrl": "q", "QueueUrl": "r"}',
        b'{"QueueUrl": 5}',
        b'{"QueueUrl": "\\ud800"}',
        b'{"QueueUrl": "q", "Unknown": NaN}',
        b'{"MaxNumberOfMessages": 1}',
        b'{"QueueUrl": "q"',
        b'\xef\xbb\xbf{"QueueUrl": "q"}',
        # Read as they come: a fault after members already made still declines the whole body.
        b'{"QueueUrl": "q"} x',
        b'{"QueueUrl": "q", "AttributeNames": ["All"], "x": [1 2]}',
        b'{"QueueUrl": "q" "MaxNumberOfMessages": 1}',
        b'{"QueueUrl": "q",}',
        b'{"QueueUrl": "q", "AttributeNames": ["All",]}',
        b'{"QueueUrl": "q", "MaxNumberOfMessages": 01}',
        b'{"QueueUrl": null, "QueueUrl": "q"}',
        b'{"QueueUrl": "q", "u": ' + b"[" * 64 + b"]" * 64 + b"}",
    ],
)
def test_the_native_reader_declines_what_only_python_reads_or_refuses(body: bytes) -> None:
    operation = service_models("sqs").operation("json", "ReceiveMessage")
    assert operation is not None and operation.input_shape is not None
    assert JsonReader(native_plan(operation.input_shape)).read(body) is None


def test_nulls_are_absent_members_and_none_items() -> None:
    operation = service_models("events").operation("json", "PutEvents")
    assert operation is not None and operation.input_shape is not None
    body = b'{"Entries": [{"Source": "s", "Resources": ["a", null], "Time": null}, null], "EndpointId": null}'
    params = JsonReader(native_plan(operation.input_shape)).read(body)
    assert params == {"Entries": [{"Source": "s", "Resources": ["a", None]}, None]}
    assert_same(params, JsonProtocol("events", "1.1").parse_in_python(operation, body))


# -- responses ----------------------------------------------------------------------------------


WRITTEN = operations(JSON_SERVICES, "json", output=True)


def _mutated(value: Any, data: st.DataObject, depth: int = 0) -> Any:
    """``value`` with, now and then, a member set to None, a member the shape lacks, or a value
    of another type (what a handler's bug or an unusual answer would hold)."""
    if depth > 4 or not data.draw(st.integers(0, 3)):
        return value
    if isinstance(value, dict):
        changed = {key: _mutated(item, data, depth + 1) for key, item in value.items()}
        change = data.draw(st.sampled_from(["none", "unknown", "type", "keep"]))
        if change == "none" and changed:
            changed[data.draw(st.sampled_from(sorted(changed)))] = None
        elif change == "unknown":
            changed["NotAMember"] = "x"
        elif change == "type" and changed:
            changed[data.draw(st.sampled_from(sorted(changed)))] = data.draw(SCALARS)
        return changed
    if isinstance(value, list):
        return [_mutated(item, data, depth + 1) for item in value]
    return value


def _python_written(codec: JsonProtocol, operation: OperationModel, output: Any) -> bytes | None:
    try:
        return codec.write_in_python(operation, output, "r").body
    except Exception:  # (a shape that does not take the output: the Python writer refuses it)
        return None


@pytest.mark.parametrize(("service", "operation"), WRITTEN, ids=[f"{s}.{o.name}" for s, o in WRITTEN])
@PER_OPERATION
@given(data=st.data())
def test_the_native_writer_writes_as_the_python_writer(
    service: str, operation: OperationModel, data: st.DataObject
) -> None:
    shape = operation.output_shape
    assert shape is not None
    output = _mutated(data.draw(values(shape, nonempty=False, scope=service)), data)
    plan = native_plan(shape, output=True)
    native = JsonWriter(plan).write(output)
    codec = JsonProtocol(service, JSON_SERVICES[service])
    want = _python_written(codec, operation, output)
    if want is None:
        assert native is None  # the Python writer refuses it: never written natively
        return
    if native is not None:
        assert native == want
    else:
        assert not _conforms(plan, output), output
    assert codec.write(operation, output, "r").body == want


def _conforms(plan: tuple[Any, ...], value: Any) -> bool:
    """Whether ``value`` is what ``plan``'s shape holds, in JSON's own types: dicts for
    structures and maps (text keys), lists for lists, text, booleans and 64-bit integers for
    the rest. The Python writer writes some values that do not (an iterable for a list, a float
    for an integer), which the native writer leaves to it."""
    kind = plan[0]
    if kind == "structure":
        members = {name: member for name, _, member in plan[1]}
        return type(value) is dict and all(
            item is None or (name in members and _conforms(members[name], item))
            for name, item in value.items()
        )
    if kind == "list":
        return type(value) is list and all(
            (item is None and plan[1][0] != "structure") or _conforms(plan[1], item) for item in value
        )
    if kind == "map":
        return type(value) is dict and all(
            type(key) is str and (item is None or _conforms(plan[2], item)) for key, item in value.items()
        )
    if kind == "other":
        return False
    if type(value) is int:
        return -(2**63) <= value < 2**63
    return type(value) in (str, bool)


def test_a_receive_is_written_natively_as_orjson_writes_it() -> None:
    operation = service_models("sqs").operation("json", "ReceiveMessage")
    assert operation is not None and operation.output_shape is not None
    message = {
        "MessageId": "m",
        "ReceiptHandle": "r",
        "MD5OfBody": "d",
        "Body": 'h\u00e9 "q" \\ \x00\x1f\x7f\u2028 \U0001f600\n\t',
        "Attributes": {"SenderId": "1", "ApproximateReceiveCount": "2"},
    }
    output = {"Messages": [message, message]}
    written = JsonWriter(native_plan(operation.output_shape, output=True)).write(output)
    assert written == orjson.dumps(output)
    # Not written natively: a lone surrogate (the standard library writes it), a member the
    # shape lacks (a bug: the Python writer refuses it).
    assert (
        JsonWriter(native_plan(operation.output_shape, output=True)).write({"Messages": [{"Body": "\ud800"}]})
        is None
    )
    assert JsonWriter(native_plan(operation.output_shape, output=True)).write({"Nope": 1}) is None


@settings(max_examples=500)
@given(
    body=st.binary(max_size=200)
    | st.text(alphabet='{}[]":,0123456789.eE+-\\ntrufalsu ', max_size=80).map(str.encode)
)
def test_the_native_reader_never_raises_on_any_bytes(body: bytes) -> None:
    operation = service_models("sqs").operation("json", "SendMessageBatch")
    assert operation is not None and operation.input_shape is not None
    params = JsonReader(native_plan(operation.input_shape)).read(body)
    assert params is None or isinstance(params, dict)


ANY_VALUE = st.recursive(
    SCALARS | st.binary(max_size=3) | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=500)
@given(output=ANY_VALUE)
def test_the_native_writer_never_raises_on_any_value(output: Any) -> None:
    operation = service_models("sqs").operation("json", "ReceiveMessage")
    assert operation is not None and operation.output_shape is not None
    written = JsonWriter(native_plan(operation.output_shape, output=True)).write({"Messages": output})
    if written is not None:  # what it writes, it writes as the Python writer does
        codec = JsonProtocol("sqs", "1.0")
        assert written == codec.write_in_python(operation, {"Messages": output}, "r").body


def test_a_body_given_as_a_bytearray_is_read_as_bytes_are() -> None:
    operation = service_models("sqs").operation("json", "ReceiveMessage")
    assert operation is not None
    codec = JsonProtocol("sqs", "1.0")
    body = b'{"QueueUrl": "q", "MaxNumberOfMessages": 2}'
    want = {"QueueUrl": "q", "MaxNumberOfMessages": 2}
    for sent in (body, bytearray(body)):  # (the native reader takes bytes alone)
        assert_same(codec.parse(operation, sent), want)  # type: ignore[arg-type]
