"""Calling the wire handlers (rulebus.aws.services) as the codec does: a Request in, the answer
checked against botocore's output shape on the way out."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from rulebus import Broker
from rulebus.aws.request import Request
from rulebus.aws.services import SERVICES

from helpers.aws_shapes import assert_output

_IDS = itertools.count(1)


class Wire:
    """One broker seen through the handlers, as a client of ``host`` in its region and account."""

    def __init__(self, broker: Broker, host: str = "localhost:4566") -> None:
        self.broker = broker
        self.host = host

    def request(self, service: str, operation: str, params: Mapping[str, Any]) -> Request:
        return Request(
            service=service,
            operation=operation,
            params=dict(params),
            region=self.broker.region,
            account=self.broker.account,
            host=self.host,
            request_id=f"req-{next(_IDS)}",
        )

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """The handler's answer to ``operation(**params)``, after checking it fits the output shape."""
        handler = SERVICES[service][operation]
        output = handler(self.broker, self.request(service, operation, params))
        assert_output(service, operation, output)
        return dict(output)

    def sqs(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.call("sqs", operation, **params)

    def sns(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.call("sns", operation, **params)

    def events(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.call("events", operation, **params)

    def kinesis(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.call("kinesis", operation, **params)

    def queue(self, name: str) -> tuple[str, str]:
        """CreateQueue ``name``: its URL and ARN."""
        url = str(self.sqs("CreateQueue", QueueName=name)["QueueUrl"])
        return url, f"arn:aws:sqs:{self.broker.region}:{self.broker.account}:{name}"

    def bodies(self, url: str) -> list[str]:
        """The bodies of up to 10 messages received from the queue at ``url``."""
        received = self.sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10)
        return [m["Body"] for m in received.get("Messages", [])]
