"""AddPermission and RemovePermission of SQS and SNS: statements of the resource's access policy
(its ``Policy`` attribute), each labelled by its Sid (SQS API Reference, AddPermission; SNS API
Reference, AddPermission). rulebus keeps the policy as AWS shows it; it does not enforce it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rulebus import _jsontext as jsontext

__all__ = ["statement", "with_statement", "without_statement"]


def _document(policy: str | None, policy_id: str) -> dict[str, Any]:
    try:
        document = jsontext.loads(policy) if policy else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        document = {"Version": "2012-10-17", "Id": policy_id, "Statement": []}
    statements = document.get("Statement")
    if isinstance(statements, dict):  # a policy may hold one statement unwrapped
        document["Statement"] = [statements]
    elif not isinstance(statements, list):
        document["Statement"] = []
    return document


def statement(label: str, accounts: Sequence[str], actions: Sequence[str], resource: str) -> dict[str, Any]:
    """The statement AddPermission adds: the accounts' root users allowed the actions."""
    principals = [f"arn:aws:iam::{account}:root" for account in accounts]
    return {
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": actions[0] if len(actions) == 1 else list(actions),
        "Resource": resource,
    }


def with_statement(policy: str | None, policy_id: str, added: Mapping[str, Any]) -> str | None:
    """The policy with ``added`` appended; None when it has a statement of that Sid already."""
    document = _document(policy, policy_id)
    if any(isinstance(s, Mapping) and s.get("Sid") == added["Sid"] for s in document["Statement"]):
        return None
    document["Statement"].append(dict(added))
    return json.dumps(document, separators=(",", ":"))


def without_statement(policy: str | None, label: str) -> str | None:
    """The policy without its statement ``label`` ("" when none is left); None when it has none
    of that Sid."""
    document = _document(policy, "")
    kept = [s for s in document["Statement"] if not (isinstance(s, Mapping) and s.get("Sid") == label)]
    if len(kept) == len(document["Statement"]):
        return None
    if not kept:
        return ""
    document["Statement"] = kept
    return json.dumps(document, separators=(",", ":"))
