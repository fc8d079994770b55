"""SNS message signatures a subscriber can verify: HTTP/S deliveries of ``rulebus serve`` carry a
real RSA ``Signature`` whose certificate the server serves at ``SigningCertURL``. The end-to-end
tests verify as the Amazon SNS Developer Guide's "Verifying the signatures of Amazon SNS
messages" says a subscriber does, with their own string to sign, not rulebus's."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from helpers.aws_server import RunningServer
from helpers.http_endpoint import Endpoint
from rulebus import Broker
from rulebus.sns.signing import CERTIFICATE_CONTENT_TYPE, Signer, string_to_sign

ACCOUNT = "000000000000"
REGION = "us-east-1"

# ------------------------------------------------------------------ a subscriber's verification


def _subscriber_string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The string to sign as the developer guide lists it, written out per message type."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId"] + (["Subject"] if "Subject" in message else [])
        names += ["Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{name}\n{message[name]}\n" for name in names).encode("utf-8")


def _fetch_certificate(url: str) -> x509.Certificate:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Type"] == CERTIFICATE_CONTENT_TYPE
        return x509.load_pem_x509_certificate(response.read())


def _verify(message: Mapping[str, Any]) -> None:
    """Raises InvalidSignature unless ``message`` verifies against its SigningCertURL's key."""
    key = _fetch_certificate(message["SigningCertURL"]).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    signature = base64.b64decode(message["Signature"])
    key.verify(signature, _subscriber_string_to_sign(message), padding.PKCS1v15(), digest)


# ------------------------------------------------------------------ against rulebus serve


@pytest.fixture(scope="module", params=["memory", "sqlite"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    store = None if request.param == "memory" else str(tmp_path_factory.mktemp("signing") / "aws.db")
    with RunningServer(store=store) as running:
        yield running


def _wait(server: RunningServer, topic_arn: str) -> None:
    """Until every delivery the topic handed over so far has finished."""
    broker = server.dispatcher.brokers.get(ACCOUNT, REGION)
    assert broker.topic(topic_arn.rsplit(":", 1)[1]).wait_for_deliveries(30)


def _deliveries(server: RunningServer, topic_arn: str, endpoint: Endpoint) -> list[dict[str, Any]]:
    """What the endpoint was POSTed once every delivery handed over so far has finished."""
    _wait(server, topic_arn)
    return [request.json() for request in endpoint.requests]


@pytest.mark.parametrize("version", ["1", "2"])
def test_http_deliveries_verify_against_the_served_certificate(
    server: RunningServer, endpoint: Endpoint, version: str
) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name=f"signed-v{version}", Attributes={"SignatureVersion": version})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    (confirmation,) = _deliveries(server, topic, endpoint)
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["SignatureVersion"] == version
    assert confirmation["SigningCertURL"].startswith(server.url + "/_rulebus/sns/SimpleNotificationService-")
    _verify(confirmation)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])

    with_subject = sns.publish(TopicArn=topic, Message='{"order": "o-1"}\nline 2 é', Subject="New order")
    without_subject = sns.publish(TopicArn=topic, Message="no subject")
    notifications = _deliveries(server, topic, endpoint)[1:]
    assert [n["MessageId"] for n in notifications] == [
        with_subject["MessageId"],
        without_subject["MessageId"],
    ]
    assert notifications[0]["Subject"] == "New order" and "Subject" not in notifications[1]
    for notification in notifications:
        assert notification["Type"] == "Notification"
        assert notification["SigningCertURL"] == confirmation["SigningCertURL"]
        _verify(notification)


def test_a_tampered_message_fails_verification(server: RunningServer, endpoint: Endpoint) -> None:
    sns = server.client("sns")
    topic = sns.create_topic(Name="tampered")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
    (confirmation,) = _deliveries(server, topic, endpoint)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    sns.publish(TopicArn=topic, Message="pay 10", Subject="payment")
    notification = _deliveries(server, topic, endpoint)[1]
    _verify(notification)
    for member, value in [
        ("Message", "pay 1000"),
        ("Subject", "refund"),
        ("Timestamp", "2020-01-01T00:00:00.000Z"),
    ]:
        with pytest.raises(InvalidSignature):
            _verify({**notification, member: value})
    without_subject = {name: value for name, value in notification.items() if name != "Subject"}
    with pytest.raises(InvalidSignature):
        _verify(without_subject)
    with pytest.raises(InvalidSignature):
        _verify({**confirmation, "SubscribeURL": "https://attacker.example/?Action=ConfirmSubscription"})


def test_one_signature_serves_every_subscription_of_a_message(server: RunningServer) -> None:
    from helpers.http_endpoint import serving

    sns = server.client("sns")
    topic = sns.create_topic(Name="two-endpoints")["TopicArn"]
    with serving() as first, serving() as second:
        for endpoint in (first, second):
            sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
            (confirmation,) = _deliveries(server, topic, endpoint)
            sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        sns.publish(TopicArn=topic, Message="to both")
        a, b = (_deliveries(server, topic, endpoint)[1] for endpoint in (first, second))
    assert a["MessageId"] == b["MessageId"] and a["UnsubscribeURL"] != b["UnsubscribeURL"]
    assert a["Signature"] == b["Signature"]
    _verify(a)
    _verify(b)


def test_raw_deliveries_and_queue_envelopes_are_left_as_they_were(
    server: RunningServer, endpoint: Endpoint
) -> None:
    sns, sqs = server.client("sns"), server.client("sqs")
    topic = sns.create_topic(Name="raw-and-queue")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=endpoint.url, Attributes={"RawMessageDelivery": "true"}
    )
    (confirmation,) = _deliveries(server, topic, endpoint)
    sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
    url = sqs.create_queue(QueueName="raw-and-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="just this")
    _wait(server, topic)
    assert endpoint.requests[-1].body == "just this"
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    queued = json.loads(message["Body"])
    # A queue's envelope names the served certificate but keeps the stand-in signature: no RSA
    # on the fan-out (docs/semantics.md, "What subscribers receive").
    assert queued["SigningCertURL"] == confirmation["SigningCertURL"]
    with pytest.raises(InvalidSignature):
        _verify(queued)


def test_the_certificate_is_served_only_at_its_own_path(server: RunningServer) -> None:
    signer = server.dispatcher.brokers.sns_signer
    assert signer is not None
    assert _fetch_certificate(server.url + signer.certificate_path).public_key() is not None
    wrong = server.url + "/_rulebus/sns/SimpleNotificationService-00000000000000000000000000000000.pem"
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(wrong, timeout=30)
    assert raised.value.code == 404


# ------------------------------------------------------------------ in process


def test_a_broker_without_a_server_keeps_the_stand_in(endpoint: Endpoint) -> None:
    broker = Broker(background_move_tasks=False, background_schedules=False)
    try:
        topic = broker.topic("unserved")
        topic.subscribe(endpoint.url)
        assert topic.wait_for_deliveries(30)
        confirmation = endpoint.requests[0].json()
        assert confirmation["SigningCertURL"].startswith("https://sns.us-east-1.amazonaws.com/")
        assert len(confirmation["Signature"]) == 344
    finally:
        broker.close()


# ------------------------------------------------------------------ the string to sign and the signer

_NOTIFICATION = {
    "Type": "Notification",
    "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
    "Subject": "My First Message",
    "Message": "Hello world!",
    "Timestamp": "2012-05-02T00:54:06.655Z",
    "SignatureVersion": "1",
    "Signature": "placeholder",
    "SigningCertURL": "https://example/cert.pem",
    "UnsubscribeURL": "https://example/?Action=Unsubscribe",
}


def test_a_notifications_string_to_sign() -> None:
    assert string_to_sign(_NOTIFICATION) == (
        "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        "Subject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\n"
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
    )
    without = {name: value for name, value in _NOTIFICATION.items() if name != "Subject"}
    assert string_to_sign(without) == (
        "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        "Timestamp\n2012-05-02T00:54:06.655Z\n"
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
    )


@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_a_confirmations_string_to_sign(kind: str) -> None:
    confirmation = {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37f",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Message": "You have chosen to subscribe.",
        "SubscribeURL": "https://sns/?Action=ConfirmSubscription&Token=2336412f37f",
        "Timestamp": "2012-04-26T20:45:04.751Z",
        "Subject": "not signed in a confirmation",
    }
    assert string_to_sign(confirmation) == (
        "Message\nYou have chosen to subscribe.\nMessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n"
        "SubscribeURL\nhttps://sns/?Action=ConfirmSubscription&Token=2336412f37f\n"
        "Timestamp\n2012-04-26T20:45:04.751Z\nToken\n2336412f37f\n"
        f"TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\n{kind}\n"
    )


def test_only_sns_message_types_and_versions_are_signed() -> None:
    with pytest.raises(ValueError):
        string_to_sign({**_NOTIFICATION, "Type": "Other"})
    with pytest.raises(ValueError):
        Signer().sign(_NOTIFICATION, "3")


def test_signed_text_replaces_only_the_signature_member() -> None:
    signer = Signer()
    text = json.dumps({**_NOTIFICATION, "Message": '"Signature" : "placeholder"'}, indent=2).replace(
        '": ', '" : '
    )
    signed = json.loads(signer.signed_text(text))
    assert signed["Message"] == '"Signature" : "placeholder"'
    assert signed["Signature"] != "placeholder"
    assert {**signed, "Signature": "placeholder"} == {
        **_NOTIFICATION,
        "Message": '"Signature" : "placeholder"',
    }
    key = x509.load_pem_x509_certificate(signer.certificate_pem()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(
        base64.b64decode(signed["Signature"]),
        _subscriber_string_to_sign(signed),
        padding.PKCS1v15(),
        hashes.SHA1(),
    )


def test_signed_text_leaves_what_it_cannot_sign() -> None:
    signer = Signer()
    fifo = {name: value for name, value in _NOTIFICATION.items() if not name.startswith("Signature")}
    for text in [
        "raw message",
        "[1]",
        json.dumps(fifo),
        json.dumps({**_NOTIFICATION, "SignatureVersion": "9"}),
    ]:
        assert signer.signed_text(text) == text
