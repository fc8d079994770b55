"""What a service is handed when it is made: the store, the clock, where it lives, its limits,
and the few hooks it needs from the broker, all public.

Why it exists: queues, topics, buses and streams share one store, one clock and one region and
account, and deliver to each other; the :class:`~rulebus.broker.Broker` decides all of that once
and hands each service a :class:`Context` instead of itself, so that no service reaches into the
broker's (or another service's) private state. A service binds what its hot paths read from the
context once, when it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rulebus.sns.signing import Signer
    from rulebus.stores.base import Store
    from rulebus.stores.records import Clock
    from rulebus.targets import Targets

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    """The shared setting of one broker's services (see the module docstring)."""

    #: Where queues, topics, buses, streams and idempotency records live.
    store: Store
    #: Epoch seconds; tests pass a fake one to move time instead of sleeping.
    clock: Clock
    #: The region and account that ARNs, URLs and SenderIds carry.
    region: str
    account: str
    #: Where deliveries go: ARNs and objects resolved to this broker's queues, topics, buses and
    #: streams (subscriptions, rule targets, replays, schedules, dead-letter queues).
    targets: Targets
    #: Called after a bus's rules or targets changed (PutRule, PutTargets, ...), with the bus's
    #: name: the broker's scheduler looks at the scheduled rules again.
    rules_changed: Callable[[str], None]
    #: Seconds (by ``clock``) a deleted queue's name stays blocked (QueueDeletedRecently).
    queue_recreate_delay: float
    #: PutRule refuses a bus's rule beyond this many (None: no limit).
    rules_per_bus: int | None
    #: PutEvents refuses requests whose entries add up to more bytes than this.
    max_events_size: int
    #: Event buses retry failed deliveries on a timer thread; False leaves it to ``run_retries``.
    background_retries: bool
    #: Where this broker's AWS APIs are served (``rulebus serve``: ``http://127.0.0.1:4566``):
    #: SNS's SubscribeURL and UnsubscribeURL and SQS's queue URLs point there. None: AWS's own
    #: endpoints (``https://sns.<region>.amazonaws.com``).
    endpoint_url: str | None = None
    #: What signs SNS's HTTP/S deliveries for real, and whose certificate the server at
    #: ``endpoint_url`` serves (``rulebus serve`` gives one to its brokers). None: a stand-in
    #: signature and AWS's SigningCertURL (see docs/semantics.md, "What subscribers receive").
    sns_signer: Signer | None = None


def sns_endpoint(context: Context) -> str:
    """The base URL of SNS's API for this context: the served endpoint, or AWS's in its region."""
    return (context.endpoint_url or f"https://sns.{context.region}.amazonaws.com").rstrip("/")
