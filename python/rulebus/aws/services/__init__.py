"""The operations of each service rulebus emulates, as wire handlers (see
:mod:`rulebus.aws.request`): ``SERVICES[service][operation](broker, request) -> output``.

Each module exposes ``OPERATIONS``, the model's operation names it implements; an operation
missing there is one rulebus does not implement (docs/wire-operations.md lists both). SQS's
``ASYNC_OPERATIONS`` has the awaiting form of ReceiveMessage (``ASYNC_SERVICES``).
"""

from __future__ import annotations

from collections.abc import Mapping

from rulebus.aws.request import Operations
from rulebus.aws.services import events, kinesis, sns, sqs, sts
from rulebus.aws.services.operations import AsyncHandler

__all__ = ["ASYNC_SERVICES", "SERVICES"]

#: botocore's service name -> that service's operations.
SERVICES: Mapping[str, Operations] = {
    "sqs": sqs.OPERATIONS,
    "sns": sns.OPERATIONS,
    "events": events.OPERATIONS,
    "kinesis": kinesis.OPERATIONS,
    "sts": sts.OPERATIONS,
}

#: botocore's service name -> the operations that may wait (long polls), as coroutine handlers
#: answering what the synchronous ones answer: an event loop awaits these, so that a waiting
#: ReceiveMessage holds no thread. Every other operation is quick and synchronous.
ASYNC_SERVICES: Mapping[str, Mapping[str, AsyncHandler]] = {"sqs": sqs.ASYNC_OPERATIONS}
