"""Target input: Input, InputPath and InputTransformer, validated as PutTargets does and rendered as
EventBridge delivers it. Expected outputs come from the EventBridge user guide's "Input transform
examples" table, the API reference's InputTransformer examples and LocalStack snapshots recorded on
AWS; each test names its source."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rulebus._errors import AwsError
from rulebus.events.input_transformer import (
    MAX_INPUT_PATHS,
    InputTransformationError,
    TargetInput,
    compile_path,
)

RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"
RULE_NAME = "example"
INGESTION = 1447277395.0  # 2015-11-11T21:29:55Z

# The user guide's example EC2 event.
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
GUIDE_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}

# LocalStack's test event (tests/aws/services/events/test_events.py EVENT_DETAIL).
ACCOUNT_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "3c1a2e9b-0000-4000-8000-000000000001",
    "detail-type": "core.update-account-command",
    "source": "core.update-account-command",
    "account": "111111111111",
    "time": "2024-06-11T08:33:04Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}},
}
ACCOUNT_PATHS = {"detail-type": "$.detail-type", "timestamp": "$.time", "command": "$.detail.command"}


def transformer(template: str, paths: dict[str, str] | None = None, target_id: str = "t1") -> TargetInput:
    spec: dict[str, Any] = {"InputTemplate": template}
    if paths is not None:
        spec["InputPathsMap"] = paths
    return TargetInput.from_target({"Id": target_id, "Arn": "arn:x", "InputTransformer": spec})


def render(target_input: TargetInput, event: dict[str, Any] = EC2_EVENT) -> str:
    return target_input.render(event, RULE_ARN, RULE_NAME, INGESTION)


def refused(target: dict[str, Any], index: int = 1) -> AwsError:
    with pytest.raises(AwsError) as caught:
        TargetInput.from_target(target, index)
    assert caught.value.code == "ValidationException"
    return caught.value


# --------------------------------------------------------------------------------------------------
# The user guide's table, row by row


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Simple string
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        # String with escaped quotes
        ('"instance \\"<instance>\\" is in <state>"', '"instance \\"i-0123456789\\" is in RUNNING"'),
        # Including reserved variables in a string
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
    ],
)
def test_user_guide_string_templates(template: str, expected: str) -> None:
    assert render(transformer(template, GUIDE_PATHS)) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Simple JSON
        (
            '{\n  "instance" : <instance>,\n  "state": <state>\n}',
            {"instance": "i-0123456789", "state": "RUNNING"},
        ),
        # JSON with strings and variables
        (
            '{\n "instance" : <instance>,\n "state": "<state>",\n'
            ' "instanceStatus": "instance \\"<instance>\\" is in <state>"\n}',
            {
                "instance": "i-0123456789",
                "state": "RUNNING",
                "instanceStatus": 'instance "i-0123456789" is in RUNNING',
            },
        ),
        # JSON with a mix of variables and static information
        (
            '{\n  "instance" : <instance>,\n  "state": [ 9, <state>, true ],\n  "Transformed" : "Yes"\n}\n',
            {"instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"},
        ),
    ],
)
def test_user_guide_json_templates(template: str, expected: dict[str, Any]) -> None:
    out = render(transformer(template, GUIDE_PATHS))
    assert json.loads(out) == expected
    assert out == json.dumps(expected, separators=(",", ":"))  # "minified", says the guide


def test_user_guide_reserved_variables_in_json() -> None:
    template = (
        '{\n  "instance" : <instance>,\n  "state": <state>,\n  "ruleArn" : <aws.events.rule-arn>,\n'
        '  "ruleName" : <aws.events.rule-name>,\n  "originalEvent" : <aws.events.event>\n}'
    )
    out = json.loads(render(transformer(template, GUIDE_PATHS)))
    assert out["instance"] == "i-0123456789"
    assert out["state"] == "RUNNING"
    assert out["ruleArn"] == RULE_ARN
    assert out["ruleName"] == "example"
    assert out["originalEvent"]["id"] == EC2_EVENT["id"]


def test_user_guide_cloudwatch_log_group_template() -> None:
    # The guide's output for this row is garbled (an unquoted timestamp, a stray ")"); what a JSON
    # template yields under the guide's own rules is this.
    template = '{\n  "timestamp" : <timestamp>,\n  "message": "instance \\"<instance>\\" is in <state>"\n}'
    assert render(transformer(template, GUIDE_PATHS)) == (
        '{"timestamp":"2015-11-11T21:29:54Z","message":"instance \\"i-0123456789\\" is in RUNNING"}'
    )


# --------------------------------------------------------------------------------------------------
# The API reference's InputTransformer examples

API_EVENT = {**EC2_EVENT, "detail": {"instance": "i-1", "status": "stopped"}}
API_PATHS = {"instance": "$.detail.instance", "status": "$.detail.status"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("<instance> is in state <status>", "i-1 is in state stopped"),
        ('<instance> is in state "<status>"', 'i-1 is in state "stopped"'),
        (
            '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<status>\\""}',
            '{"myInstance":"i-1","myStatus":"i-1 is in state \\"stopped\\""}',
        ),
    ],
)
def test_api_reference_examples(template: str, expected: str) -> None:
    assert render(transformer(template, API_PATHS), API_EVENT) == expected


# --------------------------------------------------------------------------------------------------
# LocalStack snapshots recorded on AWS (tests/aws/services/events/test_events_inputs.snapshot.json)

STRING_TEMPLATE = '"Event of <detail-type> type, at time <timestamp>, info extracted from detail <command>"'


def test_recorded_string_template() -> None:
    assert render(transformer(STRING_TEMPLATE, ACCOUNT_PATHS), ACCOUNT_EVENT) == (
        '"Event of core.update-account-command type, at time 2024-06-11T08:33:04Z, '
        'info extracted from detail update-account"'
    )


def test_recorded_string_template_with_a_path_missing_from_the_event() -> None:
    paths = {**ACCOUNT_PATHS, "command": "$.detail.notinmessage"}
    assert render(transformer(STRING_TEMPLATE, paths), ACCOUNT_EVENT) == (
        '"Event of core.update-account-command type, at time 2024-06-11T08:33:04Z, '
        'info extracted from detail "'
    )


def test_recorded_string_template_with_json_looking_start() -> None:
    template = '"{[/Check with special starting characters for event of <detail-type> type"'
    assert render(transformer(template, ACCOUNT_PATHS), ACCOUNT_EVENT) == (
        '"{[/Check with special starting characters for event of core.update-account-command type"'
    )


JSON_TEMPLATE = '{"detailType": <detail-type>,  "time": <timestamp>, "command": <command>}'


def test_recorded_json_template() -> None:
    assert json.loads(render(transformer(JSON_TEMPLATE, ACCOUNT_PATHS), ACCOUNT_EVENT)) == {
        "detailType": "core.update-account-command",
        "time": "2024-06-11T08:33:04Z",
        "command": "update-account",
    }


def test_recorded_json_template_with_a_path_missing_from_the_event() -> None:
    paths = {**ACCOUNT_PATHS, "command": "$.detail.notinmessage"}
    out = render(transformer(JSON_TEMPLATE, paths), ACCOUNT_EVENT)
    assert out == '{"detailType":"core.update-account-command","time":"2024-06-11T08:33:04Z","command":""}'


def test_recorded_predefined_variables_in_a_string() -> None:
    template = (
        '"Message containing all pre defined variables <aws.events.rule-arn> <aws.events.rule-name> '
        '<aws.events.event.ingestion-time>"'
    )
    assert render(transformer(template), ACCOUNT_EVENT) == (
        f'"Message containing all pre defined variables {RULE_ARN} example 2015-11-11T21:29:55Z"'
    )


def test_recorded_event_variables() -> None:
    template = '{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}'
    out = json.loads(render(transformer(template), ACCOUNT_EVENT))
    original = out["originalEvent"]
    assert list(original) == [
        "id",
        "account",
        "detailType",
        "time",
        "source",
        "region",
        "resources",
        "version",
    ]
    assert original["time"] == "2015-11-11T21:29:55Z"  # the ingestion time, not the event's
    assert original["detailType"] == "core.update-account-command"
    assert out["originalEventJson"] == ACCOUNT_EVENT
    assert list(out["originalEventJson"]) == list(ACCOUNT_EVENT)


def test_recorded_undefined_placeholder_is_refused() -> None:
    error = refused(
        {
            "Id": "target-1",
            "InputTransformer": {
                "InputPathsMap": ACCOUNT_PATHS,
                "InputTemplate": '"Event of <detail-type> type, with not defined key <notdefinedkey>"',
            },
        }
    )
    assert error.message == "InputTemplate for target target-1 contains invalid placeholder notdefinedkey."


@pytest.mark.parametrize(
    "keys",
    [("InputPath", "InputTransformer"), ("Input", "InputPath"), ("Input", "InputTransformer")],
)
def test_recorded_only_one_input_kind(keys: tuple[str, str]) -> None:
    values = {
        "Input": '{"a": 1}',
        "InputPath": "$.detail",
        "InputTransformer": {"InputPathsMap": ACCOUNT_PATHS, "InputTemplate": JSON_TEMPLATE},
    }
    error = refused({"Id": "t-7", **{key: values[key] for key in keys}})
    assert (
        error.message == "Only one of Input, InputPath, or InputTransformer must be provided for target t-7."
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.detail", '{"command":"update-account","payload":{"acc_id":"0a787ecb-4015","sf_id":"baz"}}'),
        ("$.detail.payload", '{"acc_id":"0a787ecb-4015","sf_id":"baz"}'),
        ("$.detail.payload.sf_id", '"baz"'),
    ],
)
def test_recorded_input_path(path: str, expected: str) -> None:
    target_input = TargetInput.from_target({"Id": "q", "InputPath": path})
    assert target_input.kind == "input_path"
    assert render(target_input, ACCOUNT_EVENT) == expected


# --------------------------------------------------------------------------------------------------
# No input keys and constant Input


def test_no_input_keys_deliver_the_whole_event_compact() -> None:
    target_input = TargetInput.from_target({"Id": "q", "Arn": "arn:x"})
    assert target_input.kind == "event"
    out = render(target_input, ACCOUNT_EVENT)
    assert out == json.dumps(ACCOUNT_EVENT, separators=(",", ":"))
    assert list(json.loads(out)) == list(ACCOUNT_EVENT)


@pytest.mark.parametrize(
    "constant", ['{"custom-value": "somecustominput"}', "42", '"text"', "[1, 2]", " {} "]
)
def test_input_is_delivered_verbatim(constant: str) -> None:
    target_input = TargetInput.from_target({"Id": "q", "Input": constant})
    assert target_input.kind == "input"
    assert render(target_input) == constant


def test_input_that_is_not_json_is_refused_with_jacksons_location() -> None:
    # Recorded on AWS (aws/aws-cli#6711).
    error = refused({"Id": "1", "Input": "env:dev"})
    assert (
        error.message
        == 'JSON syntax error in input for target 1: [Source: (String)"env:dev"; line: 1, column: 4]'
    )


@pytest.mark.parametrize("bad", ["", "{", "{'env': 'dev'}", '{"a": 1,}', "abc"])
def test_input_not_json_variants_are_refused(bad: str) -> None:
    error = refused({"Id": "t", "Input": bad})
    assert error.message.startswith("JSON syntax error in input for target t: [Source: (String)")


def test_input_too_long_fails_the_request_model() -> None:
    long_input = json.dumps("x" * 8191)  # 8193 characters with its quotes
    error = refused({"Id": "t", "Input": long_input}, index=3)
    assert error.message == (
        f"1 validation error detected: Value '{long_input}' at 'targets.3.member.input' "
        "failed to satisfy constraint: Member must have length less than or equal to 8192"
    )
    assert TargetInput.from_target({"Id": "t", "Input": json.dumps("x" * 8190)}).kind == "input"


# --------------------------------------------------------------------------------------------------
# JSONPaths


@pytest.mark.parametrize(
    "path",
    [
        "$",
        "$.detail",
        "$.detail-type",
        "$.detail.a[0]",
        "$.detail.items[*].id",
        "$.detail.*",
        "$.a/b_c-d",
        "$[0]",
    ],
)
def test_accepted_paths(path: str) -> None:
    assert compile_path(path) is not None
    assert TargetInput.from_target({"Id": "t", "InputPath": path}).kind == "input_path"


@pytest.mark.parametrize(
    "path",
    [
        "detail",
        "",
        "$.",
        "$..detail",
        "$.detail['key']",
        '$.detail["key"]',
        "$.a[-1]",
        "$.a b",
        "$.a[x]",
        "$.a.",
        "@.a",
    ],
)
def test_refused_paths(path: str) -> None:
    assert compile_path(path) is None
    assert refused({"Id": "t9", "InputPath": path}).message == "InputPath for target t9 is invalid."


def test_refused_path_in_input_paths_map() -> None:
    error = refused(
        {"Id": "t9", "InputTransformer": {"InputPathsMap": {"a": "detail.a"}, "InputTemplate": "<a>"}}
    )
    assert error.message == "InputPath for target t9 is invalid."


def test_input_path_too_long_fails_the_request_model() -> None:
    path = "$." + "a" * 255
    error = refused({"Id": "t", "InputPath": path})
    assert error.message == (
        f"1 validation error detected: Value '{path}' at 'targets.1.member.inputPath' "
        "failed to satisfy constraint: Member must have length less than or equal to 256"
    )


DEEP_EVENT = {
    **EC2_EVENT,
    "detail": {"items": [{"id": 1, "tags": ["a", "b"]}, {"id": 2}], "a/b": "slash", "n": {"x": 1, "y": [2]}},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.detail.items[0].id", "1"),
        ("$.detail.items[1]", '{"id":2}'),
        ("$.detail.items[0].tags[1]", '"b"'),
        ("$.detail.items[*].id", "[1,2]"),
        ("$.detail.n.*", "[1,[2]]"),
        ("$.detail.items[*].missing", "[]"),
        ("$.detail.a/b", '"slash"'),
        ("$.resources[0]", '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
    ],
)
def test_input_path_selection(path: str, expected: str) -> None:
    assert render(TargetInput.from_target({"Id": "t", "InputPath": path}), DEEP_EVENT) == expected


@pytest.mark.parametrize("path", ["$.detail.nope", "$.detail.items[5]", "$.detail.items.id", "$.source.x"])
def test_input_path_missing_from_the_event_delivers_nothing(path: str) -> None:
    with pytest.raises(InputTransformationError):
        render(TargetInput.from_target({"Id": "t", "InputPath": path}), DEEP_EVENT)


# --------------------------------------------------------------------------------------------------
# InputPathsMap and InputTemplate constraints


def test_input_paths_map_holds_at_most_100_entries() -> None:
    paths = {f"k{n}": "$.id" for n in range(MAX_INPUT_PATHS)}
    assert render(transformer("<k99>", paths)) == EC2_EVENT["id"]
    error = refused(
        {"Id": "t", "InputTransformer": {"InputPathsMap": {**paths, "k100": "$.id"}, "InputTemplate": "x"}}
    )
    assert error.message.startswith("1 validation error detected: Value '{k0=$.id, k1=$.id, ")
    assert error.message.endswith(
        "at 'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )


@pytest.mark.parametrize(
    "key", ["aws.events.rule-name", "aws.events.event", "aws.custom", "a.b", "a b", "ключ", ""]
)
def test_input_paths_map_keys_outside_the_pattern_are_refused(key: str) -> None:
    error = refused({"Id": "t", "InputTransformer": {"InputPathsMap": {key: "$.id"}, "InputTemplate": "x"}})
    assert error.message == (
        f"1 validation error detected: Value '{{{key}=$.id}}' "
        "at 'targets.1.member.inputTransformer.inputPathsMap' "
        "failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]"
    )


@pytest.mark.parametrize("key", ["AWS", "aws", "AWS_events", "aws-events-rule-name", "_", "-", "A1"])
def test_keys_that_merely_start_with_aws_are_accepted(key: str) -> None:
    assert render(transformer(f"<{key}>", {key: "$.source"})) == "aws.ec2"


def test_input_paths_map_key_and_value_lengths() -> None:
    long_key = "k" * 257
    error = refused(
        {"Id": "t", "InputTransformer": {"InputPathsMap": {long_key: "$.id"}, "InputTemplate": "x"}}
    )
    assert error.message.endswith(
        "Map keys must satisfy constraint: [Member must have length less than or equal to 256]"
    )
    long_path = "$." + "a" * 255
    error = refused(
        {"Id": "t", "InputTransformer": {"InputPathsMap": {"k": long_path}, "InputTemplate": "x"}}
    )
    assert error.message.endswith(
        "Map value must satisfy constraint: [Member must have length less than or equal to 256]"
    )
    assert render(transformer("x", {"k" * 256: "$." + "a" * 254})) == "x"  # the limits themselves pass


def test_input_template_length_limits() -> None:
    error = refused({"Id": "t", "InputTransformer": {"InputTemplate": ""}})
    assert error.message == (
        "1 validation error detected: Value '' at 'targets.1.member.inputTransformer.inputTemplate' "
        "failed to satisfy constraint: Member must have length greater than or equal to 1"
    )
    error = refused({"Id": "t", "InputTransformer": {"InputTemplate": "x" * 8193}})
    assert error.message.endswith("Member must have length less than or equal to 8192")
    assert render(transformer("x" * 8192)) == "x" * 8192


def test_input_template_is_required() -> None:
    error = refused({"Id": "t", "InputTransformer": {"InputPathsMap": {"a": "$.id"}}})
    assert "inputTransformer.inputTemplate" in error.message
    assert error.message.endswith("Member must not be null")


def test_request_model_is_checked_before_mutual_exclusion() -> None:
    error = refused({"Id": "t", "Input": "1", "InputPath": "$." + "a" * 300})
    assert error.message.startswith("1 validation error detected:")


@pytest.mark.parametrize(
    "template",
    ['"<aws.events.event.json>"', "[<aws.events.event.json>]", "event: <aws.events.event.json>"],
)
def test_event_json_only_in_json_templates(template: str) -> None:
    # A third party's measurement on AWS (2026-09).
    assert refused({"Id": "t1", "InputTransformer": {"InputTemplate": template}}).message == (
        "InputTemplate for target t1 contains placeholder aws.events.event.json valid only for JSON template."
    )


def test_event_variable_only_in_json_templates() -> None:
    assert refused({"Id": "t1", "InputTransformer": {"InputTemplate": '"<aws.events.event>"'}}).message == (
        "InputTemplate for target t1 contains placeholder aws.events.event valid only for JSON template."
    )


def test_undefined_placeholder_is_refused_even_inside_a_json_string() -> None:
    error = refused(
        {"Id": "t", "InputTransformer": {"InputPathsMap": {"a": "$.id"}, "InputTemplate": '{"x": "<b>"}'}}
    )
    assert error.message == "InputTemplate for target t contains invalid placeholder b."


@pytest.mark.parametrize(
    "template",
    ["{<a>: 1}", '{"a": <a>', '{"a": <a> <a>}', '{"a": 1,}', "{'a': <a>}", '{"a": <a>} trailing'],
)
def test_json_template_that_cannot_be_json_is_refused(template: str) -> None:
    error = refused(
        {"Id": "t", "InputTransformer": {"InputPathsMap": {"a": "$.id"}, "InputTemplate": template}}
    )
    assert error.message.startswith("Invalid InputTemplate for target t : [Source: (String)")


def test_placeholders_are_names_of_keys_or_reserved_variables() -> None:
    # "<>" holds no name, so it is text.
    assert render(transformer("a <> b <a>", {"a": "$.source"})) == "a <> b aws.ec2"


# --------------------------------------------------------------------------------------------------
# Values in their places

VALUES_EVENT = {
    **EC2_EVENT,
    "detail": {
        "n": 42,
        "f": 1.5,
        "t": True,
        "b": False,
        "z": None,
        "s": 'say "hi"',
        "u": "héllo ✓",
        "obj": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
        "list": ["ACTIVE", "INACTIVE"],
        "nested": {"a": [1, {"b": "c"}]},
    },
}
VALUE_PATHS = {key: f"$.detail.{key}" for key in VALUES_EVENT["detail"]}


@pytest.mark.parametrize(
    ("key", "as_json", "as_text"),
    [
        ("n", "42", "42"),
        ("f", "1.5", "1.5"),
        ("t", "true", "true"),
        ("b", "false", "false"),
        ("z", "null", "null"),
        ("u", '"héllo ✓"', "héllo ✓"),
        ("obj", '{"acc_id":"0a787ecb-4015","sf_id":"baz"}', "{acc_id:0a787ecb-4015,sf_id:baz}"),
        ("list", '["ACTIVE","INACTIVE"]', "[ACTIVE,INACTIVE]"),
        ("nested", '{"a":[1,{"b":"c"}]}', "{a:[1,{b:c}]}"),
    ],
)
def test_values_outside_and_inside_strings(key: str, as_json: str, as_text: str) -> None:
    assert render(transformer(f'{{"v": <{key}>}}', VALUE_PATHS), VALUES_EVENT) == f'{{"v":{as_json}}}'
    assert render(transformer(f'{{"v": "<{key}>!"}}', VALUE_PATHS), VALUES_EVENT) == f'{{"v":"{as_text}!"}}'
    assert render(transformer(f"v=<{key}>", VALUE_PATHS), VALUES_EVENT) == f"v={as_text}"


def test_string_values_are_escaped_as_json_values_but_not_inside_strings() -> None:
    assert render(transformer('{"v": <s>}', VALUE_PATHS), VALUES_EVENT) == '{"v":"say \\"hi\\""}'
    assert render(transformer('"<s>"', VALUE_PATHS), VALUES_EVENT) == '"say "hi""'
    # Unescaped quotes break a JSON template: AWS delivers nothing.
    with pytest.raises(InputTransformationError):
        render(transformer('{"v": "<s>"}', VALUE_PATHS), VALUES_EVENT)


def test_missing_values_inside_strings_and_plain_text() -> None:
    paths = {"gone": "$.detail.gone"}
    assert render(transformer('{"v": "[<gone>]", "w": <gone>}', paths)) == '{"v":"[]","w":""}'
    assert render(transformer("[<gone>]", paths)) == "[]"


def test_escaped_quotes_in_json_strings_keep_placeholders_inside_the_string() -> None:
    out = render(transformer('{"v": "a \\" <n> \\" b", "w": <n>}', VALUE_PATHS), VALUES_EVENT)
    assert out == '{"v":"a \\" 42 \\" b","w":42}'


def test_whitespace_inside_strings_survives_minifying() -> None:
    template = '{ "v" :  "two  spaces\\tand a tab" ,\n\t"n": [ 1 , 2 ] }'
    assert render(transformer(template)) == '{"v":"two  spaces\\tand a tab","n":[1,2]}'


def test_plain_templates_keep_their_whitespace() -> None:
    assert render(transformer("  <a>\n  is  here ", {"a": "$.source"})) == "  aws.ec2\n  is  here "


def test_json_template_with_leading_whitespace_is_json() -> None:
    assert render(transformer('  \n {"a": <a>}', {"a": "$.source"})) == '{"a":"aws.ec2"}'


def test_reserved_variables_as_json_values() -> None:
    template = (
        '{"arn": <aws.events.rule-arn>, "name": <aws.events.rule-name>, '
        '"at": <aws.events.event.ingestion-time>}'
    )
    assert json.loads(render(transformer(template))) == {
        "arn": RULE_ARN,
        "name": "example",
        "at": "2015-11-11T21:29:55Z",
    }


def test_event_variable_leaves_out_absent_fields_and_detail() -> None:
    sparse = {"id": "e-1", "detail-type": "x", "detail": {"secret": 1}, "extra": True}
    out = json.loads(render(transformer('{"e": <aws.events.event>}'), sparse))
    assert out == {"e": {"id": "e-1", "detailType": "x", "time": "2015-11-11T21:29:55Z"}}


def test_event_json_inside_a_json_string_is_text() -> None:
    event = {"id": "e-1", "detail": {}}
    assert render(transformer('{"e": "<aws.events.event.json>"}'), event) == '{"e":"{id:e-1,detail:{}}"}'


def test_rendering_depends_on_each_event() -> None:
    compiled = transformer('{"s": <state>}', GUIDE_PATHS)
    stopped = {**EC2_EVENT, "detail": {"state": "STOPPED"}}
    assert render(compiled) == '{"s":"RUNNING"}'
    assert render(compiled, stopped) == '{"s":"STOPPED"}'
    assert compiled.render(EC2_EVENT, "arn:other", "other", 0.0) == '{"s":"RUNNING"}'


def test_rule_arn_and_name_come_from_the_call() -> None:
    compiled = transformer('"<aws.events.rule-name> <aws.events.rule-arn> <aws.events.event.ingestion-time>"')
    assert compiled.render(EC2_EVENT, "arn:r", "r", 0.0) == '"r arn:r 1970-01-01T00:00:00Z"'
