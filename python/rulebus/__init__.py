"""rulebus: EventBridge event patterns and SNS filter policies, compiled in Rust.

    >>> import rulebus
    >>> rulebus.Pattern('{"source": ["com.shop"]}').matches('{"source": "com.shop"}')
    True
"""

from __future__ import annotations

from rulebus._core import FilterPolicy, Pattern, RuleSet, test_event_pattern
from rulebus._errors import (
    AwsError,
    InvalidEventError,
    InvalidFilterPolicyError,
    InvalidPatternError,
    NotFound,
    ParameterTypeError,
    RulebusError,
    StoreClosedError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreReadOnlyError,
    StoreUnavailableError,
    StoreVersionError,
)
from rulebus.aws.mock import mock_aws
from rulebus.broker import Broker
from rulebus.events.bus import EventBus
from rulebus.idempotency import Idempotency, IdempotencyInProgressError, idempotent
from rulebus.kinesis.stream import Stream
from rulebus.sns.topic import Subscription, Topic
from rulebus.sqs.queue import Message, Queue

__all__ = [
    "AwsError",
    "Broker",
    "EventBus",
    "FilterPolicy",
    "Idempotency",
    "IdempotencyInProgressError",
    "InvalidEventError",
    "InvalidFilterPolicyError",
    "InvalidPatternError",
    "Message",
    "NotFound",
    "ParameterTypeError",
    "Pattern",
    "Queue",
    "RuleSet",
    "RulebusError",
    "StoreClosedError",
    "StoreCorruptError",
    "StoreError",
    "StoreFullError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "StoreVersionError",
    "Stream",
    "Subscription",
    "Topic",
    "idempotent",
    "mock_aws",
    "test_event_pattern",
]
__version__ = "0.1.0"
