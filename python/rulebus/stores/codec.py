"""Message attributes as text, for the stores that keep messages outside this process (SQLite,
Redis): JSON, with binary values in base64 under their own key."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["decode_message_attributes", "encode_message_attributes"]


def encode_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """Message attributes as JSON; binary values in base64 under their own key."""
    if not attributes:
        return "{}"  # most messages: spare json.dumps
    encoded: dict[str, dict[str, str]] = {}
    for name, attribute in attributes.items():
        item = {"DataType": attribute["DataType"]}
        if "BinaryValue" in attribute:
            item["BinaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode("ascii")
        else:
            item["StringValue"] = attribute["StringValue"]
        encoded[name] = item
    return json.dumps(encoded, ensure_ascii=False)


def decode_message_attributes(text: str) -> dict[str, dict[str, Any]]:
    """What :func:`encode_message_attributes` wrote."""
    decoded: dict[str, dict[str, Any]] = {}
    if text == "{}":
        return decoded
    for name, item in json.loads(text).items():
        if "BinaryValue" in item:
            decoded[name] = {
                "DataType": item["DataType"],
                "BinaryValue": base64.b64decode(item["BinaryValue"]),
            }
        else:
            decoded[name] = {"DataType": item["DataType"], "StringValue": item["StringValue"]}
    return decoded
