"""The errors of rulebus's AWS interface that are not a service's own."""

from __future__ import annotations

from collections.abc import Sequence

from rulebus._errors import AwsError, StoreError, StoreLockedError

__all__ = ["ServiceNotEmulated", "store_failure"]


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


def store_failure(error: StoreError) -> AwsError:
    """A store that failed under a request: the server's fault, as AWS's common errors word it
    (a lock held too long is ServiceUnavailable, 503, which SDKs retry; anything else
    InternalFailure, 500). The services map theirs with it; the dispatcher too, as a last resort."""
    if isinstance(error, StoreLockedError):
        return AwsError("ServiceUnavailable", str(error), sender_fault=False, status=503)
    return AwsError("InternalFailure", str(error), sender_fault=False, status=500)
