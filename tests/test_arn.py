"""rulebus.arn: the one ARN parser the services share."""

from __future__ import annotations

import pytest
from rulebus.arn import Arn, archive_name, event_bus_name, queue_name, stream_name, topic_name


def test_parse_splits_five_parts_and_keeps_colons_in_the_resource() -> None:
    arn = Arn.parse("arn:aws:sns:eu-west-1:123456789012:orders:2f1c")
    assert arn == Arn("aws", "sns", "eu-west-1", "123456789012", "orders:2f1c")
    assert str(arn) == "arn:aws:sns:eu-west-1:123456789012:orders:2f1c"


@pytest.mark.parametrize("text", [None, 3, "", "arn:aws:sqs:r:a", "urn:aws:sqs:r:a:q", "arn"])
def test_parse_refuses_what_is_not_an_arn(text: object) -> None:
    assert Arn.parse(text) is None


def test_each_service_names_its_resources() -> None:
    assert queue_name("arn:aws:sqs:us-east-1:000000000000:orders") == "orders"
    assert topic_name("arn:aws:sns:us-east-1:000000000000:events") == "events"
    assert event_bus_name("arn:aws:events:us-east-1:000000000000:event-bus/a/b") == "a/b"
    assert archive_name("arn:aws:events:us-east-1:000000000000:archive/kept") == "kept"
    assert stream_name("arn:aws:kinesis:us-east-1:000000000000:stream/clicks") == "clicks"


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:sqs:us-east-1:000000000000:",  # no name
        "arn:aws:sqs::000000000000:orders",  # no region
        "arn:aws:sqs:us-east-1::orders",  # no account
        "arn:aws-cn:sqs:us-east-1:000000000000:orders",  # another partition
        "arn:aws:sns:us-east-1:000000000000:orders",  # another service
        "arn:aws:sqs:us-east-1:000000000000:orders:x",  # a colon in the name
    ],
)
def test_a_queue_arn_needs_every_part(text: str) -> None:
    assert queue_name(text) is None


def test_typed_resources_need_their_type_and_a_name() -> None:
    assert stream_name("arn:aws:kinesis:us-east-1:000000000000:stream/") is None
    assert stream_name("arn:aws:kinesis:us-east-1:000000000000:clicks") is None
    assert event_bus_name("arn:aws:events:us-east-1:000000000000:rule/r") is None
    assert topic_name("arn:aws:sns:us-east-1:000000000000:events:sub-id") is None  # a subscription


def test_is_in_compares_region_and_account() -> None:
    arn = Arn.parse("arn:aws:sqs:us-east-1:000000000000:orders")
    assert arn is not None
    assert arn.is_in("us-east-1", "000000000000")
    assert not arn.is_in("eu-west-1", "000000000000")
