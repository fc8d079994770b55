"""Amazon SNS's operations (SNS API Reference) on a broker's topics and subscriptions.

Topics are addressed by TopicArn and subscriptions by SubscriptionArn; an ARN of another region
or account names no topic of this broker (NotFound "Topic does not exist"). Subscribe takes the
protocols rulebus delivers to, ``sqs`` (a queue ARN), ``http`` and ``https``, and those it
subscribes and does not deliver to, ``email``, ``email-json``, ``sms``, ``lambda`` and
``firehose`` (``rulebus.sns.endpoints``); ``application`` (mobile push) names platform endpoints,
which rulebus does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rulebus import validation
from rulebus._errors import AwsError, InvalidPatternError, NotFound, RulebusError
from rulebus.arn import Arn, queue_name, topic_name
from rulebus.aws.request import Request
from rulebus.aws.services.operations import OperationTable, page, required
from rulebus.aws.services.permissions import statement, with_statement, without_statement
from rulebus.aws.services.tagging import check_tags, tag_list, tag_map
from rulebus.broker import Broker
from rulebus.sns.attributes import TOPIC_KWARGS
from rulebus.sns.endpoints import (
    DELIVERED_PROTOCOLS,
    UNDELIVERED_PROTOCOLS,
    Endpoint,
    check_phone_number,
    no_platform_endpoints,
)
from rulebus.sns.subscription import Subscription
from rulebus.sns.topic import Topic
from rulebus.stores.receipts import new_message_id

__all__ = ["OPERATIONS"]

SNS = validation.SNS

#: ListTopics, ListSubscriptions and ListSubscriptionsByTopic answer 100 per page (SNS API Reference).
PAGE_SIZE = 100


#: Subscribe's Attributes -> ``Topic.subscribe``'s keywords.
_SUBSCRIBE_ATTRIBUTES = {
    "FilterPolicy": "filter_policy",
    "FilterPolicyScope": "filter_policy_scope",
    "RawMessageDelivery": "raw_message_delivery",
    "DeliveryPolicy": "delivery_policy",
    "RedrivePolicy": "redrive_policy",
    "SubscriptionRoleArn": "subscription_role_arn",
}
#: CreateTopic's Attributes -> ``Broker.topic``'s keywords.
_TOPIC_KEYWORDS = {aws: keyword for keyword, aws in TOPIC_KWARGS.items()}


def _not_found(what: str = "Topic") -> AwsError:
    return AwsError("NotFound", f"{what} does not exist", status=404)


def _translate(error: RulebusError, request: Request) -> AwsError | None:
    if isinstance(error, InvalidPatternError):  # a FilterPolicy: SNS's text is the whole message
        return AwsError("InvalidParameter", str(error))
    if isinstance(error, NotFound) and error.kind == "subscription":
        return _not_found("Subscription")
    if isinstance(error, NotFound):
        # What the store misses under a topic's operations is a tagging call's resource (topic
        # lookups answer NotFound themselves): SNS API Reference, TagResource.
        return AwsError("ResourceNotFound", "Resource does not exist", status=404)
    if isinstance(error, AwsError) and error.code == "NotFound" and error.status != 404:
        return AwsError(error.code, error.message, error.sender_fault, error.query_code, 404)
    return None


operation = OperationTable(_translate)
OPERATIONS = operation.handlers


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameter", message)


def _topic(broker: Broker, arn: Any, parameter: str = "TopicArn") -> Topic:
    """The topic an ARN names in the broker's region and account."""
    text = validation.text(arn, parameter, SNS)
    parsed = Arn.parse(text)
    name = None if parsed is None else parsed.named("sns")
    if parsed is None or name is None:
        # SNS's text for an ARN it cannot parse.
        raise _invalid(f"Invalid parameter: {parameter}")
    topic = broker.find_topic(name) if parsed.is_in(broker.region, broker.account) else None
    if topic is None:
        raise _not_found()
    return topic


def _subscription(broker: Broker, arn: Any) -> Subscription:
    """The subscription a SubscriptionArn (``<topic ARN>:<id>``) names."""
    text = validation.text(arn, "SubscriptionArn", SNS)
    parsed = Arn.parse(text)
    if parsed is None or parsed.service != "sns" or ":" not in parsed.resource:
        raise _invalid("Invalid parameter: SubscriptionArn")
    topic_arn = text.rsplit(":", 1)[0]
    try:
        topic = _topic(broker, topic_arn, "SubscriptionArn")
    except AwsError:
        raise _not_found("Subscription") from None
    for subscription in topic.subscriptions:
        if subscription.subscription_arn == text:
            return subscription
    raise _not_found("Subscription")


def _attributes(params: Mapping[str, Any]) -> dict[str, str]:
    attributes = params.get("Attributes")
    if attributes is None:
        return {}
    validation.mapping(attributes, "Attributes", SNS)
    for key, value in attributes.items():
        validation.text(key, "Attributes", SNS)
        validation.text(value, key, SNS)
    return dict(attributes)


# --------------------------------------------------------------------------------------------
# Topics.


@operation("CreateTopic")
def create_topic(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    name = validation.text(required(params, "Name", SNS), "Name", SNS)
    keywords: dict[str, Any] = {}
    for key, value in _attributes(params).items():
        keyword = _TOPIC_KEYWORDS.get(key)
        if keyword is None:
            raise _invalid("Invalid parameter: Attributes Reason: Unknown attribute: " + key)  # our wording
        keywords[keyword] = value
    tags = tag_map(params["Tags"], "Tags", SNS) if params.get("Tags") is not None else {}
    _check_tags(tags, {})
    topic = broker.topic(name, **keywords)
    if tags:
        _check_tags(tags, broker.tags(topic.arn))
        broker.tag_resource(topic.arn, tags)
    return {"TopicArn": topic.arn}


@operation("DeleteTopic")
def delete_topic(broker: Broker, request: Request) -> Mapping[str, Any]:
    text = validation.text(required(request.params, "TopicArn", SNS), "TopicArn", SNS)
    name = topic_name(text)
    if name is None:
        raise _invalid("Invalid parameter: TopicArn")
    parsed = Arn.parse(text)
    if parsed is not None and parsed.is_in(broker.region, broker.account):
        broker.delete_topic(name)  # a topic that is not there: nothing to do, as on AWS
    return {}


@operation("ListTopics")
def list_topics(broker: Broker, request: Request) -> Mapping[str, Any]:
    topics, token = page(
        broker.topics(),
        request.params.get("NextToken"),
        PAGE_SIZE,
        lambda: _invalid("Invalid parameter: NextToken"),
    )
    result: dict[str, Any] = {"Topics": [{"TopicArn": topic.arn} for topic in topics]}
    if token is not None:
        result["NextToken"] = token
    return result


@operation("GetTopicAttributes")
def get_topic_attributes(broker: Broker, request: Request) -> Mapping[str, Any]:
    return {"Attributes": _topic(broker, required(request.params, "TopicArn", SNS)).attributes}


@operation("SetTopicAttributes")
def set_topic_attributes(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    topic = _topic(broker, required(params, "TopicArn", SNS))
    broker.set_topic_attributes(
        topic.name, required(params, "AttributeName", SNS), params.get("AttributeValue", "")
    )
    return {}


# --------------------------------------------------------------------------------------------
# Subscriptions.


def _endpoint(protocol: str, endpoint: str) -> str | Endpoint:
    """The endpoint ``Topic.subscribe`` takes for this protocol, checked against it."""
    if protocol in UNDELIVERED_PROTOCOLS:
        return Endpoint(protocol, endpoint)
    if protocol == "sqs":
        if queue_name(endpoint) is None:
            raise _invalid("Invalid parameter: SQS endpoint ARN")
        return endpoint
    scheme = endpoint.split(":", 1)[0].lower()
    if scheme != protocol:
        # SNS's text for an endpoint that does not fit the protocol.
        raise _invalid("Invalid parameter: Endpoint must match the specified protocol")
    return endpoint


@operation("Subscribe")
def subscribe(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    topic = _topic(broker, required(params, "TopicArn", SNS))
    protocol = validation.text(required(params, "Protocol", SNS), "Protocol", SNS)
    if protocol not in DELIVERED_PROTOCOLS | UNDELIVERED_PROTOCOLS | {"application"}:
        raise _invalid(f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}")
    endpoint = validation.text(params.get("Endpoint"), "Endpoint", SNS, required=False)
    if endpoint is None:
        raise _invalid("Invalid parameter: Endpoint")
    if protocol == "application":
        raise no_platform_endpoints(endpoint)
    keywords: dict[str, Any] = {}
    for key, value in _attributes(params).items():
        keyword = _SUBSCRIBE_ATTRIBUTES.get(key)
        if keyword is None:
            # LocalStack's wording for an attribute Subscribe does not take (AWS's is undocumented).
            raise _invalid("Invalid parameter: Attributes Reason: Invalid attribute name: " + key)
        keywords[keyword] = value
    subscription = topic.subscribe(
        _endpoint(protocol, endpoint),
        return_subscription_arn=bool(params.get("ReturnSubscriptionArn", False)),
        **keywords,
    )
    return {"SubscriptionArn": subscription.arn}


@operation("ConfirmSubscription")
def confirm_subscription(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    topic = _topic(broker, required(params, "TopicArn", SNS))
    subscription = topic.confirm_subscription(required(params, "Token", SNS))
    return {"SubscriptionArn": subscription.subscription_arn}


@operation("Unsubscribe")
def unsubscribe(broker: Broker, request: Request) -> Mapping[str, Any]:
    try:
        subscription = _subscription(broker, required(request.params, "SubscriptionArn", SNS))
    except AwsError as error:
        if error.code == "NotFound":
            return {}  # unsubscribing what is gone is no error
        raise
    if subscription.topic is not None:
        subscription.topic.unsubscribe(subscription)
    return {}


@operation("GetSubscriptionAttributes")
def get_subscription_attributes(broker: Broker, request: Request) -> Mapping[str, Any]:
    subscription = _subscription(broker, required(request.params, "SubscriptionArn", SNS))
    return {"Attributes": subscription.attributes}


@operation("SetSubscriptionAttributes")
def set_subscription_attributes(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    subscription = _subscription(broker, required(params, "SubscriptionArn", SNS))
    subscription.set_attribute(required(params, "AttributeName", SNS), params.get("AttributeValue"))
    return {}


def _listed(subscription: Subscription) -> dict[str, str]:
    # Listings show a pending subscription as "PendingConfirmation" (SNS API Reference,
    # ListSubscriptions).
    arn = "PendingConfirmation" if subscription.pending_confirmation else subscription.subscription_arn
    return {
        "SubscriptionArn": arn,
        "Owner": subscription.owner,
        "Protocol": subscription.protocol,
        "Endpoint": subscription.endpoint,
        "TopicArn": subscription.topic_arn,
    }


def _subscription_page(request: Request, subscriptions: Sequence[Subscription]) -> dict[str, Any]:
    shown, token = page(
        subscriptions,
        request.params.get("NextToken"),
        PAGE_SIZE,
        lambda: _invalid("Invalid parameter: NextToken"),
    )
    result: dict[str, Any] = {"Subscriptions": [_listed(s) for s in shown]}
    if token is not None:
        result["NextToken"] = token
    return result


@operation("ListSubscriptions")
def list_subscriptions(broker: Broker, request: Request) -> Mapping[str, Any]:
    every = [subscription for topic in broker.topics() for subscription in topic.subscriptions]
    return _subscription_page(request, every)


@operation("ListSubscriptionsByTopic")
def list_subscriptions_by_topic(broker: Broker, request: Request) -> Mapping[str, Any]:
    topic = _topic(broker, required(request.params, "TopicArn", SNS))
    return _subscription_page(request, topic.subscriptions)


# --------------------------------------------------------------------------------------------
# Publishing.


@operation("Publish")
def publish(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    phone_number = params.get("PhoneNumber")
    if phone_number is not None and "TopicArn" not in params and "TargetArn" not in params:
        # A text message to one number: checked as SNS checks it, answered with a message id,
        # and sent nowhere (rulebus sends no SMS; see docs/wire-operations.md).
        check_phone_number(validation.text(phone_number, "PhoneNumber", SNS))
        validation.text(required(params, "Message", SNS), "Message", SNS)
        return {"MessageId": new_message_id()}
    arn = params.get("TopicArn", params.get("TargetArn"))
    if arn is None:
        raise _invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
    topic = _topic(broker, arn, "TopicArn" if "TopicArn" in params else "TargetArn")
    published = topic.publish(
        required(params, "Message", SNS),
        subject=params.get("Subject"),
        message_attributes=params.get("MessageAttributes"),
        message_structure=params.get("MessageStructure"),
        message_group_id=params.get("MessageGroupId"),
        message_deduplication_id=params.get("MessageDeduplicationId"),
    )
    result = {"MessageId": published.message_id}
    if published.sequence_number is not None:
        result["SequenceNumber"] = published.sequence_number
    return result


@operation("PublishBatch")
def publish_batch(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    topic = _topic(broker, required(params, "TopicArn", SNS))
    return topic.publish_batch(required(params, "PublishBatchRequestEntries", SNS))


# --------------------------------------------------------------------------------------------
# Permissions: statements of the topic's Policy.

#: The actions AddPermission grants on a topic (SNS API Reference, AddPermission).
PERMISSION_ACTIONS = frozenset(
    (
        "AddPermission",
        "DeleteTopic",
        "GetTopicAttributes",
        "ListSubscriptionsByTopic",
        "Publish",
        "RemovePermission",
        "SetTopicAttributes",
        "Subscribe",
    )
)


@operation("AddPermission")
def add_permission(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    topic = _topic(broker, required(params, "TopicArn", SNS))
    label = validation.text(required(params, "Label", SNS), "Label", SNS)
    accounts = validation.string_list(required(params, "AWSAccountId", SNS), "AWSAccountId", SNS)
    actions = validation.string_list(required(params, "ActionName", SNS), "ActionName", SNS)
    if not accounts or not all(len(a) == 12 and a.isdigit() for a in accounts):
        raise _invalid("Invalid parameter: AWSAccountId")  # our wording in SNS's style
    if not actions or not all(action in PERMISSION_ACTIONS for action in actions):
        raise _invalid("Invalid parameter: ActionName")  # our wording in SNS's style
    added = statement(label, accounts, [f"SNS:{action}" for action in actions], topic.arn)
    policy = with_statement(topic.attributes.get("Policy"), "__default_policy_ID", added)
    if policy is None:
        # SNS's text for a label already in the policy.
        raise _invalid("Invalid parameter: Statement already exists")
    broker.set_topic_attributes(topic.name, "Policy", policy)
    return {}


@operation("RemovePermission")
def remove_permission(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    topic = _topic(broker, required(params, "TopicArn", SNS))
    label = validation.text(required(params, "Label", SNS), "Label", SNS)
    policy = without_statement(topic.attributes.get("Policy"), label)
    if policy is None:
        # Our wording in SNS's style (AWS documents no text for this).
        raise _invalid(f"Invalid parameter: Label Reason: no statement {label} in the topic's policy")
    broker.set_topic_attributes(topic.name, "Policy", policy)
    return {}


# --------------------------------------------------------------------------------------------
# Tags (Amazon SNS Developer Guide, 'Amazon SNS tags').


def _check_tags(tags: Mapping[str, str], held: Mapping[str, str]) -> None:
    check_tags(
        tags,
        held,
        lambda reason: _invalid(f"Invalid parameter: Tags Reason: {reason}"),
        # SNS's text for a 51st tag.
        lambda reason: AwsError(
            "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"
        ),
    )


def _tagged_topic(broker: Broker, request: Request) -> str:
    """The ARN of the topic a tagging call names (SNS tags topics only)."""
    arn = validation.text(required(request.params, "ResourceArn", SNS), "ResourceArn", SNS)
    if topic_name(arn) is None:
        raise AwsError("ResourceNotFound", "Resource does not exist", status=404)
    return arn


@operation("TagResource")
def tag_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    arn = _tagged_topic(broker, request)
    tags = tag_map(required(request.params, "Tags", SNS), "Tags", SNS)
    _check_tags(tags, broker.tags(arn))
    broker.tag_resource(arn, tags)
    return {}


@operation("UntagResource")
def untag_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    arn = _tagged_topic(broker, request)
    broker.untag_resource(
        arn, validation.string_list(required(request.params, "TagKeys", SNS), "TagKeys", SNS)
    )
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(broker: Broker, request: Request) -> Mapping[str, Any]:
    return {"Tags": tag_list(broker.tags(_tagged_topic(broker, request)))}
