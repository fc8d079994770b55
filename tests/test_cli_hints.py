"""``rulebus test-pattern``'s hints where AWS's message leaves the cause out: the envelope fields
an event lacks under ``--envelope``, and a pattern's numbers that are not finite. AWS's message
comes first, unchanged; the hint follows it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from rulebus.cli import cli
from rulebus.explain_hints import missing_envelope, non_finite_numbers

ENVELOPE = {
    "id": "1",
    "account": "123456789012",
    "source": "com.shop",
    "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1",
    "detail-type": "Order",
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_envelope_hint_names_the_missing_fields() -> None:
    event = {key: value for key, value in ENVELOPE.items() if key not in ("time", "region")}
    result = invoke("test-pattern", "--envelope", '{"source": ["com.shop"]}', json.dumps(event))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0] == "Parameter Event is not valid."
    assert lines[1].startswith('hint: the event lacks the envelope fields "time", "region", which')


def test_envelope_hint_for_an_event_that_is_not_an_object() -> None:
    result = invoke("test-pattern", "--envelope", '{"source": ["com.shop"]}', "[1]")
    assert result.exit_code == 2
    assert result.output.splitlines()[1] == "hint: the event must be a JSON object (an EventBridge event)"


def test_no_envelope_hint_for_a_complete_envelope() -> None:
    assert missing_envelope(ENVELOPE) is None
    assert missing_envelope({**ENVELOPE, "id": None}) is None  # present is enough, as for AWS
    assert missing_envelope({k: v for k, v in ENVELOPE.items() if k != "id"}) is not None


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ('{"price": [{"numeric": [">", -Infinity]}]}', "-Infinity is not a finite number"),
        ('{"price": [NaN]}', "NaN is not a finite number"),
        ('{"price": [{"numeric": ["<", 1e400]}]}', "1e400 is not a finite number"),
        ('{"a": [Infinity], "b": [NaN]}', "Infinity, NaN are not finite numbers"),
    ],
)
def test_non_finite_numbers_are_said_in_plain_words(pattern: str, named: str) -> None:
    result = invoke("test-pattern", pattern, json.dumps({"price": 5}))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0].startswith("Event pattern is not valid. Reason: ")  # AWS's message, first
    assert any(line.startswith(f"hint: {named}") for line in lines)


def test_finite_patterns_get_no_number_hint() -> None:
    assert non_finite_numbers('{"price": [{"numeric": [">", 1e300]}]}') is None
    assert non_finite_numbers("not json") is None
