"""SNS's envelope layout, written independently of rulebus: the reference the tests hold every
delivered envelope to (Jackson's pretty printer as SNS uses it: two-space indent, ``" : "``
separators, each message attribute on one compact line, strings escaped as ``json`` does)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _string(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def format_envelope(notification: Mapping[str, Any]) -> str:
    """A notification (or SubscriptionConfirmation) dict as SNS lays out its JSON text."""
    lines = []
    for key, value in notification.items():
        if key == "MessageAttributes":
            inner = ",\n".join(
                f"    {_string(name)} : {json.dumps(attribute, ensure_ascii=False, separators=(',', ':'))}"
                for name, attribute in value.items()
            )
            lines.append(f'  "MessageAttributes" : {{\n{inner}\n  }}')
        else:
            lines.append(f"  {_string(key)} : {_string(value)}")
    return "{\n" + ",\n".join(lines) + "\n}"
