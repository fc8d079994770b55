"""The operations of each service rulebus emulates, as wire handlers (see
:mod:`rulebus.aws.request`): ``SERVICES[service][operation](broker, request) -> output``.

Each module exposes ``OPERATIONS``, the model's operation names it implements; an operation
missing there is one rulebus does not implement (docs/wire-operations.md lists both).
"""

from __future__ import annotations

from collections.abc import Mapping

from rulebus.aws.request import Operations
from rulebus.aws.services import events, kinesis, sns, sqs, sts

__all__ = ["SERVICES"]

#: botocore's service name -> that service's operations.
SERVICES: Mapping[str, Operations] = {
    "sqs": sqs.OPERATIONS,
    "sns": sns.OPERATIONS,
    "events": events.OPERATIONS,
    "kinesis": kinesis.OPERATIONS,
    "sts": sts.OPERATIONS,
}
