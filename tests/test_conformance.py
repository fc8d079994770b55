"""The conformance corpora (``shared/conformance`` beside the repository, or $RULEBUS_SHARED) as a test suite.

Every case must agree, or be listed in helpers.conformance.KNOWN_DEVIATIONS with the AWS fact that
contradicts the source's expectation (AWS wins over the projects the cases come from).
"""

from __future__ import annotations

from typing import Any

import pytest
import rulebus
from helpers.conformance import CASES, CORPORA, SHARED, texts


def outcome(case: dict[str, Any], as_bytes: bool = False) -> object:
    pattern, event, body = texts(case)
    encode = (lambda s: s.encode()) if as_bytes else (lambda s: s)
    try:
        if case["kind"] == "eventbridge":
            return rulebus.Pattern(encode(pattern)).matches(encode(event))
        policy = rulebus.FilterPolicy(encode(pattern), scope=case["scope"])
        if case["scope"] == "MessageBody":
            return policy.matches(body=encode(body))
        return policy.matches(attributes=case["attributes"] or {})
    except rulebus.InvalidPatternError:
        return "invalid"


def test_corpora_are_present() -> None:
    assert len(CORPORA) >= 3, f"conformance corpora not found under {SHARED}"
    assert len(CASES) > 1000


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any]) -> None:
    assert outcome(case) == case["expected"]


@pytest.mark.parametrize("case", CASES[::7])
def test_case_from_bytes(case: dict[str, Any]) -> None:
    assert outcome(case, as_bytes=True) == case["expected"]


def test_all_eventbridge_patterns_of_the_corpora_compile_once_and_agree() -> None:
    """Compiled patterns are immutable: one compiled pattern gives each of its events' answers."""
    by_pattern: dict[str, list[tuple[str, bool]]] = {}
    for param in CASES:
        case = param.values[0]
        if case["kind"] == "eventbridge" and case["expected"] != "invalid":
            pattern, event, _ = texts(case)
            by_pattern.setdefault(pattern, []).append((event, case["expected"]))
    disagreements = []
    for pattern, events in by_pattern.items():
        compiled = rulebus.Pattern(pattern)
        for event, expected in events:
            if compiled.matches(event) != expected:
                disagreements.append((pattern, event, expected))
    assert disagreements == []
