"""The errors of rulebus's AWS interface that are not a service's own."""

from __future__ import annotations

from collections.abc import Sequence

from rulebus._errors import AwsError

__all__ = ["ServiceNotEmulated"]


class ServiceNotEmulated(AwsError):
    """A request for an AWS service that rulebus does not emulate (``service`` names it)."""

    def __init__(self, service: str, emulated: Sequence[str]) -> None:
        super().__init__(
            "NotImplemented",
            f"rulebus does not emulate the AWS service {service!r}: it emulates {', '.join(emulated)}",
            sender_fault=True,
            status=501,
        )
        self.service = service
