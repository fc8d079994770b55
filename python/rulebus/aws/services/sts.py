"""AWS STS's GetCallerIdentity (AWS STS API Reference): SDKs and test fixtures call it to learn
the account; rulebus answers as the account's root user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rulebus._errors import AwsError, RulebusError
from rulebus.aws.request import Request
from rulebus.aws.services.operations import OperationTable
from rulebus.broker import Broker

__all__ = ["OPERATIONS"]


def _translate(error: RulebusError, request: Request) -> AwsError | None:
    return None


operation = OperationTable(_translate)
OPERATIONS = operation.handlers


@operation("GetCallerIdentity")
def get_caller_identity(broker: Broker, request: Request) -> Mapping[str, Any]:
    # A root user's UserId is the account id (AWS STS API Reference, GetCallerIdentity).
    return {
        "UserId": request.account,
        "Account": request.account,
        "Arn": f"arn:aws:iam::{request.account}:root",
    }
