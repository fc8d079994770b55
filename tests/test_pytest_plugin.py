"""The pytest plugin for programs built on rulebus (rulebus.pytest_plugin): ``rulebus_broker`` on
each store with ``rulebus_clock``, and ``rulebus.testing.run_until_idle``; run inside a pytest of
its own (pytester)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rulebus import Broker
from rulebus.testing import FakeClock, run_until_idle

ROOT = Path(__file__).resolve().parents[1]

PROGRAM_TEST = """
import json
from rulebus.testing import run_until_idle

def test_a_failed_batch_comes_back(rulebus_broker, rulebus_clock, rulebus_store, tmp_path):
    calls = []

    def ship(event, context):
        calls.append([record["body"] for record in event["Records"]])
        if len(calls) == 1:
            raise RuntimeError("first try fails")

    orders = rulebus_broker.queue("orders", visibility_timeout=30)
    rulebus_broker.function("ship", ship)
    rulebus_broker.create_event_source_mapping(function_name="ship", event_source_arn=orders)
    orders.send("o-1")
    assert run_until_idle(rulebus_broker) == 1
    assert run_until_idle(rulebus_broker) == 0          # in flight: nothing to do yet
    rulebus_clock.advance(31)
    assert run_until_idle(rulebus_broker) == 1
    assert calls == [["o-1"], ["o-1"]]
    assert (tmp_path / "rulebus.db").exists() == (rulebus_store == "sqlite")
"""


@pytest.fixture(autouse=True)
def plugin_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest loads the plugin once, by name, whether or not rulebus is installed
    (an installed rulebus would register it by its entry point too)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def test_the_package_registers_the_plugin() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.entry-points.pytest11]", 1)[1].split("\n[", 1)[0]
    assert 'rulebus = "rulebus.pytest_plugin"' in section


def test_rulebus_broker_runs_each_test_on_each_store(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_program=PROGRAM_TEST)
    result = pytester.runpytest("-p", "rulebus.pytest_plugin", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*test_a_failed_batch_comes_back?memory? PASSED*", "*?sqlite? PASSED*"])


def test_one_store_can_be_chosen(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_program=PROGRAM_TEST
        + """
import pytest

@pytest.mark.parametrize("rulebus_store", ["sqlite"])
def test_on_sqlite_only(rulebus_broker, rulebus_store, tmp_path):
    rulebus_broker.queue("q").send("kept")
    assert (tmp_path / "rulebus.db").exists()
"""
    )
    result = pytester.runpytest("-p", "rulebus.pytest_plugin", "-k", "sqlite_only")
    result.assert_outcomes(passed=1, deselected=2)


def test_a_failing_program_test_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_program="""
def test_clock_starts_where_it_says(rulebus_broker, rulebus_clock):
    assert rulebus_clock() == 0
"""
    )
    result = pytester.runpytest("-p", "rulebus.pytest_plugin")
    result.assert_outcomes(failed=2)


def test_the_fake_clock_moves_only_forward() -> None:
    clock = FakeClock(100.0)
    assert clock() == 100.0
    assert clock.advance(2.5) == 102.5
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)


def test_run_until_idle_runs_asynchronous_invocations(tmp_path: Path) -> None:
    clock = FakeClock()
    broker = Broker(clock=clock, background_functions=False, background_retries=False)
    try:
        seen: list[str] = []
        function = broker.function(
            "on-alert", lambda event, context: seen.append(event["Records"][0]["Sns"]["Message"])
        )
        broker.topic("alerts").subscribe(function)
        broker.topic("alerts").publish("disk full")
        assert seen == []
        assert run_until_idle(broker) == 1
        assert seen == ["disk full"]
        assert run_until_idle(broker) == 0
    finally:
        broker.close()
