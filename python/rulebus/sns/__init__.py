"""Amazon SNS: topics (standard and FIFO), subscriptions, filter policies and deliveries."""

from rulebus.sns.endpoints import Endpoint

__all__ = ["Endpoint"]
