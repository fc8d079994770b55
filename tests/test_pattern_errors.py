"""EventBridge event-pattern validation: every reason AWS gives, word for word.

Sources of the expected texts (never the engine's output):
- the reasons recorded against AWS (see docs/semantics.md, 'The pattern language') and the texts
  of aws/event-ruler's compiler (JsonRuleCompiler, Range, CIDR, WildcardParser), which AWS gives;
- EventBridge User Guide, 'Amazon EventBridge event patterns';
- LocalStack's AWS-validated SNS snapshots (localstack/localstack,
  tests/aws/services/sns/test_sns_filter_policy.snapshot.json) for the numeric reasons that SNS
  and EventBridge share (the same event-ruler compiler).

``InvalidPatternError.reason`` is the reason alone; ``str(error)`` is
"Event pattern is not valid. Reason: <reason>", possibly followed by "\\n at [Source: ...]" for
parser-raised reasons, so only its first line is compared.

Not pinned down (no AWS-recorded text found), so not asserted here:
- a pattern longer than 4096 characters (the API's EventPattern constraint; the quota is 2048):
  the text would come from the request validator (a ValidationException "1 validation error
  detected: ..."), not from InvalidEventPatternException, and no recording of it was found;
- a pattern with too many ``$or`` combinations (the user guide says ">1000"; no text found);

The wildcard complexity limit is event-ruler's measure (MachineComplexityEvaluator) at the bound
its own tests use, 100; AWS does not publish the threshold (see docs/semantics.md).
"""

from __future__ import annotations

import json

import pytest
import rulebus
from rulebus import InvalidEventError, InvalidFilterPolicyError, InvalidPatternError

PREFIX = "Event pattern is not valid. Reason: "
AB_LIST = "Inside anything but list, start|null|boolean is not supported."
AB_EIC = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
AB_VALUE = "Value of anything-but must be an array or single string/number value."
AB_PS = "prefix/suffix match pattern must be a string"
TOO_MANY = "Too many elements in numeric expression"
ONE_KEY = "Only one key allowed in match expression"


def _leaf(expr: object) -> str:
    """A pattern whose one field holds one match expression."""
    return json.dumps({"x": [expr]})


# (id, pattern text, reason). Each reason is AWS's text, cited by where it comes from.
CASES: list[tuple[str, str, str]] = [
    # --- structure (event-ruler; recorded on AWS) ---
    ("not-object-array", "[1,2]", "Filter is not an object"),
    ("not-object-string", '"abc"', "Filter is not an object"),
    ("not-object-number", "123", "Filter is not an object"),
    ("not-object-true", "true", "Filter is not an object"),
    ("not-object-null", "null", "Filter is not an object"),
    ("leaf-string", '{"x": "a"}', '"x" must be an object or an array'),
    ("leaf-number", '{"int": 5}', '"int" must be an object or an array'),
    ("leaf-null", '{"x": null}', '"x" must be an object or an array'),
    ("leaf-bool", '{"x": true}', '"x" must be an object or an array'),
    ("leaf-nested-string", '{"detail": {"slug": "some-pipeline"}}', '"slug" must be an object or an array'),
    ("empty-array", '{"x": []}', "Empty arrays are not allowed"),
    ("empty-array-nested", '{"a": {"b": []}}', "Empty arrays are not allowed"),
    ("empty-object", '{"x": {}}', "Empty objects are not allowed"),
    ("nested-array-value", '{"x": [["a"]]}', "Match value must be String, number, true, false, or null"),
    # --- operators (event-ruler; recorded on AWS; operators are case-sensitive) ---
    ("unknown-operator", _leaf({"foo": "bar"}), "Unrecognized match type foo"),
    ("unknown-operator-hyphen", _leaf({"wrong-operator": True}), "Unrecognized match type wrong-operator"),
    ("wrong-case-numeric", _leaf({"NUMERIC": [">", 1]}), "Unrecognized match type NUMERIC"),
    ("wrong-case-exists", _leaf({"EXISTS": True}), "Unrecognized match type EXISTS"),
    ("wrong-case-prefix", _leaf({"Prefix": "a"}), "Unrecognized match type Prefix"),
    ("two-keys", _leaf({"prefix": "a", "suffix": "b"}), "Only one key allowed in match expression"),
    # --- non-string operands (event-ruler; recorded on AWS; SNS snapshots for null / list operands) ---
    ("prefix-number", _leaf({"prefix": 5}), "prefix match pattern must be a string"),
    ("prefix-null", _leaf({"prefix": None}), "prefix match pattern must be a string"),
    ("prefix-list", _leaf({"prefix": ["a"]}), "prefix match pattern must be a string"),
    ("prefix-bool", _leaf({"prefix": True}), "prefix match pattern must be a string"),
    ("suffix-number", _leaf({"suffix": 100}), "suffix match pattern must be a string"),
    ("suffix-null", _leaf({"suffix": None}), "suffix match pattern must be a string"),
    ("suffix-empty-list", _leaf({"suffix": []}), "suffix match pattern must be a string"),
    ("suffix-list", _leaf({"suffix": ["test", "test2"]}), "suffix match pattern must be a string"),
    ("wildcard-number", _leaf({"wildcard": 5}), "wildcard match pattern must be a string"),
    ("wildcard-null", _leaf({"wildcard": None}), "wildcard match pattern must be a string"),
    ("eic-number", _leaf({"equals-ignore-case": 5}), "equals-ignore-case match pattern must be a string"),
    ("eic-list", _leaf({"equals-ignore-case": ["a"]}), "equals-ignore-case match pattern must be a string"),
    ("exactly-number", _leaf({"exactly": 5}), "exact match pattern must be a string"),
    # cidr's non-string operand is reported with the prefix text (recorded on AWS)
    ("cidr-number", _leaf({"cidr": 5}), "prefix match pattern must be a string"),
    # --- numeric (event-ruler; recorded on AWS; SNS snapshots) ---
    ("numeric-not-array", _leaf({"numeric": 5}), "Value of numeric must be an array."),
    ("numeric-empty", _leaf({"numeric": []}), "Invalid member in numeric match: ]"),
    ("numeric-first-not-operator", _leaf({"numeric": [1, "<="]}), "Invalid member in numeric match: 1"),
    ("numeric-unknown-op", _leaf({"numeric": ["!=", 5]}), "Unrecognized numeric range operator: !="),
    (
        "numeric-unknown-op-word",
        _leaf({"numeric": ["operator"]}),
        "Unrecognized numeric range operator: operator",
    ),
    ("numeric-unknown-op-0", _leaf({"numeric": ["0"]}), "Unrecognized numeric range operator: 0"),
    ("numeric-gt-string", _leaf({"numeric": [">", "5"]}), "Value of > must be numeric"),
    ("numeric-lt-string", _leaf({"numeric": ["<", "100"]}), "Value of < must be numeric"),
    ("numeric-eq-string", _leaf({"numeric": ["=", "000"]}), "Value of equals must be numeric"),
    ("numeric-ge-missing", _leaf({"numeric": [">="]}), "Value of >= must be numeric"),
    ("numeric-gt-null", _leaf({"numeric": [">", None]}), "Value of > must be numeric"),
    ("numeric-upper-missing", _leaf({"numeric": [">", 20, "<="]}), "Value of <= must be numeric"),
    ("numeric-upper-string", _leaf({"numeric": [">", 20, "<", "30"]}), "Value of < must be numeric"),
    ("numeric-lower-string", _leaf({"numeric": [">", "20", "<", "30"]}), "Value of > must be numeric"),
    ("numeric-upper-first", _leaf({"numeric": ["<", 5, ">", 1]}), "Too many elements in numeric expression"),
    ("numeric-eq-then-more", _leaf({"numeric": ["=", 5, "<", 6]}), "Too many elements in numeric expression"),
    ("numeric-two-lower", _leaf({"numeric": [">=", 1, ">", 2]}), "Bad numeric range operator: >"),
    ("numeric-bad-second-op", _leaf({"numeric": [">", 20, "test"]}), "Bad numeric range operator: test"),
    ("numeric-second-not-op", _leaf({"numeric": [">", 20, 30]}), "Bad value in numeric range: 30"),
    ("numeric-bottom-above-top", _leaf({"numeric": [">", 3, "<", 1]}), "Bottom must be less than top"),
    ("numeric-bottom-equals-top", _leaf({"numeric": [">", 3, "<=", 3]}), "Bottom must be less than top"),
    (
        "numeric-too-many-terms",
        _leaf({"numeric": [">", 1, "<", 5, "<", 6]}),
        "Too many terms in numeric range expression",
    ),
    # numbers outside double, or not exactly representable (event-ruler, checked by running it)
    ("numeric-overflow", '{"x": [{"numeric": [">", 1e400]}]}', "Cannot compare number : 1e400"),
    (
        "numeric-inexact",
        '{"x": [{"numeric": ["=", 0.10000000000000000001]}]}',
        "Cannot compare number : 0.10000000000000000001",
    ),
    # --- exists (event-ruler; SNS snapshots) ---
    ("exists-string", _leaf({"exists": "yes"}), "exists match pattern must be either true or false."),
    ("exists-null", _leaf({"exists": None}), "exists match pattern must be either true or false."),
    ("exists-number", _leaf({"exists": 1}), "exists match pattern must be either true or false."),
    # --- anything-but (event-ruler; recorded on AWS) ---
    (
        "ab-mixed-list",
        _leaf({"anything-but": ["a", 1]}),
        "Inside anything but list, either all values are number or string, mixed type is not supported",
    ),
    ("ab-null-in-list", _leaf({"anything-but": [None]}), AB_LIST),
    # event-ruler judges the string-number mix only once the whole list is read
    ("ab-mixed-then-null", _leaf({"anything-but": ["a", 1, None]}), AB_LIST),
    ("ab-mixed-then-bool", _leaf({"anything-but": [1, "a", True]}), AB_LIST),
    ("ab-bool-in-list", _leaf({"anything-but": [True]}), AB_LIST),
    ("ab-list-in-list", _leaf({"anything-but": [["a"]]}), AB_LIST),
    (
        "ab-bool",
        _leaf({"anything-but": True}),
        AB_VALUE,
    ),
    (
        "ab-null",
        _leaf({"anything-but": None}),
        AB_VALUE,
    ),
    (
        "ab-numeric",
        _leaf({"anything-but": {"numeric": [">", 1]}}),
        "Unsupported anything-but pattern: numeric",
    ),
    ("ab-unknown-op", _leaf({"anything-but": {"foo": "a"}}), "Unsupported anything-but pattern: foo"),
    ("ab-prefix-null-in-list", _leaf({"anything-but": {"prefix": [None]}}), AB_PS),
    ("ab-prefix-number", _leaf({"anything-but": {"prefix": 5}}), AB_PS),
    # event-ruler checks the operand's kind (array, string or number) before the operation reads
    # it, so a single object, boolean or null gets anything-but's own reason (JsonRuleCompiler).
    ("ab-prefix-bool", _leaf({"anything-but": {"prefix": False}}), AB_VALUE),
    ("ab-prefix-null", _leaf({"anything-but": {"prefix": None}}), AB_VALUE),
    ("ab-prefix-eic", _leaf({"anything-but": {"prefix": {"equals-ignore-case": "a"}}}), AB_VALUE),
    ("ab-suffix-eic", _leaf({"anything-but": {"suffix": {"equals-ignore-case": ".PNG"}}}), AB_VALUE),
    ("ab-suffix-empty-object", _leaf({"anything-but": {"suffix": {}}}), AB_VALUE),
    ("ab-suffix-null", _leaf({"anything-but": {"suffix": None}}), AB_VALUE),
    ("ab-wildcard-bool", _leaf({"anything-but": {"wildcard": True}}), AB_VALUE),
    ("ab-eic-null", _leaf({"anything-but": {"equals-ignore-case": None}}), AB_VALUE),
    ("ab-prefix-eic-in-list", _leaf({"anything-but": {"prefix": [{"equals-ignore-case": "a"}]}}), AB_PS),
    ("ab-suffix-list-in-list", _leaf({"anything-but": {"suffix": [[".png"]]}}), AB_PS),
    ("ab-suffix-float", _leaf({"anything-but": {"suffix": 1.5}}), AB_PS),
    ("ab-suffix-empty-in-list", _leaf({"anything-but": {"suffix": [""]}}), "Null prefix/suffix not allowed"),
    # Two problems: event-ruler reads the operand before it looks for a second key.
    ("ab-bad-operand-and-second-key", _leaf({"anything-but": {"prefix": 5, "suffix": "a"}}), AB_PS),
    ("ab-unknown-op-and-second-key", _leaf({"anything-but": {"foo": 5, "prefix": "a"}}),
     "Unsupported anything-but pattern: foo"),
    # A second key after a complete numeric or anything-but expression gets event-ruler's
    # numeric-expression text; after any other operation, "Only one key allowed".
    ("ab-two-operations", _leaf({"anything-but": {"prefix": "a", "suffix": "b"}}), TOO_MANY),
    ("ab-then-second-key", _leaf({"anything-but": "a", "prefix": "b"}), TOO_MANY),
    ("numeric-then-second-key", _leaf({"numeric": [">", 1], "prefix": "b"}), TOO_MANY),
    ("numeric-bad-then-second-key", _leaf({"numeric": [">", "1"], "prefix": "b"}),
     "Value of > must be numeric"),
    ("prefix-then-second-key", _leaf({"prefix": "a", "suffix": "b"}), ONE_KEY),
    ("ab-prefix-number-in-list", _leaf({"anything-but": {"prefix": ["a", 1]}}), AB_PS),
    ("ab-suffix-number", _leaf({"anything-but": {"suffix": 5}}), AB_PS),
    ("ab-prefix-empty", _leaf({"anything-but": {"prefix": ""}}), "Null prefix/suffix not allowed"),
    ("ab-suffix-empty", _leaf({"anything-but": {"suffix": ""}}), "Null prefix/suffix not allowed"),
    (
        "ab-eic-number",
        _leaf({"anything-but": {"equals-ignore-case": 5}}),
        AB_EIC,
    ),
    (
        "ab-eic-number-in-list",
        _leaf({"anything-but": {"equals-ignore-case": ["a", 5]}}),
        AB_EIC,
    ),
    (
        "ab-eic-null-in-list",
        _leaf({"anything-but": {"equals-ignore-case": [None]}}),
        AB_EIC,
    ),
    # --- wildcard (event-ruler's WildcardParser; recorded on AWS) ---
    ("wildcard-consecutive", _leaf({"wildcard": "a**b"}), "Consecutive wildcard characters at pos 2"),
    ("wildcard-consecutive-start", _leaf({"wildcard": "**"}), "Consecutive wildcard characters at pos 1"),
    # JSON text "a\\b" is the three characters a, backslash, b
    ("wildcard-bad-escape", '{"x": [{"wildcard": "a\\\\b"}]}', "Invalid escape character at pos 2"),
    ("wildcard-bad-escape-first", '{"x": [{"wildcard": "\\\\x"}]}', "Invalid escape character at pos 1"),
    # --- $or (event-ruler: JsonRuleCompiler's texts) ---
    ("or-one-object", '{"$or": [{"a": [1]}]}', "There must have at least 2 Objects in $or relationship."),
    (
        "or-reserved-word",
        '{"$or": [{"numeric": 123}, {"b": [1]}]}',
        "numeric is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    # --- JSON syntax: Jackson's own message, nothing in front (event-ruler; recorded on AWS) ---
    ("json-trailing-comma", '{"x": [1,}', "Unexpected character ('}' (code 125)): expected a value"),
    (
        "json-bare-word",
        "this",
        "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', "
        "'true' or 'false')",
    ),
    (
        "json-single-quotes",
        "{'source': ['a']}",
        "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
    ),
]

# CIDR reasons are IllegalArgumentExceptions, not parser errors: no location suffix (recorded on AWS).
CIDR_CASES: list[tuple[str, str, str]] = [
    ("cidr-no-slash", _leaf({"cidr": "hello"}), "Malformed CIDR, one '/' required"),
    ("cidr-two-slashes", _leaf({"cidr": "10.0.0.0/8/8"}), "Malformed CIDR, one '/' required"),
    ("cidr-mask-not-int", _leaf({"cidr": "10.0.0.0/ab"}), "Malformed CIDR, mask bits must be an integer"),
    ("cidr-bad-ip", _leaf({"cidr": "xx.11.xx/24"}), "Nonstandard IP address: xx.11.xx"),
    ("cidr-v4-mask-too-big", _leaf({"cidr": "10.0.0.0/99"}), "IPv4 mask bits must be < 32"),
]


def _error(pattern: str) -> InvalidPatternError:
    with pytest.raises(InvalidPatternError) as info:
        rulebus.Pattern(pattern)
    return info.value


@pytest.mark.parametrize(("pattern", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reason(pattern: str, reason: str) -> None:
    err = _error(pattern)
    assert err.reason == reason
    assert str(err).split("\n")[0] == PREFIX + reason


@pytest.mark.parametrize(("pattern", "reason"), [c[1:] for c in CIDR_CASES], ids=[c[0] for c in CIDR_CASES])
def test_cidr_reason_has_no_location(pattern: str, reason: str) -> None:
    err = _error(pattern)
    assert err.reason == reason
    assert str(err) == PREFIX + reason


def test_location_suffix_shape() -> None:
    """Parser-raised reasons may carry Jackson's location; if they do, it has Jackson's shape."""
    err = _error('{"x": "a"}')
    lines = str(err).split("\n")
    assert lines[0] == PREFIX + '"x" must be an object or an array'
    if len(lines) > 1:
        assert lines[1].startswith(" at [Source: ")
        assert "; line: 1, column: " in lines[1]


def test_error_is_typed() -> None:
    err = _error("[1,2]")
    assert isinstance(err, ValueError)
    assert isinstance(err, rulebus.RulebusError)
    assert not isinstance(err, InvalidFilterPolicyError)
    assert err.code == "InvalidEventPatternException"


def test_truncated_json_is_a_parser_error() -> None:
    # Jackson's end-of-input message embeds its own location, so only its start is fixed.
    err = _error('{"x": [1]')
    assert err.reason.startswith("Unexpected end-of-input")
    assert str(err).startswith(PREFIX + "Unexpected end-of-input")


def test_same_reason_from_a_mapping() -> None:
    with pytest.raises(InvalidPatternError) as info:
        rulebus.Pattern({"detail": {"amount": [{"numeric": [">", "5"]}]}})
    assert info.value.reason == "Value of > must be numeric"


def test_pattern_length_limit() -> None:
    # The API caps EventPattern at 4096 characters (EventBridge API Reference, PutRule). AWS's text for a
    # longer pattern is not recorded, so only the boundary and the exception's base class are held.
    head, tail = '{"a": ["', '"]}'
    at_limit = head + "x" * (4096 - len(head) - len(tail)) + tail
    assert len(at_limit) == 4096
    rulebus.Pattern(at_limit)
    with pytest.raises(ValueError):
        rulebus.Pattern(at_limit[: -len(tail)] + "x" + tail)


def _or_product(groups: int, branches: int) -> str:
    """``groups`` sibling objects, each a ``$or`` of ``branches`` objects: branches**groups sub-rules."""
    return json.dumps({f"g{g}": {"$or": [{f"f{b}": [b]} for b in range(branches)]} for g in range(groups)})


def test_or_combination_limit() -> None:
    # The user guide: more than 1000 $or combinations is an InvalidEventPatternException; the
    # reason text is not recorded, so it is not asserted.
    rulebus.Pattern(_or_product(3, 10))  # 1000
    with pytest.raises(InvalidPatternError):
        rulebus.Pattern(_or_product(10, 2))  # 1024


# Patterns EventBridge accepts (recorded on AWS; event-ruler): the validator must not
# be stricter than AWS.
VALID = [
    ("empty-prefix", _leaf({"prefix": ""})),
    ("empty-suffix", _leaf({"suffix": ""})),
    ("empty-eic", _leaf({"equals-ignore-case": ""})),
    ("empty-wildcard", _leaf({"wildcard": ""})),
    ("ab-empty-wildcard", _leaf({"anything-but": {"wildcard": ""}})),
    ("ab-wildcard-list", _leaf({"anything-but": {"wildcard": ["a*", "*b"]}})),
    ("ab-prefix-list", _leaf({"anything-but": {"prefix": ["a", "b"]}})),
    ("ab-suffix", _leaf({"anything-but": {"suffix": ".png"}})),
    ("ab-suffix-list", _leaf({"anything-but": {"suffix": [".png", ".jpg"]}})),
    ("ab-eic", _leaf({"anything-but": {"equals-ignore-case": "a"}})),
    ("ab-eic-list", _leaf({"anything-but": {"equals-ignore-case": ["a", "B"]}})),
    ("ab-number", _leaf({"anything-but": 5})),
    ("ab-number-list", _leaf({"anything-but": [1, 2.5]})),
    ("ab-string", _leaf({"anything-but": "a"})),
    ("ab-string-list", _leaf({"anything-but": ["a", "b"]})),
    ("prefix-eic", _leaf({"prefix": {"equals-ignore-case": "EventB"}})),
    ("suffix-eic", _leaf({"suffix": {"equals-ignore-case": ".png"}})),
    ("exactly", _leaf({"exactly": "a"})),
    ("wildcard-escapes", '{"x": [{"wildcard": "a\\\\*b\\\\\\\\c*"}]}'),
    ("numeric-range", _leaf({"numeric": [">", 0, "<=", 5]})),
    ("numeric-huge", '{"x": [{"numeric": [">", 1e308]}]}'),
    ("numeric-eq", _leaf({"numeric": ["=", 3.018e2]})),
    ("exists-true", _leaf({"exists": True})),
    ("exists-false-mixed", '{"x": [{"anything-but": ["roses"]}, {"exists": false}]}'),
    ("cidr-v4", _leaf({"cidr": "10.0.0.0/24"})),
    ("cidr-v6", _leaf({"cidr": "2001:db8::/32"})),
    ("null-and-literals", '{"x": [null, true, false, 1, "s", ""]}'),
    ("or-two", '{"$or": [{"a": [1]}, {"b": [2]}]}'),
    ("or-nested", '{"detail": {"$or": [{"a": [1]}, {"b": [{"prefix": "x"}]}]}, "source": ["s"]}'),
    ("dotted-key", '{"a.b": ["c"]}'),
]


@pytest.mark.parametrize("pattern", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_patterns_compile(pattern: str) -> None:
    rulebus.Pattern(pattern)


# --- TestEventPattern's envelope (recorded on AWS; EventBridge API Reference, TestEventPattern) ---

ENVELOPE = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Order Placed",
    "source": "com.shop",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": [],
    "detail": {"amount": 120},
}
REQUIRED = ["id", "account", "source", "time", "region", "detail-type"]
PATTERN = '{"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}]}}'
EVENT_INVALID = "Parameter Event is not valid."


def _event_error(event: object) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as info:
        rulebus.test_event_pattern(PATTERN, event)
    return info.value


def test_envelope_valid() -> None:
    assert rulebus.test_event_pattern(PATTERN, json.dumps(ENVELOPE)) is True
    assert rulebus.test_event_pattern(PATTERN, ENVELOPE) is True
    other = dict(ENVELOPE, detail={"amount": 99})
    assert rulebus.test_event_pattern(PATTERN, json.dumps(other)) is False


@pytest.mark.parametrize("field", REQUIRED)
def test_envelope_missing_field(field: str) -> None:
    event = {k: v for k, v in ENVELOPE.items() if k != field}
    err = _event_error(json.dumps(event))
    assert str(err) == EVENT_INVALID
    assert isinstance(err, ValueError)


def test_envelope_resources_not_required() -> None:
    event = {k: v for k, v in ENVELOPE.items() if k != "resources"}
    assert rulebus.test_event_pattern(PATTERN, json.dumps(event)) is True


def test_envelope_field_types_not_checked() -> None:
    event = dict(ENVELOPE, id=123, time="not a time", region=True, account=5)
    assert rulebus.test_event_pattern(PATTERN, json.dumps(event)) is True


@pytest.mark.parametrize(
    "event",
    ["not json at all", '{"id": ', "[]", json.dumps([ENVELOPE]), '"a string"', "123", "null", "true", "{}"],
    ids=["text", "truncated", "empty-array", "array", "string", "number", "null", "true", "empty-object"],
)
def test_envelope_not_an_event(event: str) -> None:
    assert str(_event_error(event)) == EVENT_INVALID


def test_envelope_pattern_still_validated() -> None:
    with pytest.raises(InvalidPatternError) as info:
        rulebus.test_event_pattern('{"source": "com.shop"}', json.dumps(ENVELOPE))
    assert info.value.reason == '"source" must be an object or an array'


TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
    "after a wildcard character"
)


def _wildcards(*values: str, field: str = "f") -> dict[str, object]:
    return {field: [{"wildcard": v} for v in values]}


def _refused(pattern: object) -> bool:
    try:
        rulebus.Pattern(json.dumps(pattern))
    except InvalidPatternError as error:
        assert error.reason == TOO_COMPLEX
        assert str(error).startswith(PREFIX + TOO_COMPLEX)
        return True
    return False


# event-ruler's measure: the most prefixes of a field's wildcards (cut after a literal character or
# after a star) that one value matches in full at once. "*a" * n keeps 2n alive on a value of n a's.
HALF = "*a" * 24 + "*"  # 49
OTHER = "*b" * 24 + "*"  # 49 alone; one value keeps 74 of HALF and OTHER alive together


def test_complexity_limit_on_one_value() -> None:
    assert not _refused(_wildcards("*a" * 49 + "*"))  # 99
    assert _refused(_wildcards("*a" * 50))  # 100


def test_complexity_of_arn_shaped_values() -> None:
    # A star in every part but the first stays well under the limit (9 by event-ruler's measure).
    assert not _refused(_wildcards("arn:*:*:*:*:*", field="resources"))
    assert not _refused(_wildcards("arn:aws:" + "*:" * 49, field="resources"))  # 98
    assert _refused(_wildcards("arn:aws:" + "*:" * 50, field="resources"))  # 100


def test_complexity_adds_up_over_one_fields_values() -> None:
    assert not _refused(_wildcards(HALF))
    assert not _refused(_wildcards(HALF, OTHER))  # 74
    assert _refused(_wildcards(HALF, OTHER, "x" + HALF))  # 100
    # anything-but wildcards count too
    assert _refused({"f": [{"wildcard": HALF}, {"anything-but": {"wildcard": [OTHER, "x" + HALF]}}]})
    # a repeated value counts once
    assert not _refused(_wildcards(HALF, HALF, OTHER))


def test_complexity_does_not_add_up_over_fields() -> None:
    assert not _refused({**_wildcards(HALF, OTHER), **_wildcards("x" + HALF, field="g")})


def test_complexity_of_or_branches() -> None:
    both = [{"f": [{"wildcard": HALF}, {"wildcard": OTHER}]}, {"f": [{"wildcard": "x" + HALF}]}]
    # Branches reaching the field through the same values share its automaton...
    assert _refused({"a": ["1"], "$or": both})
    # ...branches reaching it through different values do not.
    assert not _refused({"$or": [{"a": ["1"], **both[0]}, {"a": ["2"], **both[1]}]})


def test_complexity_after_an_absent_field() -> None:
    # event-ruler reaches a field after an exists:false-only field through no value, and its
    # evaluator walks only through values: that field is not measured.
    assert not _refused({"a": [{"exists": False}], **_wildcards("*a" * 50)})
    assert _refused({"a": [{"exists": False}, "x"], **_wildcards("*a" * 50)})
    assert _refused({"z": [{"exists": False}], **_wildcards("*a" * 50)})

