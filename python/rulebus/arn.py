"""Amazon Resource Names: ``arn:<partition>:<service>:<region>:<account>:<resource>``.

One parser for every service: a queue's redrive policy, a topic's subscriptions and dead-letter
queues, a bus's targets and archives and a stream's StreamARN all read ARNs through ``Arn``. The
layout is the one the IAM User Guide describes ("IAM identifiers", "ARN format"); the resource
part is service-specific (``<name>`` for SQS queues and SNS topics, ``<type>/<name>`` for event
buses, archives and streams) and may itself hold colons (an SNS subscription is
``<topic>:<id>``). Each service keeps its own error texts: this module only says what an ARN
names, or that it names nothing a service can address (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Arn",
    "archive_name",
    "event_bus_name",
    "queue_name",
    "stream_name",
    "topic_name",
]

#: The partition rulebus's resources live in (their ARNs are ``arn:aws:...``).
PARTITION = "aws"


@dataclass(frozen=True)
class Arn:
    """One ARN's five parts; ``str(arn)`` writes it back."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: object) -> Arn | None:
        """The parts of ``text`` if it has the ARN layout (six colon-separated fields, the first
        ``arn``; the resource takes whatever follows the fifth colon), else None. The parts
        may be empty: what a service requires of them is ``named``'s question."""
        if not isinstance(text, str):
            return None
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            return None
        return cls(parts[1], parts[2], parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    def named(self, service: str, resource_type: str = "") -> str | None:
        """The resource's name if this ARN is one rulebus can address for ``service``: partition
        ``aws``, a region and an account, and a resource ``<resource_type>/<name>`` (any
        non-empty name) or, without a type, a name without colons; else None."""
        if self.service != service or self.partition != PARTITION or not self.region or not self.account:
            return None
        if resource_type:
            kind, slash, name = self.resource.partition("/")
            return name if slash and kind == resource_type and name else None
        resource = self.resource
        return resource if resource and ":" not in resource else None

    def is_in(self, region: str, account: str) -> bool:
        """Whether the resource is in this region and account (a broker's own)."""
        return self.region == region and self.account == account


def _named(text: object, service: str, resource_type: str = "") -> str | None:
    arn = Arn.parse(text)
    return None if arn is None else arn.named(service, resource_type)


def queue_name(text: object) -> str | None:
    """The queue in ``arn:aws:sqs:<region>:<account>:<name>``, else None."""
    return _named(text, "sqs")


def topic_name(text: object) -> str | None:
    """The topic in ``arn:aws:sns:<region>:<account>:<name>`` (not a subscription's ARN), else None."""
    return _named(text, "sns")


def event_bus_name(text: object) -> str | None:
    """The bus in ``arn:aws:events:<region>:<account>:event-bus/<name>``, else None."""
    return _named(text, "events", "event-bus")


def archive_name(text: object) -> str | None:
    """The archive in ``arn:aws:events:<region>:<account>:archive/<name>``, else None."""
    return _named(text, "events", "archive")


def stream_name(text: object) -> str | None:
    """The stream in ``arn:aws:kinesis:<region>:<account>:stream/<name>``, else None."""
    return _named(text, "kinesis", "stream")


def function_name(text: object) -> str | None:
    """The function in ``arn:aws:lambda:<region>:<account>:function:<name>`` (unqualified),
    else None."""
    arn = Arn.parse(text)
    if (
        arn is None
        or arn.service != "lambda"
        or arn.partition != PARTITION
        or not arn.region
        or not arn.account
    ):
        return None
    kind, colon, name = arn.resource.partition(":")
    return name if colon and kind == "function" and name and ":" not in name else None
