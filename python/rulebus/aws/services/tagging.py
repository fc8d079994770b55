"""Tags as the four services take them: AWS's limits on keys, values and count (the same in each
service, each wording its own errors), and the two forms a request carries them in (a map, or a
list of ``{"Key", "Value"}``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rulebus import validation
from rulebus._errors import AwsError

__all__ = ["MAX_TAGS", "check_tags", "checked_map", "tag_list", "tag_map"]

#: Tags per resource, and the lengths of a key and of a value (AWS General Reference, 'Tagging
#: your AWS resources'; the same for SQS, SNS, EventBridge and Kinesis).
MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256


def tag_map(tags: Any, parameter: str, wording: validation.Wording) -> dict[str, str]:
    """Tags given as a list of ``{"Key", "Value"}`` (SNS, EventBridge), as a map."""
    validation.entries(tags, parameter, wording, frozenset(("Key", "Value")))
    result: dict[str, str] = {}
    for tag in tags:
        key = validation.text(tag.get("Key"), f"{parameter}.Key", wording)
        result[key] = validation.text(tag.get("Value"), f"{parameter}.Value", wording)
    return result


def checked_map(tags: Any, parameter: str, wording: validation.Wording) -> dict[str, str]:
    """Tags given as a map (SQS, Kinesis): a map of text to text."""
    validation.mapping(tags, parameter, wording)
    for key, value in tags.items():
        validation.text(key, parameter, wording)
        validation.text(value, key, wording)
    return dict(tags)


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    """Tags as a list of ``{"Key", "Value"}``, by key."""
    return [{"Key": key, "Value": tags[key]} for key in sorted(tags)]


def check_tags(
    adding: Mapping[str, str],
    held: Mapping[str, str],
    invalid: Callable[[str], AwsError],
    too_many: Callable[[str], AwsError],
) -> None:
    """Refuse tags AWS refuses: a key of 1-128 characters not starting ``aws:`` (reserved for
    AWS), a value of at most 256, and at most 50 tags on the resource once added. ``invalid``
    and ``too_many`` word the service's error for a reason (the reasons are our wording)."""
    for key, value in adding.items():
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise invalid(f"Tag keys must be between 1 and {MAX_KEY_LENGTH} characters in length.")
        if key.lower().startswith("aws:"):
            raise invalid("Tag keys beginning with 'aws:' are reserved for AWS.")
        if len(value) > MAX_VALUE_LENGTH:
            raise invalid(f"Tag values must be at most {MAX_VALUE_LENGTH} characters in length.")
    if len(set(held) | set(adding)) > MAX_TAGS:
        raise too_many(f"A resource can have at most {MAX_TAGS} tags.")
