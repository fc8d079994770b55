"""The wire codec against botocore itself, with no handler: requests serialised by botocore's
own serialisers parse back into the same params, responses written by the codec parse back in
botocore's own parsers into the same output, and errors come out with the code and message
botocore reads (for every operation of SQS over JSON and query, SNS, EventBridge, Kinesis, STS)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore.awsrequest import AWSRequest, HeadersDict
from botocore.model import OperationModel, ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from helpers.json_plans import python_only
from helpers.same import assert_same
from helpers.shapes import values
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from rulebus import AwsError
from rulebus._core import JsonReader, decode_form
from rulebus._errors import sqs_error
from rulebus.aws.dispatch import MAX_FORM_FIELDS
from rulebus.aws.protocols import JsonProtocol, QueryProtocol, form_tree, service_models
from rulebus.aws.protocols.awsjson import native_plan as json_plan

MODELS = [
    ("sqs", "json"),
    ("sqs", "query"),
    ("sns", "query"),
    ("events", "json"),
    ("kinesis", "json"),
    ("sts", "query"),
]
# Each example draws params for every operation of a model: shrinking such a case takes long and
# the failure message names the operation anyway.
EXAMPLES = settings(max_examples=10, phases=[Phase.explicit, Phase.reuse, Phase.generate])


def _model(service: str, protocol: str) -> ServiceModel:
    model = service_models(service).model(protocol)
    assert model is not None
    return model


def _codec(service: str, protocol: str) -> JsonProtocol | QueryProtocol:
    if protocol == "json":
        return JsonProtocol(service, str(_model(service, protocol).metadata["jsonVersion"]))
    return QueryProtocol(service)


def _operations(service: str, protocol: str) -> list[OperationModel]:
    model = _model(service, protocol)
    return [model.operation_model(name) for name in sorted(model.operation_names)]


def _wire_body(service: str, protocol: str, operation: OperationModel, params: Mapping[str, Any]) -> bytes:
    """The body botocore would send for ``params``, prepared as its HTTP layer prepares it."""
    serialized = create_serializer(protocol, include_validation=False).serialize_to_request(
        dict(params), operation
    )
    request = AWSRequest(
        method=serialized["method"],
        url=f"https://{service}.us-east-1.amazonaws.com/",
        data=serialized["body"],
        headers=serialized["headers"],
    ).prepare()
    body = request.body
    return body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")


def _parse(codec: JsonProtocol | QueryProtocol, operation: OperationModel, body: bytes) -> dict[str, Any]:
    if isinstance(codec, JsonProtocol):
        by_python = codec.parse_in_python(operation, body)
        assert operation.input_shape is not None
        plan = json_plan(operation.input_shape)
        native = JsonReader(plan).read(body)
        if native is None:  # (declined only for the members only Python reads)
            assert python_only(plan, by_python), operation.name
        else:
            assert_same(native, by_python)
        assert_same(codec.parse(operation, body), by_python)
        return by_python
    pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    assert ("Action", operation.name) in pairs
    assert decode_form(body, MAX_FORM_FIELDS) == pairs  # (what an SDK sends is read natively)
    by_python = codec.parse(operation, form_tree(pairs))
    assert_same(codec.parse_pairs(operation, pairs), by_python)
    return by_python


def _botocore_reads(
    protocol: str, operation: OperationModel | None, status: int, headers: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    response = {
        "status_code": status,
        "headers": HeadersDict(headers),
        "body": body,
        "context": {"operation_name": operation.name if operation else ""},
    }
    shape = operation.output_shape if operation is not None and status == 200 else None
    parsed: dict[str, Any] = create_parser(protocol).parse(response, shape)
    return parsed


@pytest.mark.parametrize(("service", "protocol"), MODELS)
def test_the_models_cover_the_services(service: str, protocol: str) -> None:
    assert len(_operations(service, protocol)) >= 10


@pytest.mark.parametrize(("service", "protocol"), MODELS)
@EXAMPLES
@given(data=st.data())
def test_requests_serialised_by_botocore_parse_into_the_same_params(
    service: str, protocol: str, data: st.DataObject
) -> None:
    codec = _codec(service, protocol)
    for operation in _operations(service, protocol):
        if operation.input_shape is None:
            continue
        strategy = values(operation.input_shape, nonempty=protocol == "query", scope=service)
        params = data.draw(strategy, label=operation.name)
        body = _wire_body(service, protocol, operation, params)
        assert _parse(codec, operation, body) == params, operation.name


@pytest.mark.parametrize(("service", "protocol"), MODELS)
@EXAMPLES
@given(data=st.data())
def test_responses_written_by_the_codec_parse_in_botocore_into_the_same_output(
    service: str, protocol: str, data: st.DataObject
) -> None:
    codec = _codec(service, protocol)
    for operation in _operations(service, protocol):
        shape = operation.output_shape
        if shape is not None and shape.event_stream_name:
            continue  # SubscribeToShard's event stream is not this codec's
        output = (
            {}
            if shape is None
            else data.draw(values(shape, nonempty=True, scope=service), label=operation.name)
        )
        reply = codec.write(operation, output, "req-1")
        assert reply.status == 200
        assert reply.headers["x-amzn-RequestId"] == "req-1"
        parsed = _botocore_reads(protocol, operation, 200, reply.headers, reply.body)
        assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
        assert parsed == output, operation.name


@pytest.mark.parametrize(("service", "protocol"), [m for m in MODELS if m[0] != "sqs"])
def test_errors_parse_in_botocore_with_their_code_and_message(service: str, protocol: str) -> None:
    codec = _codec(service, protocol)
    error = AwsError("NotFound", 'Topic <"&> does not exist', status=404)
    reply = codec.write_error(_model(service, protocol), error, "req-2")
    parsed = _botocore_reads(protocol, None, reply.status, reply.headers, reply.body)
    assert reply.status == 404
    assert parsed["Error"]["Code"] == "NotFound"
    assert parsed["Error"]["Message"] == 'Topic <"&> does not exist'
    assert parsed["ResponseMetadata"]["RequestId"] == "req-2"


def test_sqs_json_errors_carry_the_legacy_code_that_botocore_maps_back_to_the_modeled_class() -> None:
    codec = _codec("sqs", "json")
    reply = codec.write_error(
        None, sqs_error("QueueDoesNotExist", "The specified queue does not exist."), "r"
    )
    assert reply.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    parsed = _botocore_reads("json", None, reply.status, reply.headers, reply.body)
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert parsed["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    assert parsed["Error"]["Type"] == "Sender"
    assert parsed["Error"]["Message"] == "The specified queue does not exist."


def test_sqs_query_errors_carry_the_legacy_code() -> None:
    codec = _codec("sqs", "query")
    error = sqs_error(
        "PurgeQueueInProgress", "Only one PurgeQueue operation on q is allowed every 60 seconds."
    )
    reply = codec.write_error(_model("sqs", "query"), error, "r")
    assert reply.status == 403
    parsed = _botocore_reads("query", None, reply.status, reply.headers, reply.body)
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert parsed["Error"]["Type"] == "Sender"


def test_a_receiver_fault_says_receiver() -> None:
    reply = _codec("sns", "query").write_error(None, AwsError("InternalError", "x", sender_fault=False), "r")
    assert b"<Type>Receiver</Type>" in reply.body


# -- the query names of SQS, from the query model ------------------------------------------------


def test_sqs_query_requests_use_the_names_of_flattened_members() -> None:
    operation = _model("sqs", "query").operation_model("SendMessageBatch")
    params = {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/000000000000/q",
        "Entries": [
            {
                "Id": "a",
                "MessageBody": "x",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            }
        ],
    }
    form = dict(parse_qsl(_wire_body("sqs", "query", operation, params).decode()))
    assert form["SendMessageBatchRequestEntry.1.Id"] == "a"
    assert form["SendMessageBatchRequestEntry.1.MessageAttribute.1.Name"] == "k"
    assert form["SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue"] == "v"
    assert _codec("sqs", "query").parse(operation, form_tree(form.items())) == params


def test_sqs_query_responses_are_aws_xml() -> None:
    operation = _model("sqs", "query").operation_model("ReceiveMessage")
    output = {
        "Messages": [
            {"MessageId": "m", "Body": "a\r\nb <&>", "Attributes": {"SenderId": "s"}},
        ]
    }
    body = _codec("sqs", "query").write(operation, output, "rid").body.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<ReceiveMessageResponse ')
    assert 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"' in body
    assert "<ReceiveMessageResult><Message><MessageId>m</MessageId>" in body
    assert "<Body>a&#xD;\nb &lt;&amp;&gt;</Body>" in body
    assert "<Attribute><Name>SenderId</Name><Value>s</Value></Attribute>" in body
    assert body.endswith(
        "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
    )


def test_sns_query_maps_and_lists() -> None:
    model = _model("sns", "query")
    publish = model.operation_model("Publish")
    body = {
        "Action": "Publish",
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
        "Message": "hi",
        "MessageAttributes.entry.1.Name": "color",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "red",
    }
    params = _codec("sns", "query").parse(publish, form_tree(body.items()))
    assert params["MessageAttributes"] == {"color": {"DataType": "String", "StringValue": "red"}}
    listed = model.operation_model("ListTopics")
    xml = _codec("sns", "query").write(listed, {"Topics": [{"TopicArn": "a"}, {"TopicArn": "b"}]}, "r").body
    assert (
        b"<Topics><member><TopicArn>a</TopicArn></member><member><TopicArn>b</TopicArn></member></Topics>"
        in xml
    )


def test_an_empty_list_travels_as_the_bare_name() -> None:
    operation = _model("sns", "query").operation_model("TagResource")
    params = {"ResourceArn": "arn", "Tags": []}
    form = parse_qsl(_wire_body("sns", "query", operation, params).decode(), keep_blank_values=True)
    assert ("Tags", "") in form
    assert _codec("sns", "query").parse(operation, form_tree(form)) == params


# -- what the codec refuses ----------------------------------------------------------------------


def _kinesis_put_record() -> OperationModel:
    return _model("kinesis", "json").operation_model("PutRecord")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b"\xff\xfe", "The request body is not UTF-8"),
        (b"[1]", "START_ARRAY can not be converted to a Structure"),
        (
            b'{"StreamName": 5, "Data": "", "PartitionKey": "k"}',
            "NUMBER_VALUE can not be converted to a String",
        ),
        (
            b'{"StreamName": "s", "Data": "%%%", "PartitionKey": "k"}',
            "Unable to decode the base64 value of 'Data'",
        ),
        (
            b'{"StreamName": {}, "Data": "", "PartitionKey": "k"}',
            "START_OBJECT can not be converted to a String",
        ),
    ],
)
def test_json_bodies_the_model_refuses_are_serialization_exceptions(body: bytes, message: str) -> None:
    with pytest.raises(AwsError) as raised:
        _codec("kinesis", "json").parse(_kinesis_put_record(), body)
    assert raised.value.code == "SerializationException"
    assert raised.value.message.startswith(message)


def test_json_wrong_types_for_numbers_booleans_and_timestamps() -> None:
    codec = _codec("kinesis", "json")
    iterator = _model("kinesis", "json").operation_model("GetShardIterator")
    base = b'"StreamName": "s", "ShardId": "shard", "ShardIteratorType": "AT_TIMESTAMP"'
    with pytest.raises(AwsError, match=r"Unable to parse timestamp 'yesterday'"):
        codec.parse(iterator, b"{" + base + b', "Timestamp": "yesterday"}')
    parsed = codec.parse(iterator, b"{" + base + b', "Timestamp": "2026-01-02T03:04:05Z"}')
    assert parsed["Timestamp"].isoformat() == "2026-01-02T03:04:05+00:00"
    parsed = codec.parse(iterator, b"{" + base + b', "Timestamp": 1767323045.5}')
    assert parsed["Timestamp"].isoformat() == "2026-01-02T03:04:05.500000+00:00"
    records = _model("kinesis", "json").operation_model("GetRecords")
    with pytest.raises(AwsError, match="TRUE_VALUE can not be converted to an Integer"):
        codec.parse(records, b'{"ShardIterator": "i", "Limit": true}')


def test_json_text_where_a_number_goes_and_a_number_where_text_goes_are_refused() -> None:
    # Strings are taken as they are only by string members: a string for an integer member and
    # a number for a string member are still type errors.
    codec = _codec("kinesis", "json")
    records = _model("kinesis", "json").operation_model("GetRecords")
    with pytest.raises(AwsError, match="STRING_VALUE can not be converted to an Integer"):
        codec.parse(records, b'{"ShardIterator": "i", "Limit": "10"}')
    with pytest.raises(AwsError, match="NUMBER_VALUE can not be converted to a String"):
        codec.parse(records, b'{"ShardIterator": 7}')
    assert codec.parse(records, b'{"ShardIterator": "i", "Limit": 10}') == {"ShardIterator": "i", "Limit": 10}


def test_a_missing_required_member_is_the_services_missing_parameter_error() -> None:
    with pytest.raises(AwsError) as raised:
        _codec("kinesis", "json").parse(_kinesis_put_record(), b'{"StreamName": "s", "PartitionKey": "k"}')
    assert raised.value.code == "ValidationException"
    assert raised.value.message == (
        "1 validation error detected: Value null at 'data' failed to satisfy constraint: "
        "Member must not be null"
    )
    entries = _model("events", "json").operation_model("PutTargets")
    with pytest.raises(AwsError, match=r"Value null at 'targets\.1\.member\.arn'"):
        _codec("events", "json").parse(entries, b'{"Rule": "r", "Targets": [{"Id": "t"}]}')
    send = _model("sqs", "json").operation_model("SendMessage")
    with pytest.raises(AwsError) as raised:
        _codec("sqs", "json").parse(send, b'{"QueueUrl": "u"}')
    assert (raised.value.code, raised.value.query_code) == ("MissingParameter", "MissingParameter")
    assert raised.value.message == "The request must contain the parameter MessageBody."
    publish = _model("sns", "query").operation_model("Subscribe")
    with pytest.raises(AwsError) as raised:
        _codec("sns", "query").parse(publish, form_tree([("TopicArn", "a")]))
    assert (raised.value.code, raised.value.message) == ("InvalidParameter", "Invalid parameter: Protocol")


def test_query_values_of_the_wrong_type_are_invalid_parameter_values() -> None:
    receive = _model("sqs", "query").operation_model("ReceiveMessage")
    with pytest.raises(AwsError) as raised:
        _codec("sqs", "query").parse(receive, form_tree([("QueueUrl", "u"), ("MaxNumberOfMessages", "ten")]))
    assert raised.value.code == "InvalidParameterValue"
    assert raised.value.message.startswith("Value ten for parameter MaxNumberOfMessages is invalid.")
    with pytest.raises(AwsError):
        _codec("sqs", "query").parse(receive, form_tree([("QueueUrl", "u"), ("MaxNumberOfMessages", "1_0")]))


def test_xml_text_that_xml_cannot_carry_becomes_the_replacement_character() -> None:
    operation = _model("sns", "query").operation_model("CreateTopic")
    reply = _codec("sns", "query").write(operation, {"TopicArn": "a\x00b\ud800c"}, "r")
    parsed = _botocore_reads("query", operation, 200, reply.headers, reply.body)
    assert parsed["TopicArn"] == "a\ufffdb\ufffdc"


def test_json_text_with_a_lone_surrogate_stays_valid_json() -> None:
    operation = _model("sqs", "json").operation_model("GetQueueUrl")
    reply = _codec("sqs", "json").write(operation, {"QueueUrl": "q\ud800"}, "r")
    reply.body.decode("ascii")
    assert _botocore_reads("json", operation, 200, reply.headers, reply.body)["QueueUrl"] == "q\ud800"


def test_an_output_member_the_shape_lacks_is_a_bug_not_silently_dropped() -> None:
    operation = _model("sqs", "json").operation_model("GetQueueUrl")
    with pytest.raises(ValueError, match="no member 'Url'"):
        _codec("sqs", "json").write(operation, {"Url": "x"}, "r")


def test_a_batch_result_entry_drops_unset_members_and_refuses_unknown_ones() -> None:
    # PutEvents' result entries are plain structures, written as they are when complete.
    operation = _model("events", "json").operation_model("PutEvents")
    codec = _codec("events", "json")
    entries = [{"EventId": "a"}, {"EventId": None, "ErrorCode": "E", "ErrorMessage": "m"}]
    body = codec.write(operation, {"FailedEntryCount": 1, "Entries": entries}, "r").body
    assert json.loads(body)["Entries"] == [{"EventId": "a"}, {"ErrorCode": "E", "ErrorMessage": "m"}]
    with pytest.raises(ValueError, match="no member 'Id'"):
        codec.write(operation, {"FailedEntryCount": 0, "Entries": [{"EventId": "a"}, {"Id": "b"}]}, "r")


# Pieces of JSON text, well formed and not: what orjson and the standard library might read
# differently (NaN, 1e400, integers past 64 bits, lone surrogates, a BOM, raw control bytes).
_JSON_PIECES = [
    *(
        piece.encode()
        for piece in ["{", "}", "[", "]", '"', ":", ",", "1", "0", "-", ".", "e", "+", " ", "\n"]
    ),
    b"\\",
    b"u",
    b"d800",
    b"00e9",
    b"a",
    b"\x00",
    b"\x1f",
    b"\xef\xbb\xbf",
    b"\xc3\xa9",
    b"\xff",
    b"\xed\xa0\x80",
    b"true",
    b"null",
    b"NaN",
    b"Infinity",
    b"1e400",
    b"12345678901234567890",
    b"-9223372036854775809",
]


def _standard_read(body: bytes) -> tuple[str, str]:
    try:
        return ("read", json.dumps(json.loads(body.decode("utf-8"))))
    except (ValueError, RecursionError):
        return ("refused", "")


@settings(max_examples=2000)
@given(st.lists(st.sampled_from(_JSON_PIECES), max_size=25).map(b"".join))
def test_a_json_body_reads_as_the_standard_library_reads_it(body: bytes) -> None:
    """The JSON codec reads most bodies with orjson: every body must read as ``json.loads``
    reads it (values and their types alike), and what that refuses, the codec refuses."""
    assume(body.strip())  # (an empty body is an empty object, a rule of the protocol)
    codec = JsonProtocol("events", "1.1")
    try:
        got = ("read", json.dumps(codec.decode(body)))
    except AwsError as error:
        assert error.code == "SerializationException"
        got = ("refused", "")
    assert got == _standard_read(body)


def test_an_integer_past_64_bits_stays_an_integer() -> None:
    codec = JsonProtocol("sqs", "1.0")
    assert codec.decode(b'{"MaxNumberOfMessages": 18446744073709551617}') == {
        "MaxNumberOfMessages": 18446744073709551617
    }


def test_xml_text_is_escaped_the_same_with_or_without_the_plain_text_shortcut() -> None:
    """``_escape`` returns plain text as it is: the same as escaping it character by character
    (XML's escapes, and U+FFFD for what XML cannot carry)."""
    from rulebus.aws.protocols.query import _ESCAPES, _escape

    def carried(c: str) -> bool:
        return c in "\t\n\r" or " " <= c < "\ud800" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"

    def by_character(text: str) -> str:
        return "".join(_ESCAPES.get(c, c) if carried(c) else "\ufffd" for c in text)

    for code in [*range(0x80), 0xE9, 0x2603, 0xD800, 0xFFFE, 0x1F600]:
        text = f"a{chr(code)}b"
        assert _escape(text) == by_character(text), hex(code)
    assert _escape("arn:aws:sns:us-east-1:000000000000:t") == "arn:aws:sns:us-east-1:000000000000:t"
