"""Publish's MessageAttributes: SNS's checks (code ParameterValueInvalid throughout), their size
and a key naming them, with a fast path for the usual shape."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from rulebus import validation
from rulebus.sns.errors import PARAMETER_VALUE_INVALID, invalid

__all__ = ["attributes_key", "attributes_size", "plain_attributes", "validate_sns_message_attributes"]

_ATTRIBUTE_NAME_CHAR = re.compile(r"[A-Za-z0-9_.-]")
# The members of MessageAttributeValue (botocore's SNS model).
_ATTRIBUTE_VALUE = frozenset(("DataType", "StringValue", "BinaryValue"))


def _check_attribute_name(name: Any) -> None:
    validation.text(name, "MessageAttributes", validation.SNS)
    if len(name.encode("utf-8")) >= 256:
        raise invalid(
            "Length of message attribute name must be less than 256 bytes.", PARAMETER_VALUE_INVALID
        )
    if name.startswith("."):
        raise invalid(
            "Invalid message attribute name starting with character '.' was found.", PARAMETER_VALUE_INVALID
        )
    if name.endswith("."):
        # LocalStack's wording (AWS's text is undocumented).
        raise invalid(
            "Invalid message attribute name ending with character '.' was found.", PARAMETER_VALUE_INVALID
        )
    for index, char in enumerate(name):
        if not _ATTRIBUTE_NAME_CHAR.fullmatch(char):
            # LocalStack's wording (AWS's text is undocumented).
            raise invalid(
                f"Invalid non-alphanumeric character '#x{ord(char):X}' was found in the message attribute "
                "name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
                PARAMETER_VALUE_INVALID,
            )
        if char == "." and index and name[index - 1] == ".":
            raise invalid(
                "Message attribute name can not have successive '.' character.", PARAMETER_VALUE_INVALID
            )


def validate_sns_message_attributes(
    attributes: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Check Publish's MessageAttributes (boto3's form) as SNS does; return a normalised copy
    holding ``DataType`` and the one value key the type uses (``BinaryValue`` as bytes)."""
    validation.mapping(attributes, "MessageAttributes", validation.SNS, required=False)
    if not attributes:
        return {}
    result: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        _check_attribute_name(name)
        if not isinstance(attribute, Mapping):
            raise validation.SNS.wrong_type(f"MessageAttributes.{name}", attribute, "a map")
        validation.keys(attribute, f"MessageAttributes.{name}", validation.SNS, _ATTRIBUTE_VALUE)
        data_type = attribute.get("DataType")
        if not data_type:
            # LocalStack's wording (AWS's text is undocumented).
            raise invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value.",
                PARAMETER_VALUE_INVALID,
            )
        validation.text(data_type, "DataType", validation.SNS)
        parts = data_type.split(".")
        if parts[0] not in ("String", "Number", "Binary") or len(parts) > 2 or "" in parts:
            raise invalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set of supported "
                "type prefixes is Binary, Number, and String.",
                PARAMETER_VALUE_INVALID,
            )
        field_kind = "Binary" if parts[0] == "Binary" else "String"
        value_key = f"{field_kind}Value"
        if "StringValue" not in attribute and "BinaryValue" not in attribute:
            raise invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{data_type}'.",
                PARAMETER_VALUE_INVALID,
            )
        if attribute.get(value_key) is None:
            raise invalid(
                f"The message attribute '{name}' with type '{data_type}' must use field '{field_kind}'.",
                PARAMETER_VALUE_INVALID,
            )
        value = attribute[value_key]
        if not value:
            raise invalid(
                f"The message attribute '{name}' must contain non-empty message attribute value for message "
                f"attribute type '{data_type}'.",
                PARAMETER_VALUE_INVALID,
            )
        if field_kind == "Binary":
            if isinstance(value, str):
                value = validation.text(value, "BinaryValue", validation.SNS).encode("utf-8")
            elif not isinstance(value, (bytes, bytearray, memoryview)):
                raise validation.SNS.wrong_type("BinaryValue", value, "a blob")
            result[name] = {"DataType": data_type, "BinaryValue": bytes(value)}
            continue
        validation.text(value, "StringValue", validation.SNS)
        if parts[0] == "Number":
            try:
                Decimal(value.strip())
            except InvalidOperation:
                # Other emulators' wording (AWS's text is undocumented; not verified).
                raise invalid(
                    f"Could not cast message attribute '{name}' value to number.", PARAMETER_VALUE_INVALID
                ) from None
        result[name] = {"DataType": data_type, "StringValue": value}
    return result


# A name ``_check_attribute_name`` certainly accepts: the allowed characters, dots only between
# others (never first, last or doubled), ASCII so its UTF-8 length is its length. A name that does
# not match goes through the full check, which raises its own text (or accepts the empty name).
_PLAIN_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
# Names that matched, remembered: a service publishes with a handful of attribute names, and a
# set lookup costs a tenth of the match. Bounded, since names are the caller's data.
_PLAIN_NAMES: set[str] = set()
_PLAIN_NAMES_MAX = 4096


def _plain_name(name: str) -> bool:
    if len(name) >= 256 or not _PLAIN_ATTRIBUTE_NAME.fullmatch(name):
        return False
    if len(_PLAIN_NAMES) >= _PLAIN_NAMES_MAX:
        _PLAIN_NAMES.clear()
    _PLAIN_NAMES.add(name)
    return True


def plain_attributes(
    attributes: dict[Any, Any],
) -> tuple[dict[str, dict[str, Any]], int, tuple[str, ...]] | None:
    """What ``validate_sns_message_attributes`` returns for the usual MessageAttributes (a dict of
    dicts: plainly valid names, ``String`` or ``Number`` values), with their size as
    ``attributes_size`` counts it and a key naming them (``(name, type, value)`` after each
    other); None for any other shape, which then takes the full validation and its error texts.
    Every check this passes is one the full validation makes and passes, so the result is equal."""
    result: dict[str, dict[str, Any]] = {}
    size = 0
    key: list[str] = []
    for name, attribute in attributes.items():
        if (
            type(name) is not str
            or (name not in _PLAIN_NAMES and not _plain_name(name))
            or type(attribute) is not dict
            or len(attribute) != 2  # DataType and StringValue, no other member
        ):
            return None
        data_type = attribute.get("DataType")
        value = attribute.get("StringValue")
        if type(data_type) is not str or type(value) is not str or not value or not validation.is_text(value):
            return None
        if data_type == "Number":
            try:
                Decimal(value.strip())
            except InvalidOperation:
                return None
        elif data_type != "String":
            return None
        result[name] = {"DataType": data_type, "StringValue": value}
        # len("String") == len("Number") == 6, and the name is ASCII.
        size += len(name) + 6 + (len(value) if value.isascii() else len(value.encode("utf-8")))
        key += (name, data_type, value)
    return result, size, tuple(key)


def attributes_key(attributes: Mapping[str, Mapping[str, Any]]) -> tuple[Any, ...]:
    """A key naming validated attributes as ``plain_attributes`` does (Binary values as bytes)."""
    key: list[Any] = []
    for name, attribute in attributes.items():
        key += (name, attribute["DataType"], attribute.get("StringValue", attribute.get("BinaryValue")))
    return tuple(key)


def attributes_size(attributes: Mapping[str, Mapping[str, Any]]) -> int:
    size = 0
    for name, attribute in attributes.items():
        value = attribute.get("BinaryValue")
        if value is None:
            value = attribute["StringValue"].encode("utf-8")
        size += len(name.encode("utf-8")) + len(attribute["DataType"].encode("utf-8")) + len(value)
    return size
