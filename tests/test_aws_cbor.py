"""Kinesis over CBOR: requests CBOR-encoded by botocore's own CBOR serialiser parse into the same
params, responses parse in botocore's own CBOR parser into the same output (timestamps in epoch
milliseconds, as the Java SDKs read them), and CBOR that is not well formed is refused, never a
crash."""

from __future__ import annotations

import contextlib
import datetime
from typing import Any

import pytest
from botocore.awsrequest import HeadersDict
from botocore.model import OperationModel
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer
from helpers.shapes import values
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from rulebus import AwsError
from rulebus.aws.brokers import Brokers
from rulebus.aws.dispatch import Dispatcher, HttpRequest
from rulebus.aws.handlers import Handlers
from rulebus.aws.protocols import CborProtocol, service_models
from rulebus.aws.protocols.cbor import CborTimestamp, dumps, loads

CODEC = CborProtocol("kinesis")
EXAMPLES = settings(max_examples=10, phases=[Phase.explicit, Phase.reuse, Phase.generate])


def _operations() -> list[OperationModel]:
    model = service_models("kinesis").model("json")
    assert model is not None
    return [model.operation_model(name) for name in sorted(model.operation_names)]


def _milliseconds(value: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(value / 1000, datetime.timezone.utc)


@EXAMPLES
@given(data=st.data())
def test_requests_cbor_encoded_by_botocore_parse_into_the_same_params(data: st.DataObject) -> None:
    for operation in _operations():
        if operation.input_shape is None:
            continue
        params = data.draw(
            values(operation.input_shape, nonempty=False, scope="kinesis"), label=operation.name
        )
        body = RpcV2CBORSerializer().serialize_to_request(params, operation)["body"]
        assert CODEC.parse(operation, body) == params, operation.name


@EXAMPLES
@given(data=st.data())
def test_responses_parse_in_botocores_cbor_parser_into_the_same_output(data: st.DataObject) -> None:
    parser = RpcV2CBORParser(timestamp_parser=_milliseconds)
    for operation in _operations():
        shape = operation.output_shape
        if shape is None or shape.event_stream_name:
            continue
        output = data.draw(values(shape, nonempty=False, scope="kinesis"), label=operation.name)
        reply = CODEC.write(operation, output, "r")
        assert reply.headers["Content-Type"] == "application/x-amz-cbor-1.1"
        response = {
            "status_code": 200,
            "headers": HeadersDict(reply.headers),
            "body": reply.body,
            "context": {},
        }
        parsed = parser.parse(response, shape)
        parsed.pop("ResponseMetadata", None)
        assert parsed == output, operation.name


def test_errors_are_cbor_maps_botocore_reads() -> None:
    reply = CODEC.write_error(None, AwsError("ResourceNotFoundException", "Stream s not found."), "r")
    response = {"status_code": 400, "headers": HeadersDict(reply.headers), "body": reply.body, "context": {}}
    parsed = RpcV2CBORParser().parse(response, None)
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert parsed["Error"]["Message"] == "Stream s not found."


def test_request_timestamps_in_seconds_or_milliseconds() -> None:
    model = service_models("kinesis").model("json")
    assert model is not None
    operation = model.operation_model("GetShardIterator")
    base = {"StreamName": "s", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP"}
    expected = datetime.datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=datetime.timezone.utc)
    for stamp in (CborTimestamp(expected.timestamp()), CborTimestamp(int(expected.timestamp() * 1000))):
        assert CODEC.parse(operation, dumps({**base, "Timestamp": stamp}))["Timestamp"] == expected


@pytest.mark.parametrize(
    "body",
    [
        b"\xa1",  # a map that ends early
        b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff",  # a byte string longer than the body
        b"\x9b\x00\x00\x00\x00\xff\xff\xff\xff",  # an array of 4 billion items
        b"\x81" * 100 + b"\x00",  # nested too deeply
        b"\xa1\x63\xff\xfe\xfd\x00",  # a key that is not UTF-8
        b"\xa0\x00",  # bytes after the item
        b"\xff",  # a lone break
        b"\x1c",  # a reserved additional information value
        b"\xa1\x80\x00",  # a map key that is an array
    ],
)
def test_cbor_that_is_not_well_formed_is_a_serialization_exception(body: bytes) -> None:
    with pytest.raises(AwsError) as raised:
        CODEC.parse(_operations()[0], body)
    assert raised.value.code == "SerializationException"


@given(st.binary(max_size=64))
def test_any_bytes_decode_or_are_refused(body: bytes) -> None:
    with contextlib.suppress(ValueError):  # anything else (IndexError, RecursionError...) fails
        loads(body)


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**64) + 1, 2**64 - 1)
        | st.floats(allow_nan=False)
        | st.text()
        | st.binary(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=10,
    )
)
def test_dumps_and_loads_round_trip(value: Any) -> None:
    assert loads(dumps(value)) == value


def test_indefinite_lengths_as_jackson_writes_them() -> None:
    body = b"\xbf\x6aStreamName\x7f\x61s\x61t\xff\x64Data\x5f\x41\x00\x41\x01\xff\xff"
    assert loads(body) == {"StreamName": "st", "Data": b"\x00\x01"}


def test_the_dispatcher_answers_cbor_in_cbor() -> None:
    seen: list[Any] = []

    def put_record(broker: Any, request: Any) -> dict[str, Any]:
        seen.append(request.params)
        return {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}

    dispatcher = Dispatcher(Brokers(), Handlers({"kinesis": {"PutRecord": put_record}}, load_services=False))
    headers = {"X-Amz-Target": "Kinesis_20131202.PutRecord", "Content-Type": "application/x-amz-cbor-1.1"}
    body = dumps({"StreamName": "s", "Data": b"\x00\xff", "PartitionKey": "k"})
    reply = dispatcher(HttpRequest("POST", "/", "", headers, body))
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/x-amz-cbor-1.1"
    assert loads(reply.body) == {"ShardId": "shardId-000000000000", "SequenceNumber": "1"}
    assert seen == [{"StreamName": "s", "Data": b"\x00\xff", "PartitionKey": "k"}]
    bad = dispatcher(HttpRequest("POST", "/", "", headers, b"\xa1"))
    assert bad.status == 400 and loads(bad.body)["__type"] == "SerializationException"
    unknown = dispatcher(
        HttpRequest("POST", "/", "", {**headers, "X-Amz-Target": "Kinesis_20131202.Nope"}, b"")
    )
    assert loads(unknown.body)["__type"] == "UnknownOperationException"
