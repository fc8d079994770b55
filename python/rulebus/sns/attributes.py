"""A topic's name and attributes: CreateTopic's checks, its keywords, GetTopicAttributes' defaults.

Texts are SNS's (Amazon SNS API Reference, "CreateTopic") unless a comment at the text says
otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from rulebus.sns.errors import invalid

__all__ = [
    "FIFO_THROUGHPUT_SCOPES",
    "TOPIC_KWARGS",
    "bool_attribute",
    "check_fifo_id",
    "check_topic_attributes",
    "default_topic_attributes",
    "topic_arn",
    "topic_attributes_from_kwargs",
    "validate_topic_name",
]

_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")
# MessageGroupId / MessageDeduplicationId: 1-128 alphanumerics and punctuation (SNS API Reference, Publish).
_FIFO_ID = re.compile(r"[!-~]{1,128}")  # printable ASCII but space: alphanumerics and punctuation

#: GetTopicAttributes' EffectiveDeliveryPolicy of a topic without a DeliveryPolicy.
_DEFAULT_EFFECTIVE_DELIVERY_POLICY = (
    '{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,'
    '"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
    '"disableSubscriptionOverrides":false,'
    '"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}'
)
_POLICY_ACTIONS = [
    "SNS:GetTopicAttributes",
    "SNS:SetTopicAttributes",
    "SNS:AddPermission",
    "SNS:RemovePermission",
    "SNS:DeleteTopic",
    "SNS:Subscribe",
    "SNS:ListSubscriptionsByTopic",
    "SNS:Publish",
]

FIFO_THROUGHPUT_SCOPES = ("Topic", "MessageGroup")

#: CreateTopic keywords and the attributes they set.
TOPIC_KWARGS = {
    "display_name": "DisplayName",
    "policy": "Policy",
    "delivery_policy": "DeliveryPolicy",
    "signature_version": "SignatureVersion",
    "tracing_config": "TracingConfig",
    "kms_master_key_id": "KmsMasterKeyId",
    "fifo_topic": "FifoTopic",
    "content_based_deduplication": "ContentBasedDeduplication",
    "fifo_throughput_scope": "FifoThroughputScope",
}


def validate_topic_name(name: Any) -> None:
    """1-256 characters of ``[A-Za-z0-9_-]``, or 1-251 of them then ``.fifo`` (SNS API
    Reference, CreateTopic); whether a ``.fifo`` name goes with FifoTopic=true is checked by
    ``check_topic_attributes``."""
    if not isinstance(name, str):
        raise TypeError(f"topic name must be str, not {type(name).__name__}")
    if not _TOPIC_NAME.fullmatch(name) and not _FIFO_TOPIC_NAME.fullmatch(name):
        raise invalid("Invalid parameter: Topic Name")


def topic_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def _attribute_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def topic_attributes_from_kwargs(attributes: Mapping[str, Any]) -> dict[str, str]:
    """CreateTopic's attributes from snake_case keywords (values as Python or AWS strings)."""
    result: dict[str, str] = {}
    for key, value in attributes.items():
        if key not in TOPIC_KWARGS:
            raise TypeError(f"unknown topic attribute {key!r}")
        result[TOPIC_KWARGS[key]] = _attribute_string(value)
    return result


def bool_attribute(attributes: Mapping[str, str], name: str) -> bool:
    value = attributes.get(name, "false")
    if value.lower() not in ("true", "false"):
        # Our wording, modelled on SNS's text for a bad RawMessageDelivery.
        raise invalid(
            f"Invalid parameter: Attributes Reason: {name}: Invalid value [{value}]. Must be true or false."
        )
    return value.lower() == "true"


def check_topic_attributes(name: str, attributes: Mapping[str, str]) -> bool:
    """CreateTopic's FIFO rules (SNS API Reference, CreateTopic): a ``.fifo`` name needs FifoTopic=true
    and FifoTopic=true a ``.fifo`` name; ContentBasedDeduplication and FifoThroughputScope only on FIFO
    topics.
    Returns whether the topic is FIFO."""
    fifo = bool_attribute(attributes, "FifoTopic")
    if fifo and not name.endswith(".fifo"):
        # LocalStack's / moto's wording (AWS's text is undocumented).
        raise invalid(
            "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase "
            "and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 "
            "characters long."
        )
    if not fifo and name.endswith(".fifo"):
        # A standard topic's name may not hold a '.' (SNS's text for a bad name).
        raise invalid("Invalid parameter: Topic Name")
    content_based = bool_attribute(attributes, "ContentBasedDeduplication")
    scope = attributes.get("FifoThroughputScope")
    if not fifo and (content_based or scope is not None):
        which = "ContentBasedDeduplication" if content_based else "FifoThroughputScope"
        # Our wording in SNS's style (AWS documents no text for this).
        raise invalid(f"Invalid parameter: Attributes Reason: {which}: only valid for FIFO topics")
    if scope is not None and scope not in FIFO_THROUGHPUT_SCOPES:
        # Our wording, modelled on SNS's text for a bad FilterPolicyScope.
        raise invalid(
            f"Invalid parameter: Attributes Reason: FifoThroughputScope: Invalid value [{scope}]. "
            "Please use either Topic or MessageGroup"
        )
    return fifo


def check_fifo_id(parameter: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{parameter} must be str, not {type(value).__name__}")
    if not _FIFO_ID.fullmatch(value):
        # SQS's reason (SQS API Reference, SendMessage) in SNS's "Invalid parameter: X Reason: Y"
        # form; our wording.
        raise invalid(
            f"Invalid parameter: {parameter} Reason: {parameter} can only include alphanumeric and "
            "punctuation characters. 1 to 128 in length."
        )
    return value


def default_topic_attributes(
    arn: str, account: str, fifo: bool, pending: int, confirmed: int
) -> dict[str, str]:
    """GetTopicAttributes of a topic before its own attributes: SNS's defaults (the default
    access policy lets the owner's account use the topic) and its subscription counts."""
    policy = {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": _POLICY_ACTIONS,
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }
    attributes = {
        "Policy": json.dumps(policy, separators=(",", ":")),
        "Owner": account,
        "SubscriptionsPending": str(pending),
        "TopicArn": arn,
        "EffectiveDeliveryPolicy": _DEFAULT_EFFECTIVE_DELIVERY_POLICY,
        "SubscriptionsConfirmed": str(confirmed),
        "DisplayName": "",
        "SubscriptionsDeleted": "0",
    }
    if fifo:
        attributes["FifoTopic"] = "true"
        attributes["ContentBasedDeduplication"] = "false"
        attributes["SignatureVersion"] = "2"
    return attributes
