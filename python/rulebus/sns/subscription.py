"""SNS subscriptions: their settings, attributes and counters, and their filter policies' checks.

A ``Subscription`` is the topic's view of one stored subscription (or of a Python callable's,
which is never stored). Its ``filtered_count`` and ``delivered_count`` are counted where
publishes are delivered (see the descriptors below); the rest are plain fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rulebus import _jsontext as jsontext
from rulebus import validation
from rulebus._core import DeliveryCounter, FilterPolicy
from rulebus._errors import InvalidFilterPolicyError
from rulebus.arn import Arn
from rulebus.context import sns_endpoint
from rulebus.sns.envelope import quote
from rulebus.sns.errors import invalid
from rulebus.sns.policies import DEFAULT_RETRY_POLICY, effective_delivery
from rulebus.stores.records import SubscriptionRecord
from rulebus.transport import HTTP_PROTOCOLS

if TYPE_CHECKING:
    from rulebus.sns.topic import Topic

__all__ = [
    "FILTER_POLICY_SCOPES",
    "SUBSCRIPTION_ATTRIBUTES",
    "Subscription",
    "add_filtered",
    "bad_scope",
    "compile_filter_policy",
    "delivery_counter",
    "subscription_from_record",
]

FILTER_POLICY_SCOPES = ("MessageAttributes", "MessageBody")
#: What SetSubscriptionAttributes can set (AWS's API reference; the last two we refuse, see there).
SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
)
_FILTER_POLICY_ERROR = "Invalid parameter: FilterPolicy: "
_FILTER_POLICY_ERROR_ON_SUBSCRIBE = "Invalid parameter: Attributes Reason: FilterPolicy: "


def add_filtered(subscription: Subscription, count: int) -> None:
    """Add to the filtered count the subscription holds (see ``_FilteredCount``): as
    ``filtered_count += count``, without the descriptor's look-up of the plan's part."""
    subscription.__dict__["filtered_count"] = subscription.__dict__.get("filtered_count", 0) + count


class _FilteredCount:
    """``Subscription.filtered_count``, exact without a publish touching every subscription it
    filters out: while a topic's route plan (``_RoutePlan``) is in force, it counts the publishes
    that evaluated its subscriptions and, per filtered subscription, those that matched; the
    difference is added to what the instance holds (under this attribute's name, which the
    descriptor shadows) when the plan is dropped (``Topic._drop_plan``). Read and written under
    the topic's lock, so a count is never seen half moved. A data descriptor as a dataclass
    field's default keeps the field, its default of 0, ``__init__`` and ``repr`` as they were."""

    def __get__(self, subscription: Subscription | None, owner: Any = None) -> int:
        if subscription is None:
            return 0  # the class attribute: the dataclass takes it for the field's default
        topic: Topic | None = subscription.__dict__.get("topic")
        if topic is None:
            held: int = subscription.__dict__.get("filtered_count", 0)
            return held
        with topic.counts_lock:
            held = subscription.__dict__.get("filtered_count", 0)
            return held + topic.unsettled_filtered(subscription)

    def __set__(self, subscription: Subscription, value: int) -> None:
        topic: Topic | None = subscription.__dict__.get("topic")  # not set yet while __init__ runs
        if topic is None:
            subscription.__dict__["filtered_count"] = value
            return
        with topic.counts_lock:
            subscription.__dict__["filtered_count"] = value - topic.unsettled_filtered(subscription)


def delivery_counter(subscription: Subscription) -> DeliveryCounter:
    """The native counter behind ``subscription.delivered_count`` (see ``_DeliveredCount``)."""
    counter: DeliveryCounter | None = subscription.__dict__.get("_delivered")
    if counter is None:
        counter = subscription.__dict__["_delivered"] = DeliveryCounter()
    return counter


class _DeliveredCount:
    """``Subscription.delivered_count``, held in a native ``DeliveryCounter``: the native fan-out
    (``Store.put_notifications``) counts what it stores there, and every other delivery adds to
    it with ``add``, which a thread's read-modify-write could not lose. A data descriptor as a
    dataclass field's default, as ``_FilteredCount``."""

    def __get__(self, subscription: Subscription | None, owner: Any = None) -> int:
        if subscription is None:
            return 0  # the class attribute: the dataclass takes it for the field's default
        value: int = delivery_counter(subscription).value
        return value

    def __set__(self, subscription: Subscription, value: int) -> None:
        delivery_counter(subscription).value = value


@dataclass(eq=False)
class Subscription:
    """One subscription of a topic. ``filtered_count`` counts the messages its filter policy kept
    out (SNS's NumberOfNotificationsFilteredOut), ``delivered_count`` those delivered,
    ``dead_lettered_count`` those that failed (after the retries, for HTTP/S) and went to the
    subscription's dead-letter queue, and ``failed_count`` failed deliveries that did not (no
    RedrivePolicy, or the dead-letter queue refused them too): the queue gone, SQS refusing the
    message, an HTTP/S endpoint unreachable or answering other than 2xx, a Python callable
    raising.

    ``subscription_arn`` is always the subscription's ARN; ``arn`` is what Subscribe answers:
    ``"pending confirmation"`` while an HTTP/S subscription awaits ConfirmSubscription (unless it
    was made with ``return_subscription_arn=True``), the ARN otherwise."""

    subscription_arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    owner: str
    target: Any = field(repr=False)
    filter_policy: str | None = None
    filter_policy_scope: str | None = None
    raw_message_delivery: bool = False
    delivery_policy: str | None = None
    redrive_policy: str | None = None
    pending_confirmation: bool = False
    return_subscription_arn: bool = True
    token: str | None = field(default=None, repr=False)
    token_issued: float = field(default=0.0, repr=False)
    subscription_role_arn: str | None = None
    filtered_count: int = _FilteredCount()  # type: ignore[assignment]  # an int, counted lazily
    delivered_count: int = _DeliveredCount()  # type: ignore[assignment]  # an int, counted natively
    dead_lettered_count: int = 0
    failed_count: int = 0
    #: Of the failed deliveries, those its dead-letter queue refused too (SNS's
    #: NumberOfNotificationsFailedToRedriveToDlq); they are in ``failed_count`` as well.
    dead_letter_failed_count: int = 0
    #: The topic this subscription belongs to (set by the topic; ``set_attribute`` goes through it).
    topic: Topic | None = field(default=None, repr=False)
    _unsubscribe_url: str | None = field(default=None, repr=False)
    _unsubscribe_json: str | None = field(default=None, repr=False)

    @property
    def unsubscribe_url(self) -> str:
        """The UnsubscribeURL of its notifications."""
        if self._unsubscribe_url is None:
            if self.topic is not None:
                base = sns_endpoint(self.topic.context)
            else:
                region = Arn.parse(self.topic_arn).region  # type: ignore[union-attr]  # a topic's own ARN
                base = f"https://sns.{region}.amazonaws.com"
            self._unsubscribe_url = f"{base}/?Action=Unsubscribe&SubscriptionArn={self.subscription_arn}"
        return self._unsubscribe_url

    @property
    def quoted_unsubscribe_url(self) -> str:
        """``unsubscribe_url`` as a JSON string: what its envelopes hold between head and tail."""
        if self._unsubscribe_json is None:
            self._unsubscribe_json = quote(self.unsubscribe_url)
        return self._unsubscribe_json

    @property
    def arn(self) -> str:
        """SubscriptionArn as Subscribe returns it (see the class docstring)."""
        if self.pending_confirmation and not self.return_subscription_arn:
            return "pending confirmation"
        return self.subscription_arn

    @property
    def attributes(self) -> dict[str, str]:
        """GetSubscriptionAttributes."""
        attributes = {
            "ConfirmationWasAuthenticated": "false" if self.pending_confirmation else "true",
            "Endpoint": self.endpoint,
            "Owner": self.owner,
            "PendingConfirmation": "true" if self.pending_confirmation else "false",
            "Protocol": self.protocol,
            "RawMessageDelivery": "true" if self.raw_message_delivery else "false",
            "SubscriptionArn": self.subscription_arn,
            "TopicArn": self.topic_arn,
        }
        if self.filter_policy is not None:
            attributes["FilterPolicy"] = self.filter_policy
            attributes["FilterPolicyScope"] = self.filter_policy_scope or "MessageAttributes"
        if self.delivery_policy is not None:
            attributes["DeliveryPolicy"] = self.delivery_policy
        if self.redrive_policy is not None:
            attributes["RedrivePolicy"] = self.redrive_policy
        if self.subscription_role_arn is not None:
            attributes["SubscriptionRoleArn"] = self.subscription_role_arn
        if self.topic is not None and self.protocol != "python":
            attributes["EffectiveDeliveryPolicy"] = self._effective_delivery_policy(self.topic)
        return attributes

    def _effective_delivery_policy(self, topic: Topic) -> str:
        """EffectiveDeliveryPolicy as GetSubscriptionAttributes shows it: the retry policy in force."""
        retry = None
        if self.protocol in HTTP_PROTOCOLS:
            retry = effective_delivery(topic.attributes.get("DeliveryPolicy"), self.delivery_policy)[0]
        policy = {
            "healthyRetryPolicy": retry or DEFAULT_RETRY_POLICY,
            "sicklyRetryPolicy": None,
            "throttlePolicy": None,
            "guaranteed": False,
        }
        return json.dumps(policy, separators=(",", ":"))

    def set_attribute(self, attribute_name: str, attribute_value: Any) -> None:
        """SetSubscriptionAttributes: see :meth:`Topic.set_subscription_attributes`."""
        if self.topic is None:
            raise invalid("Subscription does not exist", "NotFound")
        self.topic.set_subscription_attributes(self, attribute_name, attribute_value)

    @property
    def dead_letter_target_arn(self) -> str | None:
        if self.redrive_policy is None:
            return None
        return str(jsontext.loads(self.redrive_policy)["deadLetterTargetArn"])

    def adopt(self, record: SubscriptionRecord) -> None:
        """Take the settings of the stored record (another broker may have changed them)."""
        self.filter_policy = record.filter_policy
        self.filter_policy_scope = record.filter_policy_scope
        self.raw_message_delivery = record.raw_message_delivery
        self.delivery_policy = record.delivery_policy
        self.redrive_policy = record.redrive_policy
        self.pending_confirmation = record.pending_confirmation
        self.token = record.token
        self.token_issued = record.token_issued
        self.subscription_role_arn = record.subscription_role_arn

    def same_settings(
        self,
        policy: str | None,
        scope: str | None,
        raw: bool,
        delivery: str | None,
        redrive: str | None,
        role_arn: str | None = None,
    ) -> bool:
        """Whether a Subscribe with these settings asks for this subscription as it is (then
        Subscribe returns it; otherwise SNS refuses the different attributes)."""
        return (
            canonical(self.filter_policy) == canonical(policy)
            and self.filter_policy_scope == scope
            and self.raw_message_delivery == raw
            and canonical(self.delivery_policy) == canonical(delivery)
            and canonical(self.redrive_policy) == canonical(redrive)
            and self.subscription_role_arn == role_arn
        )


def bad_scope(scope: Any) -> InvalidFilterPolicyError:
    reason = f"FilterPolicyScope: Invalid value [{scope}]. Please use either MessageBody or MessageAttributes"
    return InvalidFilterPolicyError(f"Invalid parameter: {reason}", reason)


def compile_filter_policy(policy: str | Mapping[str, Any], scope: str, subscribing: bool) -> str:
    """The policy's text once the engine accepts it in ``scope``. The engine words its errors as
    SetSubscriptionAttributes does ("Invalid parameter: FilterPolicy: ..."); Subscribe puts
    "Attributes Reason: " before the attribute's name, as SNS does (docs/semantics.md, 'The pattern
    language')."""
    try:
        return FilterPolicy(validation.engine_text(policy), scope=scope).text  # type: ignore[arg-type]
    except InvalidFilterPolicyError as error:
        message = str(error)
        if subscribing and message.startswith(_FILTER_POLICY_ERROR):
            message = _FILTER_POLICY_ERROR_ON_SUBSCRIBE + message[len(_FILTER_POLICY_ERROR) :]
            raise InvalidFilterPolicyError(message, error.reason) from None
        raise


def canonical(policy: str | None) -> Any:
    return None if policy is None else jsontext.loads(policy)


def subscription_from_record(record: SubscriptionRecord, topic: Topic) -> Subscription:
    """A stored subscription as this process sees it: its target is the endpoint (queue ARN or
    URL); Subscribe's ``arn`` says "pending confirmation" while it awaits confirmation."""
    return Subscription(
        subscription_arn=record.subscription_arn,
        topic_arn=topic.arn,
        protocol=record.protocol,
        endpoint=record.endpoint,
        owner=record.owner,
        target=record.endpoint,
        filter_policy=record.filter_policy,
        filter_policy_scope=record.filter_policy_scope,
        raw_message_delivery=record.raw_message_delivery,
        delivery_policy=record.delivery_policy,
        redrive_policy=record.redrive_policy,
        pending_confirmation=record.pending_confirmation,
        return_subscription_arn=not record.pending_confirmation,
        token=record.token,
        token_issued=record.token_issued,
        subscription_role_arn=record.subscription_role_arn,
        topic=topic,
    )
