"""The conformance corpora (``shared/conformance`` beside the repository, or $RULEBUS_SHARED), read
once: the cases and their texts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(os.environ.get("RULEBUS_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))
CORPORA = sorted((SHARED / "conformance").glob("*.jsonl"))

# case id -> the AWS fact that overrides the source's expectation. Empty: no case deviates.
KNOWN_DEVIATIONS: dict[str, str] = {}


def load_cases() -> list[Any]:
    cases = []
    for path in CORPORA:
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            deviation = KNOWN_DEVIATIONS.get(case["id"])
            marks = [pytest.mark.xfail(reason=deviation, strict=True)] if deviation else []
            cases.append(pytest.param(case, id=case["id"], marks=marks))
    return cases


CASES = load_cases()


def texts(case: dict[str, Any]) -> tuple[str, str | None, str | None]:
    pattern = case.get("pattern_raw") or json.dumps(case["pattern"])
    event = case.get("event_raw")
    if event is None and case.get("event") is not None:
        event = json.dumps(case["event"])
    body = case.get("body_raw")
    if body is None and case.get("body") is not None:
        body = json.dumps(case["body"])
    return pattern, event, body
