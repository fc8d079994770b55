"""The pytest plugin rulebus registers (entry point ``pytest11``): the ``rulebus_aws`` fixture.

    def test_orders(rulebus_aws):
        sqs = boto3.client("sqs")          # answered by rulebus, in process
        ...
        rulebus_aws.broker().queues()      # the same state, through the Python API

The fixture yields an active :class:`~rulebus.aws.mock.MockAws` (fresh brokers, fake
credentials when none are set) and stops it after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rulebus.aws.mock import MockAws, mock_aws

__all__ = ["rulebus_aws"]


@pytest.fixture
def rulebus_aws() -> Iterator[MockAws]:
    """boto3 answered by rulebus for the test (see :func:`rulebus.mock_aws`)."""
    with mock_aws() as aws:
        yield aws
