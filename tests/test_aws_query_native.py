"""The query protocol's native reading (``rulebus._core.decode_form`` and ``QueryReader``) held
to the Python reader: a form's pairs as ``urllib.parse.parse_qsl`` reads them, and params equal
in value and type to what ``QueryProtocol.parse`` reads, for every query operation rulebus
serves. Where the native reader declines (None), the Python reader decides; the tests also hold
that it does not decline the forms SDKs send."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore.model import OperationModel
from helpers.json_plans import operations
from helpers.same import assert_same
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus import AwsError
from rulebus._core import QueryReader, decode_form
from rulebus.aws.dispatch import _decode_form
from rulebus.aws.protocols import QueryProtocol, form_tree, service_models
from rulebus.aws.protocols.query import native_plan

QUERY_SERVICES = ("sns", "sqs", "sts")

# Text that exercises the escapes: '+', '%' with and without hex digits, UTF-8 sequences.
FORM_TEXT = st.text(alphabet="ab=&+%2BcFf09.é\u2603", max_size=40) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30
)


def _python_pairs(text: str) -> list[tuple[str, str]] | None:
    """parse_qsl's pairs, or None when it refuses the text (escapes that are not UTF-8)."""
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None


@given(FORM_TEXT)
def test_decode_form_reads_as_parse_qsl_or_declines(text: str) -> None:
    raw = text.encode("utf-8")
    native = decode_form(raw, 10_000)
    want = _python_pairs(text)
    if native is None:
        assert not text.isascii() or want is None, text
    else:
        assert text.isascii()
        assert native == want
    # The dispatcher's reader (native first, then Python's) agrees either way.
    if want is None:
        with pytest.raises(AwsError):
            _decode_form(raw)
    else:
        assert _decode_form(raw) == want


def test_decode_form_declines_too_many_fields() -> None:
    assert decode_form(b"a=1&b=2&c=3", 2) is None
    assert decode_form(b"a=1&b=2", 2) == [("a", "1"), ("b", "2")]


OPERATIONS = operations(QUERY_SERVICES, "query")
NUMBERS = ("1", "2", "01", "0", "3")


def _keys(plan: tuple[Any, ...], prefix: str, depth: int = 0) -> list[str]:
    """Keys a form for ``plan`` may hold under ``prefix``: the shape's own (with list and map
    positions numbered a few ways) and a few it does not name."""
    kind = plan[0]
    here = [prefix] if prefix else []
    if depth > 4:
        return here

    def join(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    if kind == "structure":
        keys = [*here, join("Unknown")]
        for _, key, member in plan[1]:
            keys += _keys(member, join(key), depth + 1)
        return keys
    if kind == "list":
        under = join(plan[1]) if plan[1] is not None else prefix
        keys = here + ([under] if plan[1] else [])
        for number in NUMBERS[:3]:
            keys += _keys(plan[2], f"{under}.{number}", depth + 1)
        return keys
    if kind == "map":
        under = join("entry") if plan[1] else prefix
        keys = list(here)
        for number in NUMBERS[:3]:
            keys += _keys(plan[4], f"{under}.{number}.{plan[2]}", depth + 1)
            keys += _keys(plan[5], f"{under}.{number}.{plan[3]}", depth + 1)
        return keys
    return here


# Eighty operations: a fifth of the usual cases each (RULEBUS_FUZZ_EXAMPLES raises them all).
PER_OPERATION = settings(max_examples=max(20, (settings.default.max_examples or 100) // 5))
VALUES = (
    "",
    "x",
    "a b",
    "1",
    "-3",
    "+7",
    "007",
    "12345678901234567890",
    "true",
    "FALSE",
    " true",
    "1.5",
    "é",
)


@pytest.mark.parametrize(("service", "operation"), OPERATIONS, ids=[f"{s}.{o.name}" for s, o in OPERATIONS])
@PER_OPERATION
@given(data=st.data())
def test_the_native_reader_reads_as_the_python_reader(
    service: str, operation: OperationModel, data: st.DataObject
) -> None:
    assert operation.input_shape is not None
    plan = native_plan(operation.input_shape)
    keys = sorted(set(_keys(plan, "")))
    # Most forms name the required members, so that the rest of the shape is read, not refused.
    required = (
        [(key, data.draw(st.sampled_from(VALUES))) for key in plan[2]] if data.draw(st.integers(0, 4)) else []
    )
    pairs = required + data.draw(
        st.lists(st.tuples(st.sampled_from(keys), st.sampled_from(VALUES)), max_size=12)
    )
    pairs = data.draw(st.permutations(pairs))
    native = QueryReader(plan).read(pairs)
    codec = QueryProtocol(service)
    try:
        want = codec.parse(operation, form_tree(pairs))
    except AwsError:
        assert native is None  # the Python reader says what is wrong: never the native one
        return
    if native is not None:
        assert_same(native, want)
    assert_same(codec.parse_pairs(operation, pairs), want)


def test_an_sdk_publish_is_read_natively() -> None:
    model = service_models("sns").model("query")
    assert model is not None
    publish = model.operation_model("Publish")
    assert publish.input_shape is not None
    pairs = [
        ("Action", "Publish"),
        ("Version", "2010-03-31"),
        ("TopicArn", "arn:aws:sns:us-east-1:000000000000:t"),
        ("Message", "hi"),
        ("MessageAttributes.entry.1.Name", "group"),
        ("MessageAttributes.entry.1.Value.DataType", "String"),
        ("MessageAttributes.entry.1.Value.StringValue", "1"),
    ]
    read = QueryReader(native_plan(publish.input_shape)).read(pairs)
    assert read == {
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
        "Message": "hi",
        "MessageAttributes": {"group": {"DataType": "String", "StringValue": "1"}},
    }


def test_the_native_reader_declines_what_only_python_reads() -> None:
    model = service_models("sqs").model("query")
    assert model is not None
    receive = model.operation_model("ReceiveMessage")
    assert receive.input_shape is not None
    reader = QueryReader(native_plan(receive.input_shape))
    url = ("QueueUrl", "http://q")
    assert reader.read([url, ("MaxNumberOfMessages", "10")]) == {
        "QueueUrl": "http://q",
        "MaxNumberOfMessages": 10,
    }
    assert reader.read([url, ("MaxNumberOfMessages", "ten")]) is None  # the Python reader's error
    assert reader.read([("MaxNumberOfMessages", "1")]) is None  # QueueUrl is required
    assert reader.read([url, ("MaxNumberOfMessages", 10)]) is None  # type: ignore[list-item]
