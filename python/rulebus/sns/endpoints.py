"""SNS's protocols that rulebus accepts and does not deliver to: ``email``, ``email-json``,
``sms``, ``lambda`` and ``firehose`` (Amazon SNS API Reference, "Subscribe").

Code written for AWS subscribes these all the time (an operator's address on an alarm topic, a
Lambda function behind a topic); rulebus has no mail, SMS, Lambda or Firehose, so such a
subscription is checked as SNS checks it, stored, listed, described, confirmed and removed like any
other, and every publish passes it over (it is no route of the topic's route plan: see
``rulebus.sns.routes``). ``application`` (mobile push) stays refused: its endpoints are platform
endpoints made by CreatePlatformEndpoint, which rulebus does not have, so no ARN names one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rulebus._errors import AwsError
from rulebus.arn import PARTITION, Arn
from rulebus.sns.errors import invalid

__all__ = [
    "CONFIRMED_BY_OWNER",
    "DELIVERED_PROTOCOLS",
    "RAW_DELIVERY_PROTOCOLS",
    "UNDELIVERED_PROTOCOLS",
    "Endpoint",
    "check_endpoint",
    "check_phone_number",
    "check_role_arn",
    "no_platform_endpoints",
]

#: The protocols rulebus subscribes and never delivers to.
UNDELIVERED_PROTOCOLS = frozenset(("email", "email-json", "sms", "lambda", "firehose"))
#: SNS's protocols that rulebus delivers to (a Kinesis stream and a callable are rulebus's own).
DELIVERED_PROTOCOLS = frozenset(("sqs", "http", "https"))
#: Those AWS confirms by a link it mails: they start PendingConfirmation (Amazon SNS Developer
#: Guide, "Email notifications"); the others of ``UNDELIVERED_PROTOCOLS`` are confirmed at once.
CONFIRMED_BY_OWNER = frozenset(("email", "email-json"))
#: The protocols whose subscriptions may set RawMessageDelivery (Amazon SNS Developer Guide,
#: "Amazon SNS raw message delivery"), among those of this module.
RAW_DELIVERY_PROTOCOLS = frozenset(("firehose",))

# One address: a local part and a dotted domain, no spaces and a single "@".
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
# A phone number: an optional "+", then digits, single "-", "." or "/" allowed between them.
_PHONE = re.compile(r"\+?[0-9]+(?:[-./][0-9]+)*")
# E.164 allows 15 digits at most, the first (the country code's) not 0.
_E164_DIGITS = re.compile(r"[1-9][0-9]{1,14}")


def _email(endpoint: str) -> bool:
    return _EMAIL.fullmatch(endpoint) is not None


def _phone_number(endpoint: str) -> bool:
    if _PHONE.fullmatch(endpoint) is None:
        return False
    return _E164_DIGITS.fullmatch(re.sub(r"[^0-9]", "", endpoint)) is not None


def _lambda_function(endpoint: str) -> bool:
    """``arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>]``."""
    arn = Arn.parse(endpoint)
    if arn is None or arn.service != "lambda" or arn.partition != PARTITION or not arn.region:
        return False
    kind, _, name = arn.resource.partition(":")
    return kind == "function" and bool(name.split(":", 1)[0]) and _account(arn.account)


def _delivery_stream(endpoint: str) -> bool:
    """``arn:aws:firehose:<region>:<account>:deliverystream/<name>``."""
    arn = Arn.parse(endpoint)
    return arn is not None and arn.named("firehose", "deliverystream") is not None and _account(arn.account)


def _account(account: str) -> bool:
    return len(account) == 12 and account.isdigit()


def check_endpoint(protocol: str, endpoint: str) -> None:
    """Raise SNS's InvalidParameter if ``endpoint`` is no endpoint of ``protocol`` (one of
    ``UNDELIVERED_PROTOCOLS``)."""
    if protocol in CONFIRMED_BY_OWNER:
        if not _email(endpoint):
            # SNS's text (what the AWS CLI shows for "foo@bar.com;baz@bar.com").
            raise invalid("Invalid parameter: Email address")
    elif protocol == "sms":
        if not _phone_number(endpoint):
            # SNS's text, as moto and LocalStack reproduce it.
            raise invalid(f"Invalid SMS endpoint: {endpoint}")
    elif protocol == "lambda":
        if not _lambda_function(endpoint):
            # SNS's text, in the form of its "Invalid parameter: SQS endpoint ARN".
            raise invalid("Invalid parameter: Lambda endpoint ARN")
    elif protocol == "firehose":
        if not _delivery_stream(endpoint):
            # Our wording, in the form of SNS's "Invalid parameter: SQS endpoint ARN".
            raise invalid("Invalid parameter: Firehose endpoint ARN")
    else:
        raise ValueError(f"not a protocol of rulebus.sns.endpoints: {protocol!r}")


def check_phone_number(phone_number: str) -> None:
    """Publish's ``PhoneNumber`` (a text message, which rulebus does not send): SNS's
    InvalidParameter unless it is an E.164-like number."""
    if not _phone_number(phone_number):
        # SNS's text, as its users quote it.
        raise invalid(f"Invalid parameter: PhoneNumber Reason: {phone_number} is not valid to publish to")


def check_role_arn(protocol: str, role_arn: str | None) -> None:
    """SubscriptionRoleArn: required by a ``firehose`` subscription (the IAM role SNS assumes to
    write to the delivery stream: Amazon SNS Developer Guide, "Fanout to Firehose delivery
    streams"), an IAM role's ARN; refused elsewhere, as it serves Firehose only."""
    if protocol != "firehose":
        if role_arn is not None:
            # Our wording in SNS's style (AWS documents no text for this).
            raise invalid(
                "Invalid parameter: Attributes Reason: SubscriptionRoleArn is only valid for the "
                "firehose protocol"
            )
        return
    if role_arn is None or role_arn == "":
        # Our wording in SNS's style (AWS documents no text for this).
        raise invalid(
            "Invalid parameter: Attributes Reason: SubscriptionRoleArn is required for the firehose protocol"
        )
    arn = Arn.parse(role_arn)
    if (
        arn is None
        or arn.service != "iam"
        or arn.partition != PARTITION
        or not _account(arn.account)
        or not arn.resource.startswith("role/")
        or arn.resource == "role/"
    ):
        # Our wording in SNS's style.
        raise invalid("Invalid parameter: Attributes Reason: SubscriptionRoleArn: not an IAM role ARN")


def no_platform_endpoints(endpoint: str) -> AwsError:
    """What Subscribe answers for the ``application`` protocol. Its endpoint is the ARN of a
    platform endpoint (``arn:aws:sns:<region>:<account>:endpoint/<platform>/<app>/<id>``), which
    only CreatePlatformEndpoint makes; rulebus has none, so a well-formed ARN names an endpoint
    that does not exist: NotFound, as SNS answers for an unknown platform endpoint, and
    InvalidParameter for text that is no endpoint ARN at all."""
    arn = Arn.parse(endpoint)
    if arn is None or arn.service != "sns" or not arn.resource.startswith("endpoint/"):
        # Our wording in SNS's style.
        return invalid("Invalid parameter: Endpoint Reason: not a platform endpoint ARN")
    # "Endpoint does not exist" is SNS's text; the reason after it is ours.
    return AwsError(
        "NotFound",
        "Endpoint does not exist (rulebus has no platform applications or endpoints: it does not "
        "deliver mobile push notifications)",
        status=404,
    )


@dataclass(frozen=True)
class Endpoint:
    """A subscriber named as Subscribe names it: its ``protocol`` and its ``endpoint``. For the
    protocols rulebus does not deliver to (``"email"``, ``"email-json"``, ``"sms"``, ``"lambda"``,
    ``"firehose"``) the endpoint is the address, the phone number, the function's or the delivery
    stream's ARN; ``"sqs"``, ``"http"`` and ``"https"`` take the queue's ARN or the URL, as the
    plain string does::

        topic.subscribe(Endpoint("email", "ops@example.com"))
        topic.subscribe(Endpoint("firehose", stream_arn), subscription_role_arn=role_arn)

    Why this spelling: it is Subscribe's own pair (``Protocol``, ``Endpoint``), so what a boto3
    call says reads the same here, for every protocol alike; a string such as
    ``"mailto:ops@example.com"`` would need a scheme SNS does not use, and would be ambiguous for
    ARNs, which other subscribers (queues, streams) already are as strings. The endpoint is
    checked as SNS checks it (InvalidParameter, SNS's text) when the Endpoint is made.
    """

    protocol: str
    endpoint: str

    def __post_init__(self) -> None:
        if not isinstance(self.protocol, str) or not isinstance(self.endpoint, str):
            raise invalid("Invalid parameter: Endpoint")
        if self.protocol == "application":
            raise no_platform_endpoints(self.endpoint)
        if self.protocol in DELIVERED_PROTOCOLS:
            return  # checked where the plain string is (Topic.subscribe)
        if self.protocol not in UNDELIVERED_PROTOCOLS:
            # SNS's text for a protocol it does not have.
            raise invalid(
                f"Invalid parameter: Amazon SNS does not support this protocol string: {self.protocol}"
            )
        check_endpoint(self.protocol, self.endpoint)
