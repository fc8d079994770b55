"""SQS message attributes: SQS's error texts, both sides of each limit, and the published MD5 vectors."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rulebus._errors import AwsError
from rulebus.sns.message_attributes import (
    attributes_key,
    attributes_size,
    plain_attributes,
    validate_sns_message_attributes,
)
from rulebus.sqs.message_attributes import (
    MAX_ATTRIBUTES,
    MAX_NAME_LENGTH,
    MAX_TYPE_LENGTH,
    md5_of_message_attributes,
    md5_of_message_body,
    validate_message_attributes,
)

RESERVED = (
    "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. "
    "These strings are reserved for internal use. Additionally, they cannot start or end with '.'."
)
BAD_CHARS = (
    "Message (user) attributes name can only contain upper and lower score characters, "
    "digits, periods, hyphens and underscores. "
)


def s(value: str, data_type: str = "String") -> dict[str, Any]:
    return {"DataType": data_type, "StringValue": value}


def b(value: bytes, data_type: str = "Binary") -> dict[str, Any]:
    return {"DataType": data_type, "BinaryValue": value}


def rejects(attributes: Any, message: str) -> None:
    with pytest.raises(AwsError) as caught:
        validate_message_attributes(attributes)
    assert caught.value.code == "InvalidParameterValue"
    assert caught.value.message == message
    assert str(caught.value) == message
    assert caught.value.sender_fault is True


# -- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "attr_1-x.y",
        "A" * MAX_NAME_LENGTH,
        "attr.1øßä",
        "AWS",
        "AWSx.y",
        "my.AWS.name",
        "x.amazon.y",
        "9",
    ],
)
def test_valid_names(name: str) -> None:
    assert validate_message_attributes({name: s("v")}) == {name: s("v")}


def test_empty_name() -> None:
    rejects({"": s("v")}, "The request must contain non-empty message (user) attribute names.")


def test_name_length_limit() -> None:
    validate_message_attributes({"N" * 256: s("v")})
    rejects({"N" * 257: s("v")}, "Message (user) attribute names must be shorter than 256 Bytes")


@pytest.mark.parametrize("char", ["!", '"', "§", "(", "?", " ", "/", ":", "@", "*", "\u00bd"])
def test_name_bad_characters(char: str) -> None:
    rejects({f"Invalid-{char}-attr": s("Valid")}, BAD_CHARS)


@pytest.mark.parametrize(
    "name", ["AWS.x", "aWs.-Invalid-attr", "AMAZON.-Invalid-attr", "amazon.x", ".x", "x.", ".", "Amazon."]
)
def test_name_reserved_or_dotted_ends(name: str) -> None:
    rejects({name: s("v")}, RESERVED)


@pytest.mark.parametrize("name", ["Invalid..Name", "a...b"])
def test_name_successive_periods(name: str) -> None:
    rejects({name: s("v")}, "Message (user) attribute name must not have successive '.' characters.")


def test_name_not_str() -> None:
    with pytest.raises(TypeError):
        validate_message_attributes({1: s("v")})  # type: ignore[dict-item]


# -- count ------------------------------------------------------------------------------------------


def test_attribute_count_limit() -> None:
    ten = {f"a{i}": s("v") for i in range(MAX_ATTRIBUTES)}
    assert len(validate_message_attributes(ten)) == 10
    eleven = {f"a{i}": s("v") for i in range(11)}
    rejects(eleven, "Number of message attributes [11] exceeds the allowed maximum [10].")
    twenty = {f"a{i}": s("v") for i in range(20)}
    rejects(twenty, "Number of message attributes [20] exceeds the allowed maximum [10].")


def test_no_attributes() -> None:
    assert validate_message_attributes({}) == {}
    assert validate_message_attributes(None) == {}


# -- types ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data_type", ["String", "String.x", "String.json", "Number.float", "Number.java.lang.Long"]
)
def test_valid_string_types(data_type: str) -> None:
    value = "12" if data_type.startswith("Number") else "v"
    assert validate_message_attributes({"a": s(value, data_type)}) == {"a": s(value, data_type)}


@pytest.mark.parametrize("data_type", ["Invalid", "string", "Strings", "STRING", "Num", "Binaryx", " String"])
def test_invalid_type(data_type: str) -> None:
    rejects(
        {"Attribute_name": s("Valid", data_type)},
        "The type of message (user) attribute 'Attribute_name' is invalid. You must use only the following "
        "supported type prefixes: Binary, Number, String.",
    )


def test_type_length_limit() -> None:
    at_limit = "String." + "L" * (MAX_TYPE_LENGTH - len("String."))
    assert len(at_limit) == 256
    validate_message_attributes({"a": s("v", at_limit)})
    rejects({"a": s("v", at_limit + "L")}, "Message (user) attribute types must be shorter than 256 Bytes")
    rejects(
        {"a": s("v", f"Number.{'L' * 256}")}, "Message (user) attribute types must be shorter than 256 Bytes"
    )


@pytest.mark.parametrize("attribute", [{"StringValue": "v"}, {"DataType": "", "StringValue": "v"}])
def test_missing_type(attribute: dict[str, Any]) -> None:
    rejects({"a": attribute}, "Missing required parameter DataType")


def test_empty_attribute() -> None:
    rejects(
        {"Hello": {}},
        "The message (user) attribute 'Hello' must contain a non-empty message attribute value.",
    )


# -- values -----------------------------------------------------------------------------------------


def test_empty_string_value_verified_text() -> None:
    """The one text recorded from real AWS (LocalStack snapshot)."""
    rejects(
        {"ErrorDetails": {"StringValue": "", "DataType": "String"}},
        "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'.",
    )


@pytest.mark.parametrize(
    ("attribute", "kind"),
    [
        ({"DataType": "String"}, "String"),
        ({"DataType": "String.x", "StringValue": ""}, "String"),
        ({"DataType": "Number", "StringValue": ""}, "Number"),
        ({"DataType": "Number"}, "Number"),
        ({"DataType": "String", "BinaryValue": None}, "String"),
        ({"DataType": "Binary", "BinaryValue": b""}, "Binary"),
        ({"DataType": "Binary"}, "Binary"),
        ({"DataType": "Binary.png", "BinaryValue": bytearray()}, "Binary"),
        ({"DataType": "Binary", "StringValue": None}, "Binary"),
    ],
)
def test_empty_values(attribute: dict[str, Any], kind: str) -> None:
    rejects(
        {"attr1": attribute},
        f"Message (user) attribute 'attr1' must contain a non-empty value of type '{kind}'.",
    )


def test_string_type_with_only_binary_value() -> None:
    rejects(
        {"attr1": {"DataType": "String", "BinaryValue": b"x"}},
        "Message (user) attribute 'attr1' must contain a non-empty value of type 'String'.",
    )


def test_both_values() -> None:
    rejects(
        {"attr1": {"DataType": "String", "StringValue": "x", "BinaryValue": b"x"}},
        "Message (user) attribute 'attr1' must have a single value.",
    )


@pytest.mark.parametrize("key", ["StringListValues", "BinaryListValues"])
def test_list_values_not_implemented(key: str) -> None:
    rejects(
        {"attr1": {"DataType": "String", "StringValue": "x", key: ["y"]}},
        "Message (user) attribute 'attr1': StringListValues and BinaryListValues are not implemented.",
    )
    # Empty lists, as some SDKs send them, are not a use of the feature.
    assert validate_message_attributes({"attr1": {"DataType": "String", "StringValue": "x", key: []}})


@pytest.mark.parametrize(("char", "code"), [("\x08", "8"), ("\x0b", "B"), ("\x00", "0"), ("\ufffe", "FFFE")])
def test_string_value_bad_characters(char: str, code: str) -> None:
    rejects(
        {"attr1": s(f"Invalid-{char}")},
        f"Invalid binary character '#x{code}' was found in the value of message (user) attribute 'attr1', "
        "the set of allowed characters is #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF",
    )


@pytest.mark.parametrize(
    "value", ["\t\n\r", " ", "\ud7ff", "\ue000", "\ufffd", "\U00010000", "\U0010ffff", "ø"]
)
def test_string_value_allowed_characters(value: str) -> None:
    validate_message_attributes({"a": s(value)})


@pytest.mark.parametrize(
    "value",
    [
        "0",
        "-0",
        "12",
        "+12",
        "-12.5",
        "0.5",
        ".5",
        "5.",
        "007",
        "4563442423554324324264524243.32543234",
        "1e126",
        "-1e126",
        "1E+126",
        "1e-128",
        "-1e-128",
        "9" * 38,
        "0e999",
    ],
)
def test_valid_numbers(value: str) -> None:
    assert validate_message_attributes({"n": s(value, "Number")}) == {"n": s(value, "Number")}


@pytest.mark.parametrize(
    "value", ["Hello", "1,5", "1_000", "NaN", "Infinity", "-", ".", "1e", " 1", "1 ", "0x10", "e5"]
)
def test_numbers_that_do_not_cast(value: str) -> None:
    rejects(
        {"Age": s(value, "Number")}, "Can't cast the value of message (user) attribute 'Age' to a number."
    )


@pytest.mark.parametrize(
    "value", ["1.0000001e126", "1e127", "-1e127", "9.9e-129", "-1e-129", "1" + "0" * 127]
)
def test_numbers_out_of_range(value: str) -> None:
    rejects(
        {"n": s(value, "Number.int")},
        f"Number attribute value {value} should be in range (-10**128..10**126)",
    )


def test_number_label_cast_error() -> None:
    rejects(
        {"Age": s("abc", "Number.int")}, "Can't cast the value of message (user) attribute 'Age' to a number."
    )


def test_binary_custom_label_and_str_binary() -> None:
    out = validate_message_attributes(
        {"img": b(b"\x89PNG", "Binary.png"), "t": {"DataType": "Binary", "BinaryValue": "é"}}
    )
    assert out == {"img": b(b"\x89PNG", "Binary.png"), "t": b("é".encode())}


def test_python_type_errors() -> None:
    with pytest.raises(TypeError):
        validate_message_attributes({"a": {"DataType": "String", "StringValue": 5}})
    with pytest.raises(TypeError):
        validate_message_attributes({"a": {"DataType": "Binary", "BinaryValue": 5}})
    with pytest.raises(TypeError):
        validate_message_attributes({"a": {"DataType": 5, "StringValue": "x"}})
    with pytest.raises(TypeError):
        validate_message_attributes({"a": "x"})  # type: ignore[dict-item]


def test_normalised_copy_is_independent() -> None:
    data = bytearray(b"x")
    source: dict[str, dict[str, Any]] = {
        "a": {"DataType": "Binary", "BinaryValue": data, "StringListValues": []}
    }
    out = validate_message_attributes(source)
    assert out == {"a": {"DataType": "Binary", "BinaryValue": b"x"}}
    assert type(out["a"]["BinaryValue"]) is bytes
    data[0] = ord("y")
    assert out["a"]["BinaryValue"] == b"x"


# -- MD5 --------------------------------------------------------------------------------------------

VECTORS = {
    "attribName1": s("attribValue 1"),
    "customNumberTypeAttrib": s("4563442423554324324264524243.32543234", "Number.float"),
    "binaryAttribute": b(b"Hello binary world!"),
}


@pytest.mark.parametrize(
    ("names", "digest"),
    [
        (["attribName1"], "19e27d4e946b072f3f58da80d94fd778"),
        (["customNumberTypeAttrib"], "9fe1b90bbd9965bdf77bac517c7d2495"),
        (["binaryAttribute"], "31a92b15d92f8db860eda32aceb656c3"),
        (["attribName1", "customNumberTypeAttrib", "binaryAttribute"], "c932db14a896c663f83c260297d594ff"),
    ],
)
def test_published_attribute_vectors(names: list[str], digest: str) -> None:
    attributes = {name: VECTORS[name] for name in names}
    assert md5_of_message_attributes(attributes) == digest
    # The validated copy digests the same, and so does any insertion order.
    assert md5_of_message_attributes(validate_message_attributes(attributes)) == digest
    assert md5_of_message_attributes(dict(reversed(list(attributes.items())))) == digest


def test_no_attributes_no_digest() -> None:
    assert md5_of_message_attributes({}) is None
    assert md5_of_message_attributes(None) is None


def test_binary_label_uses_binary_transport() -> None:
    """A labelled Binary type still uses transport byte 2, and the label is part of the digest."""

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    expected = hashlib.md5(field(b"img") + field(b"Binary.png") + b"\x02" + field(b"\x00\x01")).hexdigest()
    assert md5_of_message_attributes({"img": b(b"\x00\x01", "Binary.png")}) == expected
    assert md5_of_message_attributes({"img": b(b"\x00\x01", "Binary")}) != expected


def test_sort_is_java_string_order() -> None:
    """Java sorts by UTF-16 code unit: U+FF21 comes after U+10400 (surrogates D801 DC00)."""

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    def one(name: str) -> bytes:
        return field(name.encode()) + field(b"String") + b"\x01" + field(b"v")

    expected = hashlib.md5(one("\U00010400") + one("\uff21")).hexdigest()
    assert md5_of_message_attributes({"\uff21": s("v"), "\U00010400": s("v")}) == expected


@pytest.mark.parametrize(
    ("body", "digest"),
    [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6"),
        ("test", "098f6bcd4621d373cade4e832627b4f6"),
    ],
)
def test_md5_of_message_body(body: str, digest: str) -> None:
    assert md5_of_message_body(body) == digest


def test_md5_of_message_body_is_utf8() -> None:
    assert md5_of_message_body("ø€") == hashlib.md5("ø€".encode()).hexdigest()


_SNS_NAMES = st.one_of(
    st.sampled_from(["group", "a.b", "x-y_z", "a..b", ".a", "a.", "AWS.x", "amazon.y", "a b", "é"]),
    st.just("n" * 256),
    st.text(alphabet="ab.-_ ", min_size=0, max_size=4),
)
_SNS_ATTRIBUTE = st.one_of(
    st.fixed_dictionaries(
        {
            "DataType": st.sampled_from(["String", "Number", "Binary", "String.x", "Number.int", "Str"]),
            "StringValue": st.one_of(
                st.sampled_from(["3", "-1.5e3", "1e400", "abc", "", " 7 "]), st.text(max_size=3)
            ),
        }
    ),
    st.fixed_dictionaries({"DataType": st.just("String"), "StringValue": st.just("v"), "Other": st.just(1)}),
    st.fixed_dictionaries({"DataType": st.just("Binary"), "BinaryValue": st.just(b"\x00")}),
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(_SNS_NAMES, _SNS_ATTRIBUTE, max_size=4))
def test_the_usual_attributes_check_agrees_with_the_full_validation(attributes: dict[str, Any]) -> None:
    # plain_attributes answers for the usual attributes and declines the rest (None); where it
    # answers, it must say what the full validation (and its size and key) would.
    plain = plain_attributes(attributes)
    if plain is None:
        return
    result, size, key = plain
    assert result == validate_sns_message_attributes(attributes)
    assert size == attributes_size(result)
    assert key == attributes_key(result)
