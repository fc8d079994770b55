"""SQS message attributes: validation with SQS's error texts, and the MD5 digests SQS returns.

Why this module exists: every AWS SDK except boto3 recomputes ``MD5OfMessageBody`` and
``MD5OfMessageAttributes`` on its side and throws when ours differ (the top complaint in
emulators' issue trackers), and callers that assert on SQS's error codes and messages must see SQS's own. Both
therefore have to be exact, and both are pure functions of the request, so they live here, apart
from any queue or store.

Attributes use boto3's shape::

    {"Priority": {"DataType": "String", "StringValue": "high"},
     "Blob": {"DataType": "Binary.png", "BinaryValue": b"..."}}

Provenance of the error texts (only the first one was recorded against AWS; the rest come
from reimplementations and are marked where they rest on weaker ground):

* "... must contain a non-empty value of type 'String'." — LocalStack, validated against AWS.
* "Can't cast the value of message (user) attribute ... to a number." and
  "Number of message attributes [11] exceeds the allowed maximum [10]." — captured from live SQS
  (quoted by other emulators with their request ids).
* The name/type texts — LocalStack's SQS provider (not snapshot-verified).
* Successive periods, single value, empty name, empty attribute — Inqnuam/local-aws-sqs (not
  verified).
* Number out of range — ElasticMQ's wording (not verified).
* Invalid characters in a value, list values — our own wording in AWS's style (no source found).
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from rulebus import validation
from rulebus._errors import AwsError, sqs_error

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_NAME_LENGTH",
    "MAX_TYPE_LENGTH",
    "SYSTEM_ATTRIBUTES",
    "md5_of_message_attributes",
    "md5_of_message_body",
    "md5_of_trace_header",
    "trace_header",
    "validate_message_attributes",
]

#: At most this many user attributes per message (Amazon SQS Developer Guide, 'Amazon SQS message
#: attributes').
MAX_ATTRIBUTES = 10
#: A name may have up to 256 characters (same page).
MAX_NAME_LENGTH = 256
#: A data type, custom label included, may have up to 256 characters (same page).
MAX_TYPE_LENGTH = 256
#: Numbers: magnitude from 10^-128 to 10^+126 (same page), zero allowed.
_NUMBER_MAX_MAGNITUDE = Decimal("1e126")
_NUMBER_MIN_MAGNITUDE = Decimal("1e-128")

#: The only system attribute a send may carry (SQS API Reference, SendMessage,
#: MessageSystemAttributes).
SYSTEM_ATTRIBUTES = ("AWSTraceHeader",)

_BASE_TYPES = ("String", "Number", "Binary")
_INVALID = "InvalidParameterValue"

# A plain decimal numeral: optional sign, digits with at most one point, optional exponent. Stricter
# than Decimal(), which would also take "NaN", "Infinity", "1_000" and surrounding blanks.
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# The characters SQS allows in bodies and attribute values (SQS API Reference, SendMessage).
_INVALID_VALUE_CHAR_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ALLOWED_VALUE_CHARS = "#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF"

_TRANSPORT_STRING = b"\x01"
_TRANSPORT_BINARY = b"\x02"


def _error(message: str) -> AwsError:
    """Every attribute rule SQS enforces answers with InvalidParameterValue (HTTP 400, sender)."""
    return sqs_error(_INVALID, message)


def _is_name_char(char: str) -> bool:
    """Letters, digits, '_', '-' and '.'.

    Letters and digits are Unicode ones, not ASCII only: LocalStack's AWS-validated test sends the
    name ``attr.1øßä`` successfully to real SQS, while '§', '!', '"', '(' and '?' are refused.
    The ``[A-Za-z0-9_.-]`` of the guide ('Amazon SQS message attributes') would refuse what AWS
    accepts.
    """
    if char in "_-.":
        return True
    category = unicodedata.category(char)
    return category.startswith("L") or category == "Nd"


def _check_name(name: Any) -> None:
    """Apply SQS's naming rules to one attribute name, in the order SQS reports them."""
    validation.text(name, "MessageAttributes", validation.SQS)
    if not name:
        raise _error("The request must contain non-empty message (user) attribute names.")
    if len(name) > MAX_NAME_LENGTH:
        raise _error("Message (user) attribute names must be shorter than 256 Bytes")
    if not all(_is_name_char(char) for char in name):
        # Trailing blank and "score characters" are in the observed text; keep them.
        raise _error(
            "Message (user) attributes name can only contain upper and lower score characters, "
            "digits, periods, hyphens and underscores. "
        )
    lower = name.lower()
    if lower.startswith(("aws.", "amazon.")) or name.startswith(".") or name.endswith("."):
        raise _error(
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. "
            "These strings are reserved for internal use. Additionally, they cannot start or end with '.'."
        )
    if ".." in name:
        raise _error("Message (user) attribute name must not have successive '.' characters.")


def _base_type(data_type: str) -> str | None:
    """``String``, ``Number`` or ``Binary`` for a data type, optionally labelled (``Number.float``);
    None when the type has no supported prefix. SQS does not interpret the label."""
    for base in _BASE_TYPES:
        if data_type == base or data_type.startswith(base + "."):
            return base
    return None


def _check_string_value(name: str, value: str) -> None:
    """Attribute values obey the body's character set (SQS API Reference, SendMessage); SQS
    refuses the rest."""
    bad = _INVALID_VALUE_CHAR_RE.search(value)
    if bad is not None:
        raise _error(
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the value of message (user) "
            f"attribute '{name}', the set of allowed characters is {_ALLOWED_VALUE_CHARS}"
        )


def _check_number(name: str, value: str) -> None:
    """A Number travels as a string; SQS refuses what does not parse as a decimal number or lies
    outside 10^-128..10^126 in magnitude (zero is a number and allowed)."""
    if _NUMBER_RE.fullmatch(value) is None:
        raise _error(f"Can't cast the value of message (user) attribute '{name}' to a number.")
    try:
        magnitude = abs(Decimal(value))
    except InvalidOperation:  # pragma: no cover - the regular expression admits only decimals
        raise _error(f"Can't cast the value of message (user) attribute '{name}' to a number.") from None
    if magnitude and not (_NUMBER_MIN_MAGNITUDE <= magnitude <= _NUMBER_MAX_MAGNITUDE):
        raise _error(f"Number attribute value {value} should be in range (-10**128..10**126)")


def _as_bytes(value: Any) -> bytes:
    """Binary values as bytes: boto3 accepts bytes-like objects and str (sent as UTF-8) for blobs."""
    if isinstance(value, str):
        validation.text(value, "BinaryValue", validation.SQS)
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise validation.SQS.wrong_type("BinaryValue", value, "a blob")


def _validate_one(name: str, attribute: Any) -> dict[str, Any]:
    """Validate one attribute and return its normalised copy (only the keys its type uses)."""
    if not isinstance(attribute, Mapping):
        raise validation.SQS.wrong_type(f"MessageAttributes.{name}", attribute, "a map")
    data_type = attribute.get("DataType")
    string_value = attribute.get("StringValue")
    binary_value = attribute.get("BinaryValue")
    if data_type is None and string_value is None and binary_value is None:
        raise _error(
            f"The message (user) attribute '{name}' must contain a non-empty message attribute value."
        )
    validation.text(data_type, "DataType", validation.SQS, required=False)
    if not data_type:
        raise _error("Missing required parameter DataType")
    if attribute.get("StringListValues") or attribute.get("BinaryListValues"):
        # Modelled by botocore, but SQS says they are "not implemented" (SQS API
        # Reference, MessageAttributeValue).
        raise _error(
            f"Message (user) attribute '{name}': StringListValues and BinaryListValues are not implemented."
        )
    base = _base_type(data_type)
    if base is None:
        raise _error(
            f"The type of message (user) attribute '{name}' is invalid. You must use only the following "
            "supported type prefixes: Binary, Number, String."
        )
    if len(data_type) > MAX_TYPE_LENGTH:
        raise _error("Message (user) attribute types must be shorter than 256 Bytes")
    if string_value is not None and binary_value is not None:
        raise _error(f"Message (user) attribute '{name}' must have a single value.")

    empty = f"Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
    if base == "Binary":
        if binary_value is None:
            raise _error(empty)
        data = _as_bytes(binary_value)
        if not data:
            raise _error(empty)
        return {"DataType": data_type, "BinaryValue": data}

    if string_value is None:
        raise _error(empty)
    if not isinstance(string_value, str):
        raise validation.SQS.wrong_type("StringValue", string_value, "a string")
    if not string_value:
        raise _error(empty)
    _check_string_value(name, string_value)
    if base == "Number":
        _check_number(name, string_value)
    # The value is kept exactly as sent (SQS's "leading and trailing zeros trimmed" is about its own
    # storage): the sender's SDK computes MD5OfMessageAttributes over what it sent, so must we.
    return {"DataType": data_type, "StringValue": string_value}


def validate_message_attributes(
    attributes: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Check SQS message attributes as SendMessage does and return a normalised copy.

    Raises ``AwsError`` with SQS's code (InvalidParameterValue) and message for anything SQS
    refuses, so that a queue built on this rejects exactly what SQS rejects. The copy holds plain
    dicts with ``DataType`` and the one value key its type uses (``BinaryValue`` as ``bytes``), and
    is safe to store: later changes to the caller's mappings do not reach it. ``None`` or an empty
    mapping give ``{}``. Wrong Python types (a non-str name, an int StringValue) raise
    :class:`~rulebus._errors.ParameterTypeError`, an AwsError that is also a TypeError (see
    :mod:`rulebus.validation`).
    """
    if attributes is None:
        return {}
    validation.mapping(attributes, "MessageAttributes", validation.SQS)
    if not attributes:
        return {}
    if len(attributes) > MAX_ATTRIBUTES:
        raise _error(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    result: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        _check_name(name)
        result[name] = _validate_one(name, attribute)
    return result


def trace_header(system_attributes: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """The AWSTraceHeader of a send's MessageSystemAttributes, checked as SendMessage checks them
    (``{"AWSTraceHeader": {"DataType": "String", "StringValue": ...}}``, the only one there is);
    None without it. Its size does not count toward the message's (SQS API Reference,
    SendMessage)."""
    if not system_attributes:
        return None
    validation.mapping(system_attributes, "MessageSystemAttributes", validation.SQS)
    header = None
    for name, value in system_attributes.items():
        if name not in SYSTEM_ATTRIBUTES:
            # Our wording, in the style of SQS's "Unknown Attribute" texts.
            raise _error(f"Message system attribute name '{validation.shown(name)}' is invalid.")
        data_type = value.get("DataType") if isinstance(value, Mapping) else None
        header = value.get("StringValue") if isinstance(value, Mapping) else None
        if data_type != "String" or not isinstance(header, str):
            raise _error(
                f"Value {validation.shown(data_type)} for parameter MessageSystemAttributes.{name}.DataType "
                "is invalid. Reason: AWSTraceHeader must be a String."
            )
        _check_string_value(name, header)
    return header


def md5_of_trace_header(header: str) -> str:
    """MD5OfMessageSystemAttributes of a send carrying ``header``: the message-attribute digest
    of its MessageSystemAttributes (SQS API Reference, SendMessage)."""
    digest = md5_of_message_attributes({"AWSTraceHeader": {"DataType": "String", "StringValue": header}})
    assert digest is not None
    return digest


def md5_of_message_body(body: str) -> str:
    """``MD5OfMessageBody``: hex MD5 of the body's UTF-8 bytes, which SDKs check on send and receive."""
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _length_prefixed(data: bytes) -> bytes:
    """Each field of the attribute digest is its length as a 4-byte big-endian integer, then itself."""
    return struct.pack(">I", len(data)) + data


def _java_order(name: str) -> bytes:
    """Sort key giving Java's String order: big-endian UTF-16 bytes compare as its code units do."""
    return name.encode("utf-16-be", "surrogatepass")


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """``MD5OfMessageAttributes`` exactly as SQS computes it, or None without attributes
    (Amazon SQS Developer Guide, 'Calculating the MD5 message digest for message attributes').

    For each attribute in ascending order of name: length-prefixed UTF-8 name, length-prefixed
    UTF-8 data type (custom label included), one transport byte (1 for String/Number, 2 for
    Binary), length-prefixed value (UTF-8 of StringValue, or the raw BinaryValue). The order is
    UTF-16 code-unit order, as Java's ``String.compareTo`` sorts the TreeMap the SDKs and SQS use;
    it differs from code-point order only for names mixing U+E000..U+FFFF with astral characters.
    None, not the MD5 of nothing, when there are no attributes: SQS then omits the field, and the
    PHP SDK fails on an empty-input digest (localstack#136).
    Expects validated attributes (see ``validate_message_attributes``).
    """
    if not attributes:
        return None
    digest = hashlib.md5()
    for name in sorted(attributes, key=_java_order):
        attribute = attributes[name]
        data_type = attribute["DataType"]
        digest.update(_length_prefixed(name.encode("utf-8")))
        digest.update(_length_prefixed(data_type.encode("utf-8")))
        if _base_type(data_type) == "Binary":
            digest.update(_TRANSPORT_BINARY)
            digest.update(_length_prefixed(_as_bytes(attribute["BinaryValue"])))
        else:
            digest.update(_TRANSPORT_STRING)
            digest.update(_length_prefixed(attribute["StringValue"].encode("utf-8")))
    return digest.hexdigest()
