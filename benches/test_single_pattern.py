"""One pattern, one ~1 KB event, one Python call per match: rulebus beside moto and LocalStack.

Run with `make bench` (pytest-benchmark). Each benchmark checks the match result; none checks a
time. For one table with ratios measured in one run, use `python benches/compare_single.py`.
"""

from __future__ import annotations

from typing import Any

import pytest
from single_cases import (
    CASE_IDS,
    CASES,
    EVENT,
    EVENT_BYTES,
    EVENT_STR,
    LOCALSTACK_MISSING,
    Case,
    localstack_matcher,
    moto_matcher,
    rulebus_matcher,
)

EVENT_FORMS: dict[str, Any] = {"bytes": EVENT_BYTES, "str": EVENT_STR, "dict": EVENT}

pytestmark = pytest.mark.parametrize("case", CASES, ids=CASE_IDS)


@pytest.mark.parametrize("form", list(EVENT_FORMS))
def test_rulebus(benchmark: Any, case: Case, form: str) -> None:
    benchmark.group = f"single pattern: {case.name}"
    matches = rulebus_matcher(case.pattern)
    assert benchmark(matches, EVENT_FORMS[form]) is case.expected


def test_moto(benchmark: Any, case: Case) -> None:
    benchmark.group = f"single pattern: {case.name}"
    matches = moto_matcher(case.pattern)
    assert benchmark(matches, EVENT) is case.expected


@pytest.mark.skipif(
    LOCALSTACK_MISSING is not None,
    reason=f"LocalStack's rule engine is not importable ({LOCALSTACK_MISSING})",
)
def test_localstack(benchmark: Any, case: Case) -> None:
    benchmark.group = f"single pattern: {case.name}"
    matches = localstack_matcher(case.pattern)
    assert benchmark(matches, EVENT) is case.expected
