"""Names and ARNs of EventBridge resources: buses, rules, target Ids, archives and replays
(EventBridge API Reference, CreateEventBus, PutRule, PutTargets, CreateArchive and StartReplay:
each name's length and pattern; the ARN formats of PutRule's and CreateEventBus's answers)."""

from __future__ import annotations

import re
from typing import Any

from rulebus import validation
from rulebus._errors import constraint_error as _constraint

__all__ = ["DEFAULT_BUS", "bus_arn", "check_name", "rule_arn", "validate_bus_name"]

#: The bus every account has, which cannot be deleted and alone takes scheduled rules.
DEFAULT_BUS = "default"

_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
_NAME = re.compile(r"[.\-_A-Za-z0-9]+")  # rule names and target Ids


def check_name(given: Any, where: str, longest: int) -> str:
    """A rule name, target Id, archive or replay name: at most ``longest`` of
    ``[.-_A-Za-z0-9]``, else AWS's request-model ValidationException naming ``where``."""
    value = validation.text(given, where, validation.EVENTS)
    if len(value) > longest:
        raise _constraint(value, where, f"Member must have length less than or equal to {longest}")
    if not _NAME.fullmatch(value):
        raise _constraint(value, where, r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")
    return value


def validate_bus_name(name: Any) -> None:
    """A bus name: 1-256 of ``[/.-_A-Za-z0-9]`` (EventBridge API Reference, CreateEventBus)."""
    validation.text(name, "name", validation.EVENTS)
    if not _BUS_NAME.fullmatch(name):
        raise _constraint(name, "name", r"Member must satisfy regular expression pattern: [/\.\-_A-Za-z0-9]+")


def bus_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(bus: str, rule: str, region: str, account: str) -> str:
    """``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on the others (EventBridge API
    Reference, PutRule)."""
    path = rule if bus == DEFAULT_BUS else f"{bus}/{rule}"
    return f"arn:aws:events:{region}:{account}:rule/{path}"
