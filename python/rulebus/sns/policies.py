"""A subscription's DeliveryPolicy (HTTP/S retries) and RedrivePolicy (its dead-letter queue):
their checks, SNS's defaults and the retry delays they give (Amazon SNS Developer Guide, "Amazon
SNS message delivery retries" and "Amazon SNS dead-letter queues (DLQs)")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rulebus import _jsontext as jsontext
from rulebus._errors import AwsError
from rulebus.arn import queue_name
from rulebus.sns.errors import invalid
from rulebus.transport import HTTP_PROTOCOLS

__all__ = [
    "BACKOFF_FUNCTIONS",
    "DEFAULT_CONTENT_TYPE",
    "DEFAULT_RETRY_POLICY",
    "check_retry_policy",
    "effective_delivery",
    "json_object_attribute",
    "raw_flag",
    "redrive_policy",
    "retry_delays",
    "subscription_delivery_policy",
]

DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
#: The default healthy retry policy of HTTP/S deliveries (SNS API Reference,
#: GetTopicAttributes: EffectiveDeliveryPolicy).
DEFAULT_RETRY_POLICY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")


def raw_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid(
        f"Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [{value}]. "
        "Must be true or false."
    )


def json_object_attribute(value: Any, name: str) -> dict[str, Any] | None:
    """A JSON-object subscription attribute given as a mapping or a JSON string (our wording)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = jsontext.loads(value)
        except ValueError:
            raise invalid(f"Invalid parameter: Attributes Reason: {name}: failed to parse JSON.") from None
    if not isinstance(value, Mapping):
        raise invalid(f"Invalid parameter: Attributes Reason: {name}: must be a JSON object.")
    return dict(value)


def redrive_policy(value: Any, fifo: bool = False) -> str | None:
    """RedrivePolicy ``{"deadLetterTargetArn": <SQS queue ARN>}`` as its compact JSON text; the
    dead-letter queue is FIFO for a FIFO topic's subscriptions, standard otherwise."""
    policy = json_object_attribute(value, "RedrivePolicy")
    if policy is None:
        return None
    target = policy.get("deadLetterTargetArn")
    if not isinstance(target, str) or queue_name(target) is None:
        # Our wording in SNS's style (AWS documents no text for this).
        raise invalid("Invalid parameter: Attributes Reason: RedrivePolicy: deadLetterTargetArn is invalid")
    if fifo and not target.endswith(".fifo"):
        raise invalid(
            "Invalid parameter: Attributes Reason: RedrivePolicy: must use a FIFO queue as DLQ for a FIFO "
            "Subscription to a FIFO Topic."
        )
    if not fifo and target.endswith(".fifo"):
        raise invalid(
            "Invalid parameter: Attributes Reason: RedrivePolicy: a FIFO queue can not be the dead-letter "
            "queue of a subscription to a standard topic"
        )
    return json.dumps(policy, separators=(",", ":"))


def check_retry_policy(policy: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A healthy retry policy with SNS's defaults filled in and its limits (Amazon SNS Developer
    Guide, 'Amazon SNS message delivery retries') checked."""
    merged = dict(DEFAULT_RETRY_POLICY)
    merged.update(policy)

    def fail(reason: str) -> AwsError:
        # Our wording in SNS's style (AWS documents no text for this).
        return invalid(f"Invalid parameter: Attributes Reason: {name}: {reason}")

    for key in (
        "minDelayTarget",
        "maxDelayTarget",
        "numRetries",
        "numNoDelayRetries",
        "numMinDelayRetries",
        "numMaxDelayRetries",
    ):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise fail(f"{key} must be a non-negative integer")
    if merged["numRetries"] > 100:
        raise fail("numRetries must be at most 100")
    if not 1 <= merged["minDelayTarget"] <= merged["maxDelayTarget"] <= 3600:
        raise fail("need 1 <= minDelayTarget <= maxDelayTarget <= 3600")
    phases = merged["numNoDelayRetries"] + merged["numMinDelayRetries"] + merged["numMaxDelayRetries"]
    if phases > merged["numRetries"]:
        raise fail("numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries exceed numRetries")
    if merged["backoffFunction"] not in BACKOFF_FUNCTIONS:
        raise fail(f"backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")
    return merged


def subscription_delivery_policy(value: Any, protocol: str) -> str | None:
    policy = json_object_attribute(value, "DeliveryPolicy")
    if policy is None:
        return None
    if protocol not in HTTP_PROTOCOLS:
        # Our wording: a DeliveryPolicy's retries are for HTTP/S endpoints (Amazon SNS Developer
        # Guide, 'Amazon SNS message delivery retries').
        raise invalid(
            f"Invalid parameter: Attributes Reason: Delivery protocol [{protocol}] does not support "
            "delivery policies"
        )
    retry = policy.get("healthyRetryPolicy", {})
    if not isinstance(retry, Mapping):
        raise invalid(
            "Invalid parameter: Attributes Reason: DeliveryPolicy: healthyRetryPolicy must be an object"
        )
    check_retry_policy(retry, "DeliveryPolicy")
    return json.dumps(policy, separators=(",", ":"))


def retry_delays(policy: Mapping[str, Any]) -> list[float]:
    """The seconds to wait before each retry of a failed HTTP/S delivery: ``numNoDelayRetries``
    at once, ``numMinDelayRetries`` after ``minDelayTarget``, the backoff phase going from
    ``minDelayTarget`` to ``maxDelayTarget`` along ``backoffFunction``, then
    ``numMaxDelayRetries`` after ``maxDelayTarget`` (same page). AWS publishes the backoff
    functions only as curves; these shapes (linear, arithmetic = triangular numbers, geometric =
    squares, exponential = powers of two, all normalised to the phase) are ours."""
    low, high = float(policy["minDelayTarget"]), float(policy["maxDelayTarget"])
    no_delay, at_min, at_max = (
        policy["numNoDelayRetries"],
        policy["numMinDelayRetries"],
        policy["numMaxDelayRetries"],
    )
    backoff = max(0, policy["numRetries"] - no_delay - at_min - at_max)
    curve: list[float] = []
    for step in range(backoff):
        last = backoff - 1
        if last == 0:
            fraction = 0.0
        elif policy["backoffFunction"] == "arithmetic":
            fraction = step * (step + 1) / (last * (last + 1))
        elif policy["backoffFunction"] == "geometric":
            fraction = (step / last) ** 2
        elif policy["backoffFunction"] == "exponential":
            fraction = (2**step - 1) / (2**last - 1)
        else:
            fraction = step / last
        curve.append(low + (high - low) * fraction)
    return ([0.0] * no_delay + [low] * at_min + curve + [high] * at_max)[: policy["numRetries"]]


def effective_delivery(
    topic_policy: str | None, subscription_policy: str | None
) -> tuple[dict[str, Any], str]:
    """The healthy retry policy and Content-Type in force for an HTTP/S subscription: SNS's
    defaults, the topic's DeliveryPolicy ``"http"`` part, then the subscription's own (unless
    the topic disables subscription overrides). A topic policy that does not check out is ignored."""
    retry: dict[str, Any] = dict(DEFAULT_RETRY_POLICY)
    content_type = DEFAULT_CONTENT_TYPE
    try:
        topic_http = jsontext.loads(topic_policy or "{}").get("http") or {}
        retry = check_retry_policy(topic_http.get("defaultHealthyRetryPolicy") or {}, "DeliveryPolicy")
        content_type = (topic_http.get("defaultRequestPolicy") or {}).get("headerContentType", content_type)
        overrides = not topic_http.get("disableSubscriptionOverrides", False)
    except (AwsError, AttributeError, TypeError, ValueError):
        overrides = True
    if overrides and subscription_policy is not None:
        own = jsontext.loads(subscription_policy)
        retry = check_retry_policy({**retry, **(own.get("healthyRetryPolicy") or {})}, "DeliveryPolicy")
        content_type = (own.get("requestPolicy") or {}).get("headerContentType", content_type)
    return retry, str(content_type)
