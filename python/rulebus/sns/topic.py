"""An SNS standard topic: subscriptions, filter policies, publish and what subscribers receive.

Why it looks like this: SNS is fan-out plus filtering. The filtering is the Rust engine's job, so
each topic keeps one ``RuleSet("sns")`` whose rule names are subscription ARNs; a publish asks it
once which subscriptions match and delivers to those only. Everything else here is SNS's surface:
limits, error texts (SNS API Reference) and the exact notification envelope (docs/semantics.md,
'SNS topics').

Topics and their subscriptions live in the broker's store (``rulebus.stores``): with
``Broker("app.db")`` they survive restarts and every broker on the file sees the same ones, and a
publish from any of them delivers to every subscription. Each ``Topic`` object keeps a view of them
(``Subscription`` objects and one compiled ``RuleSet``) and re-reads the store's records only when
the topic's subscription version there changed. Not stored: subscriptions to Python callables
(they cannot be persisted, so they live and deliver in the process that made them only) and the
delivery counters (``delivered_count``... count this process's deliveries).

FIFO topics (``.fifo`` names, made with ``fifo_topic=True``; docs/semantics.md, 'FIFO topics'): publish
needs a MessageGroupId, a MessageDeduplicationId (or ContentBasedDeduplication: SHA-256 of the
body) deduplicates for 5 minutes (per group with FifoThroughputScope=MessageGroup), each message gets
an increasing SequenceNumber, and deliveries to FIFO queues carry the group id and the SNS message id
as deduplication id, so a FIFO queue keeps the topic's order per group. Standard queues may subscribe
too (allowed since 2023). Their envelope has SequenceNumber and no signature fields.

HTTP/S endpoints (see docs/semantics.md) get real POSTs with SNS's headers: a SubscriptionConfirmation
when they subscribe (they stay PendingConfirmation until ``confirm_subscription(token)``), then
notifications, retried per the effective delivery policy (5xx, 429, no answer; a 4xx is the
endpoint refusing and is not retried) and then moved to the subscription's dead-letter queue.
Those POSTs happen after ``subscribe`` and ``publish`` return, as on AWS, each subscription on
its own lane (``rulebus.delivery``): a slow or failing endpoint delays neither the publisher nor
other subscriptions, and ``wait_for_deliveries`` waits for them. Retry delays are slept by
``Topic.sleep`` (or the broker clock's ``sleep``). Queue and callable subscriptions are served
before ``publish`` returns: a message acknowledged by publish is already in its queues (and, on
SQLite, on disk). Pending HTTP/S deliveries live in the process: they are lost if it dies.

Error codes are SNS's query codes (``InvalidParameter``, ``ParameterValueInvalid``...). Texts are
the ones SNS answers with unless a comment at the text says otherwise.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Union
from urllib.parse import urlsplit

from rulebus import tracing, validation
from rulebus._core import RuleSet, sns_confirmation_text
from rulebus._errors import AwsError
from rulebus.arn import function_name, queue_name, stream_name
from rulebus.context import sns_endpoint
from rulebus.delivery import DeliveryLanes
from rulebus.functions.function import Function
from rulebus.kinesis.stream import Stream
from rulebus.sns import policies
from rulebus.sns.attributes import (
    bool_attribute,
    check_topic_attributes,
    default_topic_attributes,
    topic_arn,
    topic_attributes_from_kwargs,
    validate_topic_name,
)
from rulebus.sns.delivery import Delivery, FanOutBatch, Sent, TopicDelivery
from rulebus.sns.endpoints import (
    CONFIRMED_BY_OWNER,
    RAW_DELIVERY_PROTOCOLS,
    UNDELIVERED_PROTOCOLS,
    Endpoint,
    check_role_arn,
)
from rulebus.sns.envelope import Envelope, TopicSigning, signing_cert_url, timestamp
from rulebus.sns.errors import invalid
from rulebus.sns.publish import Prepared, PublishResult, batch_entry_ids, prepare
from rulebus.sns.routes import RoutePlan
from rulebus.sns.subscription import (
    FILTER_POLICY_SCOPES,
    SUBSCRIPTION_ATTRIBUTES,
    Subscription,
    bad_scope,
    compile_filter_policy,
    subscription_from_record,
)
from rulebus.sqs.queue import Queue
from rulebus.stores.receipts import new_message_id
from rulebus.stores.records import SubscriptionRecord
from rulebus.transport import HTTP_PROTOCOLS

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = [
    "PublishResult",
    "Subscriber",
    "Subscription",
    "Topic",
    "check_topic_attributes",
    "topic_arn",
    "topic_attributes_from_kwargs",
    "validate_topic_name",
]

#: ConfirmSubscription tokens are valid for 2 days (SNS API Reference, Subscribe).
TOKEN_LIFETIME_SECONDS = 2 * 24 * 3600
# An SQS queue URL given where an ARN belongs ("Invalid parameter: SQS endpoint ARN"), not an HTTP/S endpoint.
_SQS_QUEUE_URL = re.compile(r"https?://sqs\.[^/]+\.amazonaws\.com/\d{12}/[^/?#]+/?")

Subscriber = Union[Queue, str, Endpoint, Function, Callable[[dict[str, Any]], Any]]


class Topic:
    """One SNS topic, standard or FIFO; get it with ``broker.topic(name)``.

    The topic and its subscriptions are records in the broker's store; this object (the broker
    keeps one per name, so every ``broker.topic(name)`` returns the same object) holds a view of
    them: ``Subscription`` objects and the compiled filter policies, brought up to date from the
    store whenever the topic's subscription version there changed. Subscriptions to Python
    callables are not stored: they belong to this object (and process) only.
    """

    def __init__(self, context: Context, name: str, attributes: Mapping[str, str] | None = None) -> None:
        #: The broker's context (see :mod:`rulebus.context`).
        self.context = context
        self._store = context.store
        self._clock = context.clock
        self._region = context.region
        self._account = context.account
        self.name = name
        # NumberOfMessagesPublished, counted once per call (the deliveries' counts are each
        # subscription's: see rulebus.metrics).
        self._counts = context.counters.sns_topic(name)
        self._set_attributes: dict[str, str] = dict(attributes or {})
        #: FifoTopic=true (the name then ends ``.fifo``).
        self.fifo = check_topic_attributes(name, self._set_attributes)
        self._content_based_deduplication = bool_attribute(self._set_attributes, "ContentBasedDeduplication")
        self._deduplication_per_group = self._set_attributes.get("FifoThroughputScope") == "MessageGroup"
        # The view of the subscriptions, in subscription order: the store's, and the callables'.
        self._subscriptions: dict[str, Subscription] = {}
        self._rules = RuleSet("sns")
        # The (policy, scope) of each subscription with a rule in ``_rules``, by ARN.
        self._ruled: dict[str, tuple[str, str]] = {}
        self._version: int | None = None  # the store's subscription version the view reflects
        #: Sleeps the delays between HTTP/S retries, unless the broker's clock has a ``sleep``
        #: (which wins); replace it in tests so that they never sleep.
        self.sleep: Callable[[float], Any] = time.sleep
        self._lanes = DeliveryLanes(f"rulebus-sns:{name}")
        # The view (subscriptions and RuleSet) changes under this lock, one thread at a time; the
        # route plan is built, dropped and counted in under it too.
        self._sync_lock = threading.RLock()
        self._plan: RoutePlan | None = None  # built by the next publish that needs it
        self._delivery = TopicDelivery(
            context,
            lambda: self.arn,
            lambda: self._set_attributes.get("DeliveryPolicy"),
            self._lanes,
            self._sleep,
        )

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"

    @property
    def arn(self) -> str:
        """``arn:aws:sns:<region>:<account>:<name>``."""
        return topic_arn(self.name, self._region, self._account)

    @property
    def attributes(self) -> dict[str, str]:
        """GetTopicAttributes, SNS's defaults included (SNS API Reference, GetTopicAttributes)."""
        attributes = default_topic_attributes(
            self.arn,
            self._account,
            self.fifo,
            pending=self._count(pending=True),
            confirmed=self._count(pending=False),
        )
        attributes.update(self._set_attributes)
        for name in ("FifoTopic", "ContentBasedDeduplication"):
            if name in attributes:
                attributes[name] = attributes[name].lower()
        return attributes

    def _count(self, pending: bool) -> int:
        self._sync()
        return sum(1 for s in self._subscriptions.values() if s.pending_confirmation == pending)

    @property
    def subscriptions(self) -> list[Subscription]:
        """ListSubscriptionsByTopic, in subscription order."""
        self._sync()
        return list(self._subscriptions.values())

    # ------------------------------------------------------------------ the store's subscriptions

    def _sync(self) -> None:
        """Bring the view up to date with the store, if the subscription version moved: drop the
        subscriptions gone from it, add the new ones (keeping existing objects, their counters and
        local targets), and update the filter policies in the RuleSet to match."""
        store = self._store
        if store.topics.subscriptions_version(self.name) == self._version:
            return
        with self._sync_lock:
            self._refresh(store)

    def _refresh(self, store: Any) -> None:
        version, records = store.topics.subscriptions(self.name)
        stored = {record.subscription_arn: record for record in records}
        for arn, subscription in list(self._subscriptions.items()):
            if subscription.protocol != "python" and arn not in stored:
                del self._subscriptions[arn]
        for arn, record in stored.items():
            known = self._subscriptions.get(arn)
            if known is None:
                self._subscriptions[arn] = subscription_from_record(record, self)
            else:
                known.adopt(record)
        self._sync_rules()
        self._version = version

    def _sync_rules(self) -> None:
        """Make the RuleSet hold exactly the subscriptions' filter policies, each in its scope.
        Every change of the view ends here, so the route plan is dropped here too."""
        with self._sync_lock:
            self._drop_plan()
            self._apply_rules()

    def _drop_plan(self) -> None:
        """Forget the route plan (the next publish builds a new one), settling the filtered
        counts it kept into its subscriptions. Under the lock."""
        with self._sync_lock:
            plan, self._plan = self._plan, None
            if plan is None:
                return
            plan.settle()

    @property
    def counts_lock(self) -> threading.RLock:
        """The lock under which this topic's subscriptions and their counts change: a
        subscription's ``filtered_count`` is read and written under it."""
        return self._sync_lock

    def unsettled_filtered(self, subscription: Subscription) -> int:
        """What the route plan counted as filtered out for this subscription and it does not hold
        yet (see ``Subscription.filtered_count``). Under ``counts_lock``."""
        plan = self._plan
        return 0 if plan is None else plan.unsettled_filtered(subscription)

    def _apply_rules(self) -> None:
        wanted = {
            arn: (s.filter_policy, s.filter_policy_scope or "MessageAttributes")
            for arn, s in self._subscriptions.items()
            if s.filter_policy is not None
        }
        for arn in self._ruled.keys() - wanted.keys():
            self._rules.remove(arn)
        for arn, (policy, scope) in wanted.items():
            if self._ruled.get(arn) != (policy, scope):
                self._rules.add(arn, policy, scope=scope)  # type: ignore[arg-type]
        self._ruled = wanted

    def _record(self, subscription: Subscription) -> SubscriptionRecord:
        return SubscriptionRecord(
            subscription_arn=subscription.subscription_arn,
            topic=self.name,
            protocol=subscription.protocol,
            endpoint=subscription.endpoint,
            owner=subscription.owner,
            filter_policy=subscription.filter_policy,
            filter_policy_scope=subscription.filter_policy_scope,
            raw_message_delivery=subscription.raw_message_delivery,
            delivery_policy=subscription.delivery_policy,
            redrive_policy=subscription.redrive_policy,
            pending_confirmation=subscription.pending_confirmation,
            token=subscription.token,
            token_issued=subscription.token_issued,
            subscription_role_arn=subscription.subscription_role_arn,
        )

    # ------------------------------------------------------------------ subscriptions

    def _endpoint(self, target: Subscriber) -> tuple[str, str, Any]:
        """(protocol, endpoint, what to deliver to) for a subscriber."""
        if isinstance(target, Queue):
            return "sqs", target.arn, target
        if isinstance(target, Stream):
            return "kinesis", target.arn, target.arn
        if isinstance(target, Endpoint):
            return self._named_endpoint(target)
        if isinstance(target, Function):
            return "lambda", target.arn, target.arn
        if isinstance(target, str):
            scheme = target.split(":", 1)[0].lower()
            if scheme in HTTP_PROTOCOLS and not _SQS_QUEUE_URL.fullmatch(target):
                try:
                    hostname = urlsplit(target).hostname
                except ValueError:
                    hostname = None
                if not hostname:
                    # Our wording in SNS's style (AWS documents no text for this).
                    raise invalid("Invalid parameter: Endpoint")
                return scheme, target, target
            if stream_name(target) is not None:
                return "kinesis", target, target
            if function_name(target) is not None:
                return "lambda", target, target
            if not isinstance(target, str) or queue_name(target) is None:
                raise invalid("Invalid parameter: SQS endpoint ARN")
            return "sqs", target, target
        if callable(target):
            # A Python callable is our own protocol; its endpoint names the object, for display.
            name = getattr(target, "__qualname__", type(target).__qualname__)
            return "python", f"python:{name}:{id(target):x}", target
        raise validation.SNS.wrong_type(
            "Endpoint",
            target,
            "a Queue, an SQS queue ARN, an http(s):// URL, a Stream, an Endpoint or a callable",
        )

    def _named_endpoint(self, target: Endpoint) -> tuple[str, str, Any]:
        """(protocol, endpoint, what to deliver to) for an ``Endpoint``: its own for the protocols
        rulebus does not deliver to (checked when it was made), else the plain string's, checked
        against the protocol as Subscribe checks it."""
        protocol, endpoint = target.protocol, target.endpoint
        if protocol in UNDELIVERED_PROTOCOLS:
            return protocol, endpoint, endpoint
        if protocol == "sqs":
            if queue_name(endpoint) is None:
                raise invalid("Invalid parameter: SQS endpoint ARN")
        elif endpoint.split(":", 1)[0].lower() != protocol:
            # SNS's text for an endpoint that does not fit the protocol.
            raise invalid("Invalid parameter: Endpoint must match the specified protocol")
        return self._endpoint(endpoint)

    def subscribe(
        self,
        target: Subscriber,
        filter_policy: str | Mapping[str, Any] | None = None,
        filter_policy_scope: str = "MessageAttributes",
        raw_message_delivery: bool | str = False,
        delivery_policy: str | Mapping[str, Any] | None = None,
        redrive_policy: str | Mapping[str, Any] | None = None,
        return_subscription_arn: bool = False,
        subscription_role_arn: str | None = None,
    ) -> Subscription:
        """Subscribe: a Queue (or an SQS queue ARN), an ``http://`` or ``https://`` URL, a
        callable receiving the notification dict, or a Kinesis ``Stream`` (or its ARN), which
        gets each notification (the message alone with raw delivery) as a record keyed by the
        SNS message id: a rulebus addition, as SNS itself reaches streams only through Firehose.
        A function of the broker (its ARN, or the ``Function``) is invoked asynchronously with
        Lambda's SNS event, as Lambda is (docs/functions.md); a function ARN of another region or
        account is kept and passed over, like the protocols rulebus does not deliver to.

        Idempotent: the same endpoint with the same settings gives the existing subscription, with
        other settings "Subscription already exists with different attributes". An invalid filter
        policy raises ``InvalidFilterPolicyError`` (SNS's text) and subscribes nothing.

        An HTTP/S subscription starts PendingConfirmation: this call POSTs it a
        SubscriptionConfirmation (synchronously, retried per the delivery policy; a failure does not
        raise) whose ``Token`` ``confirm_subscription`` takes; until then it receives nothing, and
        its ``arn`` is ``"pending confirmation"`` unless ``return_subscription_arn`` is true.
        ``delivery_policy`` (HTTP/S only) is ``{"healthyRetryPolicy": {...}}`` (Amazon SNS
        Developer Guide, 'Amazon SNS message delivery retries');
        ``redrive_policy`` is ``{"deadLetterTargetArn": <SQS queue ARN>}``: where a delivery that
        failed (after its retries) goes.

        SNS's protocols that rulebus does not deliver to are subscribed as an ``Endpoint``
        (``rulebus.sns.endpoints``): ``Endpoint("email", "ops@example.com")``, ``"email-json"``,
        ``"sms"`` (a phone number), ``"lambda"`` (a function's ARN) and ``"firehose"`` (a delivery
        stream's ARN, with ``subscription_role_arn``, the IAM role's ARN). They are stored, listed
        and described like the others and receive nothing; email ones start PendingConfirmation
        (AWS mails a link holding the ``token``: ``confirm_subscription(subscription.token)``
        confirms them), the others are confirmed at once.
        """
        if isinstance(target, str):
            validation.text(target, "Endpoint", validation.SNS)
        filter_policy = validation.pattern(filter_policy, "FilterPolicy", validation.SNS)
        for parameter, policy in (("DeliveryPolicy", delivery_policy), ("RedrivePolicy", redrive_policy)):
            if not isinstance(policy, Mapping):
                validation.text(policy, parameter, validation.SNS, required=False)
        validation.text(filter_policy_scope, "FilterPolicyScope", validation.SNS)
        validation.text(subscription_role_arn, "SubscriptionRoleArn", validation.SNS, required=False)
        protocol, endpoint, deliver_to = self._endpoint(target)
        check_role_arn(protocol, subscription_role_arn)
        if protocol == "sqs" and endpoint.endswith(".fifo") and not self.fifo:
            raise invalid(
                "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                "subscribed to standard SNS topics"
            )
        raw = policies.raw_flag(raw_message_delivery)
        delivery = policies.subscription_delivery_policy(delivery_policy, protocol)
        redrive = policies.redrive_policy(redrive_policy, self.fifo)
        if raw:
            _check_raw_delivery(protocol)
        policy_text: str | None = None
        scope: str | None = None
        if filter_policy_scope not in FILTER_POLICY_SCOPES:
            raise bad_scope(filter_policy_scope)
        if filter_policy is not None:
            policy_text = compile_filter_policy(filter_policy, filter_policy_scope, subscribing=True)
            scope = filter_policy_scope
        arn = f"{self.arn}:{uuid.uuid4()}"
        pending = protocol in HTTP_PROTOCOLS or protocol in CONFIRMED_BY_OWNER
        subscription = Subscription(
            subscription_arn=arn,
            topic_arn=self.arn,
            protocol=protocol,
            endpoint=endpoint,
            owner=self._account,
            target=deliver_to,
            filter_policy=policy_text,
            filter_policy_scope=scope,
            raw_message_delivery=raw,
            delivery_policy=delivery,
            redrive_policy=redrive,
            pending_confirmation=pending,
            return_subscription_arn=return_subscription_arn or not pending,
            subscription_role_arn=subscription_role_arn,
        )
        subscription.topic = self
        if pending:
            subscription.token = secrets.token_hex(128)
            subscription.token_issued = self._clock()
        if protocol == "python":
            existing = next(
                (
                    s
                    for s in self._subscriptions.values()
                    if s.protocol == protocol and s.endpoint == endpoint
                ),
                None,
            )
        else:
            stored, version = self._store.topics.add_subscription(self._record(subscription))
            if version == -1:
                raise invalid("Topic does not exist", "NotFound")
            self._sync()
            existing = None
            if stored.subscription_arn != arn:
                existing = self._subscriptions[stored.subscription_arn]
        if existing is not None:
            if existing.same_settings(policy_text, scope, raw, delivery, redrive, subscription_role_arn):
                if return_subscription_arn:
                    existing.return_subscription_arn = True
                if existing.pending_confirmation and protocol in HTTP_PROTOCOLS:
                    # Subscribing again re-sends the confirmation (same token); AWS would mail
                    # an email one again, which rulebus cannot.
                    self._request_confirmation(existing)
                return existing
            raise invalid(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes"
            )
        if protocol == "python":
            self._subscriptions[arn] = subscription
            self._sync_rules()
        else:
            # The view's object (built by _sync) gets what only the subscribing call knows.
            own = self._subscriptions[arn]
            own.target = deliver_to
            own.return_subscription_arn = subscription.return_subscription_arn
            subscription = own
            self._drop_plan()  # it may hold the ARN as the target
        if pending and protocol in HTTP_PROTOCOLS:
            self._request_confirmation(subscription)
        return subscription

    def confirm_subscription(self, token: str) -> Subscription:
        """ConfirmSubscription: the pending HTTP/S or email subscription with this token (valid 2 days) is
        confirmed and receives notifications from now on; confirming again answers the same
        subscription. An unknown or expired token: InvalidParameter "Invalid parameter: Token"."""
        validation.text(token, "Token", validation.SNS)
        self._sync()
        for subscription in self._subscriptions.values():
            if token and subscription.token == token:
                if subscription.pending_confirmation:
                    if self._clock() - subscription.token_issued > TOKEN_LIFETIME_SECONDS:
                        break
                    record = replace(self._record(subscription), pending_confirmation=False)
                    self._store.topics.update_subscription(record)
                    subscription.pending_confirmation = False
                    self._drop_plan()
                return subscription
        raise invalid("Invalid parameter: Token")

    def unsubscribe(self, subscription: Subscription | str) -> None:
        """Unsubscribe (a Subscription or its ARN); unsubscribing twice is not an error."""
        arn = subscription.subscription_arn if isinstance(subscription, Subscription) else subscription
        validation.arn(arn, "SubscriptionArn", validation.SNS)
        local = self._subscriptions.get(arn)
        if local is None or local.protocol != "python":
            self._store.topics.remove_subscription(self.name, arn)
        if self._subscriptions.pop(arn, None) is not None:
            self._sync_rules()

    def set_subscription_attributes(
        self, subscription: Subscription | str, attribute_name: str, attribute_value: Any
    ) -> None:
        """SetSubscriptionAttributes: one of DeliveryPolicy, FilterPolicy, FilterPolicyScope,
        RawMessageDelivery, RedrivePolicy or (firehose subscriptions) SubscriptionRoleArn (a
        Subscription or its ARN). Values are validated as
        Subscribe validates them, with SetSubscriptionAttributes' texts; an empty FilterPolicy,
        DeliveryPolicy or RedrivePolicy removes it. The change is stored, so every broker on the
        store delivers by it from its next publish."""
        arn = subscription.subscription_arn if isinstance(subscription, Subscription) else subscription
        validation.arn(arn, "SubscriptionArn", validation.SNS)
        validation.text(attribute_name, "AttributeName", validation.SNS)
        if attribute_name == "FilterPolicy":
            attribute_value = validation.pattern(attribute_value, "AttributeValue", validation.SNS)
        elif not isinstance(attribute_value, (Mapping, bool)):
            validation.text(attribute_value, "AttributeValue", validation.SNS, required=False)
        self._sync()
        own = self._subscriptions.get(arn)
        if own is None:
            raise invalid("Subscription does not exist", "NotFound")
        if attribute_name not in SUBSCRIPTION_ATTRIBUTES:
            # LocalStack's wording (AWS's text is undocumented).
            raise invalid("Invalid parameter: AttributeName")
        if attribute_name == "ReplayPolicy":
            # Our wording: it serves FIFO topic archives, which rulebus does not have.
            raise invalid(f"Invalid parameter: {attribute_name}: not supported by rulebus")
        value = "" if attribute_value is None else attribute_value
        changes: dict[str, Any] = {}
        if attribute_name == "SubscriptionRoleArn":
            check_role_arn(own.protocol, value)
            changes["subscription_role_arn"] = value
        elif attribute_name == "RawMessageDelivery":
            raw = policies.raw_flag(value)
            if raw:
                _check_raw_delivery(own.protocol)
            changes["raw_message_delivery"] = raw
        elif attribute_name == "DeliveryPolicy":
            changes["delivery_policy"] = policies.subscription_delivery_policy(value or None, own.protocol)
        elif attribute_name == "RedrivePolicy":
            changes["redrive_policy"] = policies.redrive_policy(value or None, self.fifo)
        elif attribute_name == "FilterPolicyScope":
            if value not in FILTER_POLICY_SCOPES:
                raise bad_scope(value)
            if own.filter_policy is not None:  # the policy must hold in its new scope too
                compile_filter_policy(own.filter_policy, value, subscribing=False)
            changes["filter_policy_scope"] = value
        elif value == "":  # FilterPolicy: none, every message is delivered
            changes["filter_policy"] = None
        else:
            scope = own.filter_policy_scope or "MessageAttributes"
            changes["filter_policy"] = compile_filter_policy(value, scope, subscribing=False)
            changes["filter_policy_scope"] = scope
        if own.protocol == "python":
            for name, changed in changes.items():
                setattr(own, name, changed)
        else:
            record = replace(self._record(own), **changes)
            if self._store.topics.update_subscription(record) == -1:
                raise invalid("Topic does not exist", "NotFound")
            own.adopt(record)
        self._sync_rules()

    # ------------------------------------------------------------------ publish

    def publish(
        self,
        message: str,
        subject: str | None = None,
        message_attributes: Mapping[str, Mapping[str, Any]] | None = None,
        message_structure: str | None = None,
        message_group_id: str | None = None,
        message_deduplication_id: str | None = None,
    ) -> PublishResult:
        """Publish to every subscription whose filter policy matches (all without one).

        FIFO topics need ``message_group_id`` and ``message_deduplication_id`` (unless
        ContentBasedDeduplication is on); a duplicate within 5 minutes answers with the first
        message's id and sequence number and is delivered to nobody (SNS API Reference, Publish).
        Standard topics refuse ``message_deduplication_id`` and pass ``message_group_id`` on to standard
        queues."""
        prepared = prepare(
            self.fifo,
            self._content_based_deduplication,
            message,
            subject,
            message_attributes,
            message_structure,
            message_group_id,
            message_deduplication_id,
        )
        if self.fifo:
            (result,) = self._deliver_fifo([prepared])
            return result
        (message_id,) = (self._deliver_traced if tracing.active() else self._deliver)([prepared])
        return PublishResult(message_id)

    def publish_batch(self, entries: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """PublishBatch: 1-10 entries ``{"Id", "Message", "Subject"?, "MessageStructure"?,
        "MessageAttributes"?, "MessageGroupId"?, "MessageDeduplicationId"?}``; returns
        ``{"Successful": [{"Id", "MessageId", "SequenceNumber" (FIFO)}], "Failed": [{"Id", "Code",
        "Message", "SenderFault"}]}``. Request-level problems raise ``AwsError``."""
        ids = batch_entry_ids(entries)
        failed: list[dict[str, Any]] = []
        accepted: list[str] = []
        prepared: list[Prepared] = []
        for entry_id, entry in zip(ids, entries):
            try:
                prepared.append(
                    prepare(
                        self.fifo,
                        self._content_based_deduplication,
                        entry.get("Message", ""),
                        entry.get("Subject"),
                        entry.get("MessageAttributes"),
                        entry.get("MessageStructure"),
                        entry.get("MessageGroupId"),
                        entry.get("MessageDeduplicationId"),
                    )
                )
            except AwsError as error:
                failed.append(
                    {
                        "Id": entry_id,
                        "Code": error.code,
                        "Message": error.message,
                        "SenderFault": error.sender_fault,
                    }
                )
                continue
            accepted.append(entry_id)
        if self.fifo:
            successful = [
                {"Id": entry_id, "MessageId": result.message_id, "SequenceNumber": result.sequence_number}
                for entry_id, result in zip(accepted, self._deliver_fifo(prepared))
            ]
        else:
            deliver = self._deliver_traced if tracing.active() else self._deliver
            successful = [
                {"Id": entry_id, "MessageId": message_id}
                for entry_id, message_id in zip(accepted, deliver(prepared))
            ]
        return {"Successful": successful, "Failed": failed}

    # ------------------------------------------------------------------ delivery

    def _deduplicate(self, prepared: Prepared, message_id: str, now: float) -> PublishResult:
        """A FIFO publish's result: the first message's within the 5-minute window (then
        ``message_id`` is not that of the result), else a new sequence number, remembered."""
        scope = (prepared.group_id or "") if self._deduplication_per_group else ""
        # Increasing, not consecutive (SNS API Reference, Publish). The store keeps the window
        # and the counter, so every broker on it deduplicates and numbers alike.
        first_id, sequence_number = self._store.topics.fifo_publish(
            self.name, scope, prepared.deduplication_id or "", message_id, now, 1 + secrets.randbelow(1 << 16)
        )
        return PublishResult(first_id, sequence_number)

    def _deliver_traced(self, prepared: Sequence[Prepared]) -> list[str]:
        """``_deliver`` in a span, when spans are recorded (the callers test ``tracing.active()``
        themselves, so that a publish without it pays no call for this)."""
        with tracing.producer("aws_sns", self.name, "Publish", message_count=len(prepared)):
            return self._deliver(prepared)

    def _deliver(self, prepared: Sequence[Prepared]) -> list[str]:
        """Deliver a standard topic's publishes (one, or a batch's accepted entries, in order; a
        batch's share one reading of the clock); each one's MessageId. The pipeline: routes from
        the route plan, a publish the plan selects for chosen there (under the lock, counted), any
        other evaluated route by route when it is delivered; then each route by its kind
        (``TopicDelivery``), consecutive publishes to their usual fan-out in one native store
        call. Nothing is made per publish that the answer does not need: the ids are the answer."""
        now = self._clock()
        sent_at = timestamp(now)
        self._counts["NumberOfMessagesPublished"] += len(prepared)
        self._sync()
        with self._sync_lock:
            plan = self._current_plan()
            rules = self._rules
            general = plan.general
            # RoutePlan.selects, inlined: this is every publish's path.
            selections = [
                None
                if general or entry.per_protocol is not None or entry.group_id is not None
                else plan.select(entry, rules)
                for entry in prepared
            ]
        message_ids = [new_message_id() for _ in prepared]
        delivery = self._delivery
        batch = FanOutBatch()
        for entry, selection, message_id in zip(prepared, selections, message_ids):
            if selection is not None and (fan_out := selection.fan_out) is not None:
                batch.publishes.append((fan_out, message_id, entry.subject, entry.message, plan.tail(entry)))
                batch.selected.append((selection, entry))
                continue
            if batch.publishes:  # stored first: every queue receives the publishes in order
                delivery.put_fan_outs(batch, plan.signing, now, sent_at)
                batch = FanOutBatch()
            if selection is None:
                deliveries = self._evaluated(entry, message_id, None, sent_at)
            else:
                envelope = Envelope.notification(
                    plan.signing, message_id, entry.subject, entry.message, sent_at, plan.tail(entry)
                )
                deliveries = [Delivery(route, envelope, entry.message) for route in selection.routes]
            delivery.deliver(deliveries, Sent(entry.sent_attributes, entry.group_id), now)
        if batch.publishes:
            delivery.put_fan_outs(batch, plan.signing, now, sent_at)
        return message_ids

    def _deliver_fifo(self, prepared: Sequence[Prepared]) -> list[PublishResult]:
        """``_deliver_fifo_now``, in a span when spans are recorded (rulebus.tracing)."""
        if not tracing.active():
            return self._deliver_fifo_now(prepared)
        with tracing.producer("aws_sns", self.name, "Publish", message_count=len(prepared)):
            return self._deliver_fifo_now(prepared)

    def _deliver_fifo_now(self, prepared: Sequence[Prepared]) -> list[PublishResult]:
        """Deliver a FIFO topic's publishes in order (sharing one reading of the clock): each is
        deduplicated, numbered and evaluated route by route; each one's result."""
        now = self._clock()
        sent_at = timestamp(now)
        self._counts["NumberOfMessagesPublished"] += len(prepared)
        results: list[PublishResult] = []
        for entry in prepared:
            message_id = new_message_id()
            result = self._deduplicate(entry, message_id, now)
            results.append(result)
            if result.message_id == message_id:  # else a duplicate: accepted, delivered to nobody
                deliveries = self._evaluated(entry, message_id, result.sequence_number, sent_at)
                self._delivery.deliver(deliveries, Sent(entry.sent_attributes, entry.group_id), now)
        return results

    def _evaluated(
        self, prepared: Prepared, message_id: str, sequence_number: str | None, sent_at: str
    ) -> list[Delivery]:
        """A publish the plan does not select (FIFO topics, MessageStructure, MessageGroupId,
        Python callables subscribed), route by route as the subscriptions are now: a callable
        delivered earlier may have changed them."""
        self._sync()
        with self._sync_lock:
            plan = self._current_plan()
        tail = plan.tail(prepared)
        envelopes: dict[str, Envelope] = {}  # one per message: MessageStructure gives several
        deliveries = []
        for route, message in list(plan.evaluate(prepared, self._rules)):
            envelope = envelopes.get(message)
            if envelope is None:
                envelope = envelopes[message] = Envelope.notification(
                    plan.signing, message_id, prepared.subject, message, sent_at, tail, sequence_number
                )
            deliveries.append(Delivery(route, envelope, message))
        return deliveries

    def _current_plan(self) -> RoutePlan:
        """The route plan, built if there is none (or the broker's region or account changed).
        Under the lock."""
        plan = self._plan
        if plan is None or plan.region != self._region or plan.account != self._account:
            self._drop_plan()
            signing = TopicSigning(
                self.arn, self._set_attributes.get("SignatureVersion", "1"), signing_cert_url(self.context)
            )
            plan = self._plan = RoutePlan(
                list(self._subscriptions.values()), self.context, signing, self.fifo
            )
        return plan

    def wait_for_deliveries(self, timeout: float | None = None) -> bool:
        """Block until every HTTP/S delivery handed over so far (subscription confirmations,
        notifications, their retries and dead-lettering) has finished; False if ``timeout``
        seconds ran out first. Publish and Subscribe return before they POST, as on AWS; queue
        and callable subscriptions are served before Publish returns."""
        validation.finite_number(timeout, "timeout", validation.SNS, required=False)
        return self._lanes.wait(timeout)

    def _request_confirmation(self, subscription: Subscription) -> None:
        """Hand the SubscriptionConfirmation of a pending HTTP/S subscription to its lane (Amazon SNS
        Developer Guide, 'Amazon SNS message and JSON formats')."""
        message_id = str(uuid.uuid4())
        token = subscription.token or ""
        arn = self.arn
        body = sns_confirmation_text(
            message_id,
            token,
            arn,
            f"You have chosen to subscribe to the topic {arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message.",
            f"{sns_endpoint(self.context)}/?Action=ConfirmSubscription&TopicArn={arn}&Token={token}",
            timestamp(self._clock()),
            self._set_attributes.get("SignatureVersion", "1"),
            signing_cert_url(self.context),
        )
        post = partial(self._delivery.post, subscription, "SubscriptionConfirmation", message_id, body)
        self._lanes.submit(subscription.subscription_arn, post)

    def _sleep(self, seconds: float) -> None:
        clock_sleep = getattr(self._clock, "sleep", None)
        if callable(clock_sleep):
            clock_sleep(seconds)
        else:
            self.sleep(seconds)


def _check_raw_delivery(protocol: str) -> None:
    """Refuse RawMessageDelivery for a protocol without it: SNS allows it for sqs, http/s and
    firehose only (Amazon SNS Developer Guide, 'Amazon SNS raw message delivery'); Kinesis
    streams, rulebus's own, take it too."""
    if protocol == "python" or (protocol in UNDELIVERED_PROTOCOLS and protocol not in RAW_DELIVERY_PROTOCOLS):
        # SNS's form of the text (AWS documents none).
        raise invalid(
            f"Invalid parameter: Attributes Reason: Delivery protocol [{protocol}] does not support raw "
            "message delivery"
        )
