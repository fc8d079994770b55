"""Shared pytest setup: the hypothesis profile and a count of the property cases that ran."""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

# About 300 cases per property keeps the suite well under a minute; raise it for a long fuzz run:
#   RULEBUS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q tests/test_properties.py
settings.register_profile(
    "rulebus",
    max_examples=int(os.environ.get("RULEBUS_FUZZ_EXAMPLES", "300")),
    deadline=None,  # no timed assertions
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("rulebus")

HYPOTHESIS_CASES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def cases() -> Counter[str]:
    """Count one case under a property's name: ``cases["name"] += 1``."""
    return HYPOTHESIS_CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not HYPOTHESIS_CASES:
        return
    terminalreporter.write_sep("-", "hypothesis cases run")
    for name, count in sorted(HYPOTHESIS_CASES.items()):
        terminalreporter.write_line(f"{count:8d}  {name}")
    terminalreporter.write_line(f"{sum(HYPOTHESIS_CASES.values()):8d}  total")
